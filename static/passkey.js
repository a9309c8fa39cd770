// The passkey pages of the sign-in popup (server/rejoinder/api/passkeys.py), on our own origin.
//
// Adding (#passkey-add): the comments frame that opened this popup hands us a ticket by postMessage
// (never in the URL); we ask the server for the options with it, and when the reader presses the
// button the browser makes the passkey, which goes back to the server with the ticket.
// Signing in (#passkey-login): the options are on the page; the button asks the browser for a
// signature, which the form posts; the server's answer is the usual last page of a sign-in.
(function () {
  "use strict";
  var errorBox = document.getElementById("passkey-error");
  // The page's words in the reader's language (api/locales via the server), English where one is missing.
  var words = {};
  try { words = JSON.parse(document.body.getAttribute("data-words") || "{}"); } catch (e) { /* English */ }
  function w(key, english, slots) {
    var text = typeof words[key] === "string" ? words[key] : english;
    return text.replace(/\{(\w+)\}/g, function (slot, name) {
      return slots && Object.prototype.hasOwnProperty.call(slots, name) ? slots[name] : slot;
    });
  }

  function b64urlToBytes(s) {
    var bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bytesToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (c) { return { type: c.type, id: b64urlToBytes(c.id), transports: c.transports }; });
  }
  // The server's JSON options as the browser wants them (ArrayBuffers where the JSON has base64url).
  function creationOptions(o) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    var copy = Object.assign({}, o, { challenge: b64urlToBytes(o.challenge),
      user: Object.assign({}, o.user, { id: b64urlToBytes(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials) });
    return copy;
  }
  function requestOptions(o) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    return Object.assign({}, o, { challenge: b64urlToBytes(o.challenge), allowCredentials: descriptors(o.allowCredentials) });
  }
  // The browser's credential as JSON (what PublicKeyCredential.toJSON() gives where it exists).
  function asJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    var r = cred.response, out = { id: cred.id, rawId: bytesToB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}, response: {
        clientDataJSON: bytesToB64url(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = bytesToB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bytesToB64url(r.authenticatorData);
      out.response.signature = bytesToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bytesToB64url(r.userHandle);
    }
    return out;
  }
  function say(message) {
    if (!errorBox) return;
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }
  function refused(e) {
    // The reader closed the browser's dialog, or it timed out: nothing is wrong, they may try again.
    if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) return w("notUsed", "The passkey was not used. Try again when you are ready.");
    if (e && e.name === "InvalidStateError") return w("exists", "This device has a passkey for this account already.");
    if (e && e.name === "SecurityError") return w("notAllowed", "This browser does not allow passkeys for this address.");
    return (e && e.message) || w("wrong", "Something went wrong. Please try again.");
  }
  function ourOpener() {
    try {
      if (window.opener && window.opener.location.origin === window.location.origin) return window.opener;
    } catch (e) { /* an opener of another origin: not ours */ }
    return null;
  }
  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      credentials: "omit" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var refusal = new Error((data.error && data.error.message) || w("serverRefused", "The server refused ({status}).", { status: String(r.status) }));
          refusal.fromServer = true;
          throw refusal;
        }
        return data;
      });
    });
  }

  var add = document.getElementById("passkey-add");
  if (add) {
    var who = document.getElementById("passkey-who");
    var button = document.getElementById("passkey-create");
    var opener = ourOpener();
    var ticket = null, options = null;
    if (!window.PublicKeyCredential) {
      who.textContent = w("cannotMake", "This browser cannot make passkeys.");
      return;
    }
    if (!opener) {
      who.textContent = w("openFromComments", "Open this from the comments: choose “Add a passkey” there.");
      return;
    }
    window.addEventListener("message", function (event) {
      var m = event.data && event.data.rejoinder;
      if (event.source !== opener || event.origin !== window.location.origin || !m || m.type !== "passkey.ticket") return;
      if (ticket || typeof m.ticket !== "string") return;
      ticket = m.ticket;
      post("/api/auth/passkeys/options", { ticket: ticket }).then(function (data) {
        options = data.options;
        who.textContent = w("for", "For {name} ({provider}).", { name: data.name, provider: data.provider });
        button.disabled = false;
        add.setAttribute("data-state", "ready");
        button.focus();
      }, function (e) { say(e.message); });
    });
    button.addEventListener("click", function () {
      if (!options) return;
      button.disabled = true;
      say("");
      navigator.credentials.create({ publicKey: creationOptions(options) }).then(function (cred) {
        return post("/api/auth/passkeys", { ticket: ticket, credential: asJSON(cred) });
      }).then(function () {
        add.setAttribute("data-state", "added");
        add.querySelector("h1").textContent = w("added", "Passkey added");
        who.textContent = w("nextTime", "Next time, choose “Log in with Passkey” under the comments. You can close this window.");
        button.hidden = true;
        opener.postMessage({ rejoinder: { type: "passkey.added" } }, window.location.origin);
      }, function (e) {
        say(refused(e));
        // A refusal by the server used the ticket up; the browser's own refusal did not.
        if (!e || !e.fromServer) button.disabled = false;
      });
    });
    opener.postMessage({ rejoinder: { type: "passkey.ready" } }, window.location.origin);
    return;
  }

  var form = document.getElementById("passkey-login");
  if (form) {
    var use = document.getElementById("passkey-use");
    if (!window.PublicKeyCredential) {
      say(w("cannotUse", "This browser cannot use passkeys."));
      use.disabled = true;
      return;
    }
    var opts = JSON.parse(form.getAttribute("data-options"));
    use.addEventListener("click", function () {
      use.disabled = true;
      say("");
      navigator.credentials.get({ publicKey: requestOptions(opts) }).then(function (cred) {
        form.elements.credential.value = JSON.stringify(asJSON(cred));
        form.submit();
      }, function (e) {
        say(refused(e));
        use.disabled = false;
      });
    });
  }
})();
