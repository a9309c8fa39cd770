// The login popup's last page. After a good sign-in, hand the code to the frame or
// dashboard that opened this popup, but only when that opener is a page of this
// same origin: a page of any other origin that opened the popup gets nothing, and
// the code never leaves this origin. When there is no such opener (a provider cut
// window.opener), show the confirmation form instead: the reader confirms, naming
// the site, and the frame then collects its session by polling (api/auth.py).
(function () {
  var result = document.getElementById("login-result");
  if (!result) return;
  var ok = result.getAttribute("data-ok") === "1";
  var code = result.getAttribute("data-code");
  var opener = null;
  try {
    // Reading a cross-origin opener's location throws: such an opener is not ours.
    if (window.opener && window.opener.location.origin === window.location.origin) opener = window.opener;
  } catch (e) {
    opener = null;
  }
  if (opener) {
    opener.postMessage({ rejoinder: { type: ok ? "login.done" : "login.failed", code: code || null } },
                       window.location.origin);
    if (ok) setTimeout(function () { window.close(); }, 600);
    return;
  }
  var confirm = document.getElementById("login-confirm");
  var handed = document.getElementById("login-handed");
  if (ok && code && confirm && handed) {
    handed.hidden = true;
    confirm.hidden = false;
  }
})();
