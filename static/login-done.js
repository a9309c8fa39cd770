// The login popup's last page: tell the iframe that opened it, then close.
// The iframe is on this same origin; if the provider cut window.opener, the
// iframe collects its session by asking the server instead (see api/auth.py).
(function () {
  var result = document.getElementById("login-result");
  if (!result) return;
  var message = { rejoinder: { type: result.getAttribute("data-ok") === "1" ? "login.done" : "login.failed",
                               code: result.getAttribute("data-code") || null } };
  try {
    if (window.opener) window.opener.postMessage(message, window.location.origin);
  } catch (e) { /* the opener is gone: the iframe polls the server */ }
  if (result.getAttribute("data-ok") === "1") setTimeout(function () { window.close(); }, 600);
})();
