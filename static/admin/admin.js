// The moderation dashboard: hand-written, no framework, no build step.
// User text reaches the DOM only as textContent; a comment's body is the
// server-sanitised html. The session is a bearer token kept in this origin's
// own storage, never in a URL: a one-time link's token arrives in the fragment
// and is traded for a session with a POST at once.
"use strict";
(function () {
  var TOKEN_KEY = "rejoinder.admin.token";
  var SITE_KEY = "rejoinder.admin.site";
  var PAGE = 50;
  var ACTIONS = { a: "approve", s: "spam", n: "ham", r: "reject", d: "delete", u: "restore" };
  // Message keys by report reason (locales/en.json); the actions' own are actions.<action>, done.<action>
  // and bulkDone.<action>.
  var REPORT_REASONS = { spam: "report.spam", abuse: "report.abuse", off_topic: "report.offTopic",
                         other: "report.other" };

  var $ = function (id) { return document.getElementById(id); };

  var token = null;
  var site = null;
  var view = "pending";
  var rows = [];          // the comments shown, in order
  var next = null;        // the cursor of the next page
  var selected = new Set();
  var socket = null;
  var socketDelay = 500;
  var refreshTimer = 0;
  var overviewSpan = 30;
  var overviewTimer = 0;

  // --- words -------------------------------------------------------------------------
  // The dashboard's words are locales/<lang>.json: flat keys, a count's text as {"one": ..., "other": ...}
  // picked by Intl.PluralRules ("=0" optional), a value as {name} in a whole sentence. English fills any
  // key a language lacks; index.html carries the English too, so the page reads right if no file loads.
  var LANGS = ["ar", "cs", "de", "en", "es", "fr", "he", "hi", "id", "it", "ja", "ko", "nl", "pl", "pt", "ru",
               "sv", "tr", "uk", "zh"];
  var RTL = ["ar", "he"];
  var LANG = pick(navigator.languages || [navigator.language]);
  var messages = {};
  var plurals, numbers, tenths, percents, dates, lists;
  useLanguage(LANG);

  // The first of the browser's languages that we have: its exact tag, else its language ("pt-BR" -> "pt").
  function pick(wanted) {
    for (var i = 0; i < wanted.length; i++) {
      var tag = String(wanted[i] || "").toLowerCase();
      if (LANGS.indexOf(tag) >= 0) return tag;
      if (LANGS.indexOf(tag.split("-")[0]) >= 0) return tag.split("-")[0];
    }
    return "en";
  }

  function useLanguage(lang) {
    LANG = lang;
    plurals = new Intl.PluralRules(LANG);
    numbers = new Intl.NumberFormat(LANG);
    tenths = new Intl.NumberFormat(LANG, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    percents = new Intl.NumberFormat(LANG, { style: "percent", maximumFractionDigits: 0 });
    // The shape Date.prototype.toLocaleString() gives: numeric date and time, to the second.
    dates = new Intl.DateTimeFormat(LANG, { year: "numeric", month: "numeric", day: "numeric",
                                            hour: "numeric", minute: "numeric", second: "numeric" });
    lists = Intl.ListFormat ? new Intl.ListFormat(LANG, { type: "conjunction", style: "narrow" }) : null;
    if (window.RejoinderCharts) window.RejoinderCharts.use(LANG, t);
  }

  function own(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  // Small whole numbers as they are (they read the same in every language we have), others grouped.
  function number(n) {
    return Math.abs(n) < 1000 && Number.isInteger(n) ? String(n) : numbers.format(n);
  }

  function message(key, vars) {
    var m = own(messages, key) ? messages[key] : key;
    if (typeof m === "string") return m;
    var n = Number(vars.n) || 0;
    return (n === 0 && m["=0"]) || m[plurals.select(n)] || m.other || key;
  }

  // The message of `key` with each {name} replaced by vars.name; a count's text picked by vars.n.
  function t(key, vars) {
    vars = vars || {};
    return message(key, vars).replace(/\{(\w+)\}/g, function (whole, name) {
      if (!own(vars, name)) return whole;
      return typeof vars[name] === "number" ? number(vars[name]) : String(vars[name]);
    });
  }

  // The same as text and nodes, for append(): a value that is a Node (a link, a <code>) goes in as it is.
  function tNodes(key, vars) {
    vars = vars || {};
    return message(key, vars).split(/\{(\w+)\}/).map(function (piece, i) {
      if (i % 2 === 0) return piece;
      if (!own(vars, piece)) return "{" + piece + "}";
      var v = vars[piece];
      return v instanceof Node ? v : typeof v === "number" ? number(v) : String(v);
    }).filter(function (piece) { return piece !== ""; });
  }

  // A message's own text if the language has one, else `fallback` (a code the server sent, shown as it is).
  function tOr(key, fallback, vars) { return own(messages, key) ? t(key, vars) : fallback; }

  // "1 abusive, 2 spam": a list of figures, the language's way.
  function listOf(items) { return lists ? lists.format(items) : items.join(", "); }

  function percent(fraction) { return percents.format(fraction); }

  function fetchMessages(lang) {
    return fetch("/admin/locales/" + lang + ".json", { credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error("not a locale");
      return data;
    });
  }

  // Resolves (never rejects) once the words are in: the language's over English's; English
  // (the page's own) when the language's file cannot be read.
  function loadMessages() {
    var english = fetchMessages("en");
    var wanted = LANG === "en" ? english : fetchMessages(LANG);
    return Promise.all([english.catch(function () { return {}; }), wanted.catch(function () { return null; })])
      .then(function (got) {
        useLanguage(got[1] ? LANG : "en");
        messages = Object.assign({}, got[0], got[1] || {});
        translatePage();
      });
  }

  // data-i18n="key" replaces an element's text (its children marked data-slot="name" stay, at {name});
  // data-i18n-placeholder, -aria-label and -title set those attributes. A key with no message keeps the HTML's.
  function translatePage() {
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      var key = node.getAttribute("data-i18n");
      if (!own(messages, key)) return;
      var slots = {};
      Array.prototype.forEach.call(node.children, function (child) {
        if (child.hasAttribute("data-slot")) slots[child.getAttribute("data-slot")] = child;
      });
      node.replaceChildren.apply(node, tNodes(key, slots));
    });
    ["placeholder", "aria-label", "title"].forEach(function (attr) {
      document.querySelectorAll("[data-i18n-" + attr + "]").forEach(function (node) {
        var key = node.getAttribute("data-i18n-" + attr);
        if (own(messages, key)) node.setAttribute(attr, t(key));
      });
    });
    document.documentElement.lang = LANG;
    document.documentElement.dir = RTL.indexOf(LANG) >= 0 ? "rtl" : "ltr";
  }

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (e) { /* storage denied: the session lasts this page */ }
  }
  function stored(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.append(c); });
    return node;
  }

  function say(message) {
    var live = $("announce");
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 30);
  }
  function fail(message) {
    var box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  function ApiFailure(status, error) {
    this.status = status;
    this.code = (error && error.code) || "network";
    this.message = (error && error.message) || t("error.network");
  }

  // One request with the session; resolves to the Response when it is a success,
  // else rejects with the server's JSON error (and a 401 signs the dashboard out).
  function send(method, path, body, contentType) {
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
    return fetch(path, { method: method, headers: headers, credentials: "omit", body: body })
      .catch(function () { throw new ApiFailure(0, null); })
      .then(function (r) {
        if (r.ok) return r;
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (r.status === 401 && token) signedOut(t("error.sessionEnded"));
          throw new ApiFailure(r.status, data.error);
        });
      });
  }

  function api(method, path, body) {
    return send(method, path, body === undefined ? undefined : JSON.stringify(body)).then(function (r) {
      return r.json().catch(function () { return {}; });
    });
  }

  // --- sign-in -----------------------------------------------------------------

  function show(section) {
    ["signin", "nosites", "desk"].forEach(function (id) { $(id).hidden = id !== section; });
    $("who").hidden = section === "signin";
  }

  function signedOut(message) {
    token = null;
    store(TOKEN_KEY, null);
    closeSocket();
    show("signin");
    $("signin-status").textContent = message || "";
    loadProviders();
  }

  function b64url(bytes) {
    return btoa(String.fromCharCode.apply(null, Array.from(bytes)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var login = { secret: "", hash: "", popup: null };
  function prepareLogin() {
    var secret = b64url(crypto.getRandomValues(new Uint8Array(32)));
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)).then(function (d) {
      login.secret = secret;
      login.hash = b64url(new Uint8Array(d));
    });
  }

  function loadProviders() {
    var box = $("providers");
    if (box.childElementCount) return;
    api("GET", "/api/admin/providers").then(function (data) {
      data.providers.forEach(function (p) {
        var button = el("button", { type: "button", "data-provider": p.id, text: t("signIn.with", { provider: p.name }) });
        button.addEventListener("click", function () { startLogin(p.id); });
        box.append(button);
      });
      if (!data.providers.length) box.append(el("p", { text: t("signIn.noProviders") }));
    }, function (e) { $("signin-status").textContent = e.message; });
    prepareLogin();
  }

  function startLogin(provider) {
    if (!login.hash) return;
    var q = new URLSearchParams({ for: "admin", h: login.hash });
    login.popup = window.open("/auth/" + encodeURIComponent(provider) + "/start?" + q.toString(),
                              "rejoinder-login", "popup,width=520,height=680");
    $("signin-status").textContent = login.popup ? t("signIn.finishInPopup") : t("signIn.popupBlocked");
  }

  window.addEventListener("message", function (event) {
    // Only the popup we opened, on our own origin, can say how the login went.
    if (!login.popup || event.source !== login.popup || event.origin !== location.origin) return;
    var m = event.data && event.data.rejoinder;
    if (!m || m.type !== "login.done" || typeof m.code !== "string") return;
    api("POST", "/api/auth/handover", { secret: login.secret, code: m.code }).then(function (data) {
      login.popup = null;
      token = data.token;
      store(TOKEN_KEY, token);
      start();
    }, function (e) { $("signin-status").textContent = e.message; });
  });

  // A one-time link's token, taken out of the address bar (and history) before anything else happens.
  function takeLink() {
    var match = /^#token=([A-Za-z0-9_-]{10,200})$/.exec(location.hash);
    history.replaceState(null, "", location.pathname);
    return match ? match[1] : null;
  }

  function exchangeLink(link) {
    if (!link) return Promise.resolve();
    return api("POST", "/api/admin/session", { token: link }).then(function (data) {
      token = data.token;
      store(TOKEN_KEY, token);
      if (data.sites.length) store(SITE_KEY, data.sites[0].id);
    }, function (e) {
      $("signin-status").textContent = e.code === "link_invalid" ? t("signIn.linkInvalid") : e.message;
    });
  }

  function start() {
    if (!token) return signedOut($("signin-status").textContent);
    api("GET", "/api/admin/me").then(function (data) {
      $("me").textContent = data.me.name;
      if (!data.sites.length) {
        show("nosites");
        $("nosites-command").textContent = "rejoinder admin add SITE " + data.me.identity;
        return;
      }
      var picker = $("site");
      picker.replaceChildren.apply(picker, data.sites.map(function (s) {
        return el("option", { value: s.id, text: s.name ? t("header.siteOption", { name: s.name, id: s.id }) : s.id });
      }));
      var wanted = stored(SITE_KEY);
      picker.value = data.sites.some(function (s) { return s.id === wanted; }) ? wanted : data.sites[0].id;
      show("desk");
      openSite(picker.value);
    }, function (e) { if (e.status !== 401) fail(e.message); });
  }

  // --- one site ----------------------------------------------------------------

  function base() { return "/api/admin/sites/" + encodeURIComponent(site); }

  function openSite(id) {
    site = id;
    store(SITE_KEY, id);
    closeSocket();
    openSocket();
    setView("pending");
  }

  function setView(name) {
    view = name;
    document.querySelectorAll(".tabs [data-view]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-view") === name ? "true" : "false");
    });
    var commentsView = name === "pending" || name === "spam" || name === "recent" || name === "reported";
    $("comments-view").hidden = !commentsView;
    $("overview-view").hidden = name !== "overview";
    window.clearTimeout(overviewTimer);
    $("bans-view").hidden = name !== "bans";
    $("settings-view").hidden = name !== "settings";
    $("webhook-view").hidden = name !== "webhook";
    $("porting-view").hidden = name !== "porting";
    fail("");
    if (commentsView) load(false);
    else if (name === "overview") loadOverview();
    else if (name === "bans") loadBans();
    else if (name === "webhook") loadWebhook();
    else if (name === "porting") resetImport();
    else loadSettings();
    loadCounts();
  }

  // --- the overview ------------------------------------------------------------------

  // What held or caught a comment: message keys by the server's reason; Akismet is a name, not a word.
  var REASONS = {
    honeypot: "reason.honeypot", too_fast: "reason.tooFast", too_many_links: "reason.tooManyLinks",
    blocked_word: "reason.blockedWord", banned: "reason.banned",
    policy_hold_all: "reason.policyHoldAll", policy_hold_links: "reason.policyHoldLinks",
    policy_first_guest: "reason.policyFirstGuest", akismet_unavailable: "reason.akismetUnavailable",
    akismet_error: "reason.akismetError"
  };
  function reasonLabel(reason) {
    if (reason === "akismet") return "Akismet";
    return REASONS[reason] ? tOr(REASONS[reason], reason) : reason;
  }
  function series() {
    return [{ key: "approved", label: t("overview.published"), countKey: "overview.publishedCount", cls: "s-approved" },
            { key: "pending", label: t("overview.held"), countKey: "overview.heldCount", cls: "s-pending" },
            { key: "spam", label: t("overview.spam"), countKey: "overview.spamCount", cls: "s-spam" }];
  }

  function loadOverview() {
    var forSite = site;
    window.clearTimeout(overviewTimer);
    return api("GET", base() + "/overview?days=" + overviewSpan).then(function (data) {
      if (forSite !== site || view !== "overview") return;
      drawOverview(data);
      // Readers come and go: the figures refresh while the overview is open.
      overviewTimer = window.setTimeout(loadOverview, 10000);
    }, function (e) { fail(e.message); });
  }

  function drawOverview(data) {
    var C = window.RejoinderCharts;
    var feed = location.origin + "/api/feeds/sites/" + encodeURIComponent(site) + ".atom";
    var recent = location.origin + "/recent/" + encodeURIComponent(site) + "?count=5";
    $("overview-feed").href = feed;
    $("overview-recent").href = recent;
    // The snippet is pasted into the blog: its title is in the moderator's language, the likely blog's.
    var iframeTitle = t("overview.iframeTitle").replace(/[&"<>]/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
    $("overview-recent-code").textContent = '<iframe src="' + recent + '" title="' + iframeTitle + '" ' +
      'style="border:0;width:100%;height:24em"></iframe>';
    var totals = data.totals, all = totals.approved + totals.pending + totals.spam;
    var mail = data.deliveries.mail, hooks = data.deliveries.webhooks;
    $("overview-stats").replaceChildren(
      C.figure(t("overview.readingNow"), numbers.format(data.readers_now),
               t("overview.readersNote", { n: data.readers_now }), "readers"),
      C.figure(t("overview.newComments"), numbers.format(all), t("overview.inLastDays", { n: overviewSpan }), "new"),
      C.figure(t("overview.caughtAsSpam"), numbers.format(totals.spam),
               all ? t("overview.shareOfNew", { percent: percent(Math.round(totals.spam / all * 100) / 100) }) : "", "spam"),
      C.rate(t("overview.mailDelivered"), mail.success_rate,
             t("overview.mailDetail", { sent: mail.sent, n: mail.deferred + mail.failed }), "mail"),
      C.rate(t("overview.webhookDeliveries"), hooks.success_rate,
             t("overview.webhookDetail", { delivered: hooks.ok, n: hooks.failed }), "webhooks"));
    $("overview-days").replaceChildren(C.stackedDays(data.days, series(), t("overview.perDay")));
    $("overview-caught").replaceChildren(C.bars(data.caught.map(function (c) {
      return { key: c.reason, label: reasonLabel(c.reason), value: c.comments };
    }), t("overview.caughtTitle"), t("overview.caughtEmpty")));
    $("overview-busiest").replaceChildren(C.bars(data.busiest.map(function (b) {
      return { key: b.id, label: b.title || b.url || b.page, value: b.new_comments,
               href: b.url && /^https?:\/\//.test(b.url) ? b.url : null };
    }), t("overview.busiestTitle"), t("overview.busiestEmpty")));
  }

  function loadCounts() {
    return api("GET", base()).then(function (data) {
      $("count-pending").textContent = t("tabs.count", { n: data.counts.pending });
      $("count-spam").textContent = t("tabs.count", { n: data.counts.spam });
      $("count-reported").textContent = data.counts.reported ? t("tabs.count", { n: data.counts.reported }) : "";
      return data;
    }, function () {});
  }

  function query(cursor) {
    var q = new URLSearchParams({ list: view, limit: String(PAGE) });
    var text = $("q").value.trim();
    var author = $("author").value.trim();
    if (text) q.set("q", text);
    if (author) q.set("author", author);
    if (cursor) q.set("cursor", cursor);
    return base() + "/comments?" + q.toString();
  }

  // Reload the list; keep the focused row (or its place) so a live refresh never
  // takes the moderator's place from under them.
  function load(more) {
    var focused = focusedRow();
    var focusKey = focused && focused.getAttribute("data-key");
    var focusIndex = focused ? rows.findIndex(function (c) { return key(c) === focusKey; }) : -1;
    return api("GET", query(more ? next : null)).then(function (data) {
      rows = more ? rows.concat(data.comments) : data.comments;
      next = data.next;
      var present = new Set(rows.map(key));
      selected.forEach(function (k) { if (!present.has(k)) selected.delete(k); });
      render();
      if (focusKey) {
        var again = rowByKey(focusKey) || rowAt(Math.min(focusIndex, rows.length - 1));
        if (again) again.focus();
        else $("list").focus();
      }
    }, function (e) { if (e.status !== 401) fail(e.message); });
  }

  function key(c) { return c.tid + ":" + c.id; }
  function rowByKey(k) { return document.querySelector('#list > li[data-key="' + CSS.escape(k) + '"]'); }
  function rowAt(i) { return i < 0 ? null : $("list").children[i] || null; }
  function focusedRow() {
    var a = document.activeElement;
    return a && a.closest ? a.closest("#list > li") : null;
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : dates.format(d);
  }

  function row(c) {
    var k = key(c);
    var title = c.thread.title || c.thread.url || c.thread.id;
    var name = c.author.name || t("row.anonymous");
    var status = tOr("status." + c.status, c.status);
    var check = el("input", { type: "checkbox", "aria-label": t("row.select", { name: name }) });
    check.checked = selected.has(k);
    check.addEventListener("change", function () {
      if (check.checked) selected.add(k); else selected.delete(k);
      updateSelection();
    });
    var thread = c.thread.url ? el("a", { href: c.thread.url, target: "_blank", rel: "noopener noreferrer", text: title })
                              : el("span", { text: title });
    var meta = el("p", { class: "meta" }, [
      el("strong", { class: "author", text: name }),
      el("span", { class: "badge status-" + c.status, text: status }),
      c.pinned ? el("span", { class: "badge", text: t("row.pinned") }) : null,
      c.thread.locked ? el("span", { class: "badge", text: t("row.threadLocked") }) : null,
      el("span", { class: "when", text: when(c.created) }),
      el("span", { class: "where" }, tNodes("row.on", { thread: thread })),
    ]);
    var body = el("div", { class: "body" });
    body.innerHTML = c.html;  // sanitised by the server (render.py): the only HTML we insert
    var reports = c.reports && c.reports.count ? listOf(Object.keys(c.reports.reasons).map(function (r) {
      var n = c.reports.reasons[r];
      return REPORT_REASONS[r] ? t(REPORT_REASONS[r], { n: n }) : t("report.unknown", { n: n, reason: r });
    })) : "";
    var facts = el("p", { class: "facts" }, [
      reports ? el("span", { class: "reports", text: t("row.reportedBy", { n: c.reports.count, reasons: reports }) }) : null,
      // The server's own codes (spam.py), as they are: what a moderator looks up.
      c.reasons.length ? el("span", { text: t("row.why", { reasons: listOf(c.reasons) }) }) : null,
      el("span", { text: (c.author.kind === "user" ? (c.author.provider || t("row.user")) : t("row.guest")) }),
      c.identity ? el("span", { class: "hash", title: t("row.identity"),
                                text: t("row.identityValue", { value: c.identity }) }) : null,
      c.email_hash ? el("span", { class: "hash", title: t("row.emailHash"),
                                  text: t("row.emailHashValue", { value: c.email_hash }) }) : null,
      c.ip_hash ? el("span", { class: "hash", title: t("row.ipHash"),
                               text: t("row.ipHashValue", { value: c.ip_hash }) }) : null,
    ]);
    var buttons = el("div", { class: "actions" });
    var actions = c.status === "deleted" ? (c.restorable ? ["restore"] : []) :
      ["approve", "reject", "spam", "ham", "delete"].filter(function (a) {
        return !((a === "approve" && c.status === "approved") || (a === "reject" && c.status === "rejected") ||
                 (a === "spam" && c.status === "spam") || (a === "ham" && c.status !== "spam"));
      });
    if (reports && c.status === "approved") actions.unshift("dismiss");
    actions.forEach(function (a) {
      buttons.append(el("button", { type: "button", "data-act": a, class: a === "approve" ? "primary" : "",
                                    text: t("actions." + a) }));
    });
    if (c.status === "approved" && c.parent === null) {
      buttons.append(el("button", { type: "button", "data-pin": c.pinned ? "off" : "on",
                                    text: c.pinned ? t("row.unpin") : t("row.pin") }));
    }
    buttons.append(el("button", { type: "button", "data-lock": c.thread.locked ? "off" : "on",
                                  text: c.thread.locked ? t("row.unlockThread") : t("row.lockThread") }));
    if (c.identity) buttons.append(el("button", { type: "button", "data-ban": "identity", text: t("row.banIdentity") }));
    if (c.email_hash) buttons.append(el("button", { type: "button", "data-ban": "email", text: t("row.banEmail") }));
    if (c.ip_hash) buttons.append(el("button", { type: "button", "data-ban": "ip", text: t("row.banIp") }));
    buttons.append(el("button", { type: "button", "data-more": "1", text: t("row.moreByAuthor") }));
    var li = el("li", { class: "row", tabindex: "0", "data-key": k,
                        "aria-label": t("row.label", { name: name, status: status, thread: title }) },
                [check, el("div", { class: "main" }, [meta, body, facts, buttons])]);
    li.commentData = c;
    return li;
  }

  function render() {
    var list = $("list");
    list.replaceChildren.apply(list, rows.map(row));
    $("empty").hidden = rows.length > 0;
    $("more").hidden = !next;
    updateSelection();
  }

  function updateSelection() {
    $("selected-count").textContent = t("bulk.selected", { n: selected.size });
    $("select-all").checked = rows.length > 0 && selected.size === rows.length;
  }

  function act(c, action) {
    return api("POST", base() + "/comments/" + c.tid + "/" + c.id + "/" + action).then(function (data) {
      say(t("done." + action, { name: c.author.name || t("row.anonymous") }));
      if (data.akismet === "failed") fail(t("done.akismetFailed"));
      return refreshSoon(0);
    }, function (e) { fail(e.message); });
  }

  function bulk(action) {
    var items = rows.filter(function (c) { return selected.has(key(c)); })
      .map(function (c) { return { tid: c.tid, cid: c.id }; });
    if (!items.length) return say(t("bulk.selectFirst"));
    api("POST", base() + "/bulk", { action: action, items: items }).then(function (data) {
      var ok = data.results.filter(function (r) { return r.ok; }).length;
      say(t("bulkDone." + action, { ok: ok, n: items.length }));
      selected.clear();
      refreshSoon(0);
    }, function (e) { fail(e.message); });
  }

  function setThread(c, body) {
    return api("PATCH", base() + "/threads/" + c.tid, body).then(function () {
      say(t(body.locked === true ? "thread.locked" : body.locked === false ? "thread.unlocked" :
            body.pinned ? "thread.pinned" : "thread.unpinned"));
      refreshSoon(0);
    }, function (e) { fail(e.message); });
  }

  // done: the message key of what is said after (banned.identity, .email, .ip or .address).
  function ban(kind, value, done) {
    var body = kind === "email" && value.indexOf("@") > 0 ? { kind: kind, email: value } : { kind: kind, value: value };
    return api("POST", base() + "/bans", body).then(function () {
      say(t(done));
      if (view === "bans") loadBans();
    }, function (e) { fail(e.message); });
  }

  $("list").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    var li = event.target.closest("#list > li");
    if (!button || !li) return;
    var c = li.commentData;
    li.focus();
    if (button.dataset.act) act(c, button.dataset.act);
    else if (button.dataset.pin) setThread(c, { pinned: button.dataset.pin === "on" ? c.id : null });
    else if (button.dataset.lock) setThread(c, { locked: button.dataset.lock === "on" });
    else if (button.dataset.ban) {
      var value = { identity: c.identity, email: c.email_hash, ip: c.ip_hash }[button.dataset.ban];
      ban(button.dataset.ban, value, "banned." + button.dataset.ban);
    } else if (button.dataset.more) {
      $("q").value = "";
      $("author").value = c.identity || c.author.name;
      setView("recent");
    }
  });

  // --- keyboard ------------------------------------------------------------------

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || $("desk").hidden || $("comments-view").hidden) return;
    var typing = event.target;
    if (typing && (typing.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(typing.tagName)) &&
        typing.type !== "checkbox") return;
    var current = focusedRow();
    var index = current ? Array.prototype.indexOf.call($("list").children, current) : -1;
    var k = event.key;
    if (k === "j" || k === "k") {
      var target = rowAt(k === "j" ? Math.min(index + 1, rows.length - 1) : Math.max(index - 1, 0));
      if (target) { target.focus(); target.scrollIntoView({ block: "nearest" }); }
    } else if (k === "/") {
      $("q").focus();
    } else if (current && ACTIONS[k]) {
      var c = current.commentData;
      var allowed = current.querySelector('[data-act="' + ACTIONS[k] + '"]');
      if (allowed) act(c, ACTIONS[k]); else say(t("actions.notApplicable", { action: t("actions." + ACTIONS[k]) }));
    } else if (current && k === "x") {
      var box = current.querySelector("input[type=checkbox]");
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change"));
    } else if (current && k === "p") {
      var pin = current.querySelector("[data-pin]");
      if (pin) pin.click();
    } else if (current && k === "l") {
      current.querySelector("[data-lock]").click();
    } else {
      return;
    }
    event.preventDefault();
  });

  // --- live ------------------------------------------------------------------------

  function refreshSoon(delay) {
    window.clearTimeout(refreshTimer);
    return new Promise(function (resolve) {
      refreshTimer = window.setTimeout(function () {
        loadCounts();
        if (!$("comments-view").hidden) load(false).then(resolve); else resolve();
      }, delay);
    });
  }

  function openSocket() {
    if (!token || !site) return;
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var ws;
    try {
      // The token goes in the subprotocol header: never in a URL, and checked before the socket opens.
      ws = new WebSocket(scheme + "//" + location.host + base() + "/live", ["rejoinder.admin", "bearer." + token]);
    } catch (e) { return; }
    socket = ws;
    ws.onmessage = function (m) {
      var data;
      try { data = JSON.parse(m.data); } catch (e) { return; }
      if (data.type === "ready") {
        socketDelay = 500;
        $("live-state").textContent = t("live.on");
      } else if (data.type === "changed") {
        refreshSoon(150);  // a burst of comments is one refresh
      }
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      $("live-state").textContent = t("live.reconnecting");
      window.setTimeout(function () { if (!socket && token) { openSocket(); refreshSoon(0); } }, socketDelay);
      socketDelay = Math.min(socketDelay * 2, 30000);
    };
  }

  function closeSocket() {
    var ws = socket;
    socket = null;
    if (ws) ws.close(1000);
    $("live-state").textContent = "";
  }

  // --- bans and settings ------------------------------------------------------------

  function loadBans() {
    api("GET", base() + "/bans").then(function (data) {
      var list = $("bans");
      list.replaceChildren.apply(list, data.bans.map(function (b) {
        var lift = el("button", { type: "button", text: t("bans.lift") });
        lift.addEventListener("click", function () {
          api("DELETE", base() + "/bans/" + encodeURIComponent(b.kind) + "/" + encodeURIComponent(b.value))
            .then(function () { say(t("bans.lifted")); loadBans(); }, function (e) { fail(e.message); });
        });
        var kind = { identity: "bans.kindIdentity", email: "bans.kindEmail", ip: "bans.kindIp" }[b.kind];
        return el("li", {}, [el("span", { class: "badge", text: kind ? tOr(kind, b.kind) : b.kind }),
                             el("code", { text: b.value }),
                             b.note ? el("span", { text: b.note }) : null,
                             el("span", { class: "when", text: when(new Date(b.created).toISOString()) }), lift]);
      }));
      $("bans-empty").hidden = data.bans.length > 0;
    }, function (e) { fail(e.message); });
  }

  function loadSettings() {
    loadCounts().then(function (data) {
      if (!data) return;
      var radio = document.querySelector('#settings input[value="' + CSS.escape(data.site.moderation) + '"]');
      if (radio) radio.checked = true;
      $("blocklist").value = data.site.blocklist.join("\n");
      $("pow").checked = !!data.site.pow;
      $("hold-reports").value = String(data.site.hold_reports || 0);
      $("remote-authors").value = (data.site.remote_authors || []).join("\n");
    });
  }

  $("settings").addEventListener("submit", function (event) {
    event.preventDefault();
    var picked = document.querySelector("#settings input[name=moderation]:checked");
    var words = $("blocklist").value.split("\n").map(function (w) { return w.trim(); }).filter(Boolean);
    var holdAt = Math.max(0, Math.min(1000, parseInt($("hold-reports").value, 10) || 0));
    var accounts = $("remote-authors").value.split("\n").map(function (a) { return a.trim(); }).filter(Boolean);
    api("PATCH", base(), { moderation: picked ? picked.value : "publish", blocklist: words, pow: $("pow").checked,
                           hold_reports: holdAt, remote_authors: accounts })
      .then(function () { say(t("settings.saved")); }, function (e) { fail(e.message); });
  });

  $("ban-email").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("ban-email-input");
    ban("email", input.value.trim(), "banned.address").then(function () { input.value = ""; });
  });

  // --- webhook ------------------------------------------------------------------------

  var hookTimer = 0;
  // While the panel is open the log is read again every few seconds: deliveries
  // happen in the worker, a second or so after the event, with no message of their own.
  var HOOK_POLL_MS = 3000;

  function showSecret(secret) {
    $("webhook-secret-value").textContent = secret || "";
    $("webhook-secret").hidden = !secret;
  }

  function renderWebhook(hook) {
    $("webhook-state").textContent = !hook.enabled ? t("webhook.offState") :
      hook.since ? t("webhook.onSince", { url: hook.url, date: when(hook.since) }) : t("webhook.on", { url: hook.url });
    if (hook.enabled && document.activeElement !== $("webhook-url")) $("webhook-url").value = hook.url;
    $("webhook-rotate").hidden = !hook.enabled;
    $("webhook-off").hidden = !hook.enabled;
    var body = $("webhook-rows");
    body.replaceChildren.apply(body, hook.log.map(function (d) {
      var ok = d.status !== null && d.status >= 200 && d.status < 300;
      // d.error is the worker's category (netguard.py): a code, shown as it is.
      var result = d.status !== null ? t("webhook.http", { status: String(d.status) }) : (d.error || t("webhook.noAnswer"));
      return el("tr", { class: ok ? "" : "failed" }, [
        el("td", { text: when(d.time) }), el("td", {}, [el("code", { text: d.event })]),
        el("td", { text: String(d.attempt) }), el("td", { class: "result", text: result }),
        el("td", { text: t("webhook.ms", { ms: Math.round(d.duration_ms) }) }),
      ]);
    }));
    $("webhook-log").hidden = !hook.log.length;
    $("webhook-empty").hidden = hook.log.length > 0;
  }

  function loadWebhook() {
    window.clearTimeout(hookTimer);
    var forSite = site;
    return api("GET", base() + "/webhook").then(function (data) {
      if (forSite !== site || $("webhook-view").hidden) return;
      renderWebhook(data.webhook);
      hookTimer = window.setTimeout(function () {
        if (!$("webhook-view").hidden && !document.hidden) loadWebhook();
        else hookTimer = 0;
      }, HOOK_POLL_MS);
    }, function (e) { if (e.status !== 401) fail(e.message); });
  }

  function setWebhook(url, done) {
    return api("PUT", base() + "/webhook", { url: url }).then(function (data) {
      renderWebhook(data.webhook);
      showSecret(data.webhook.secret);
      say(done);
    }, function (e) { fail(e.message); });
  }

  $("webhook-form").addEventListener("submit", function (event) {
    event.preventDefault();
    fail("");
    setWebhook($("webhook-url").value.trim(), t("webhook.saved"));
  });
  $("webhook-rotate").addEventListener("click", function () {
    fail("");
    setWebhook($("webhook-url").value.trim(), t("webhook.rotated"));
  });
  $("webhook-off").addEventListener("click", function () {
    api("DELETE", base() + "/webhook").then(function (data) {
      renderWebhook(data.webhook);
      showSecret("");
      $("webhook-url").value = "";
      say(t("webhook.turnedOff"));
    }, function (e) { fail(e.message); });
  });
  $("webhook-refresh").addEventListener("click", loadWebhook);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !$("desk").hidden && !$("webhook-view").hidden) loadWebhook();
  });

  // --- import and export ------------------------------------------------------------------

  function filename(response, fallback) {
    var m = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return m ? m[1] : fallback;
  }

  function download(format) {
    fail("");
    say(t("export.preparing"));
    send("GET", base() + "/export?format=" + encodeURIComponent(format)).then(function (r) {
      var name = filename(r, site + (format === "wxr" ? ".xml" : ".json"));
      return r.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = el("a", { href: url, download: name, hidden: "" });
        document.body.append(a);
        a.click();
        a.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        say(t("export.downloaded", { file: name }));
      });
    }).catch(function (e) { fail(e.message || t("error.exportFailed")); });
  }

  // --- import, with its progress ------------------------------------------------------
  // The upload's progress comes from the browser; after it, the server's (GET .../import),
  // which also shows an import started elsewhere: another tab, or `rejoinder import`.

  var importing = false;   // this tab's upload or import is in flight
  var watching = 0;        // the poll timer while an import runs
  var watchGen = 0;        // answers to older polls are dropped: they may predate this tab's "Done"

  function size(bytes) {
    if (bytes < 1e6) return t("size.kb", { size: Math.max(1, Math.round(bytes / 1e3)) });
    return t("size.mb", { size: tenths.format(bytes / 1e6) });
  }

  function showProgress(fraction, text) {
    var bar = $("import-progress");
    bar.hidden = fraction === null;
    if (fraction === undefined) bar.removeAttribute("value");  // indeterminate: checking the file
    else if (fraction !== null) bar.value = fraction;
    $("import-status").textContent = text;
  }

  function describe(p) {
    if (!p || p.phase === "receiving") {
      return [undefined, p && p.bytes ? t("import.startingSoFar", { size: size(p.bytes) }) : t("import.starting")];
    }
    if (p.phase === "checking") return [undefined, t("import.checking", { size: size(p.bytes) })];
    var done = p.comments_done, total = p.comments_total;
    var vars = { threads: p.threads_done, threadsTotal: p.threads_total, done: done, n: total };
    var key = "import.writing";
    if (done > 0 && done < total && p.writing_ms > 1000) {
      var left = Math.ceil(p.writing_ms * (total - done) / done / 1000);
      key = left < 90 ? "import.writingSeconds" : "import.writingMinutes";
      vars.left = left < 90 ? left : Math.round(left / 60);
    }
    return [total ? done / total : 1, t(key, vars)];
  }

  function watchImport(forSite) {
    window.clearTimeout(watching);
    var gen = ++watchGen;
    return api("GET", base() + "/import").then(function (data) {
      if (gen !== watchGen || forSite !== site || $("porting-view").hidden) return;
      var button = $("import-form").querySelector("button[type=submit]");
      if (data.running) {
        // While this tab's own file is still arriving, its "Uploaded, checking it" stays.
        if (!importing || (data.progress && data.progress.phase !== "receiving")) {
          var shown = describe(data.progress);
          showProgress(shown[0], shown[1]);
        }
        button.disabled = true;
        watching = window.setTimeout(function () { watchImport(forSite); }, 400);
      } else if (!importing) {
        if (button.disabled) {  // someone else's import just ended
          showProgress(null, t("import.finishedElsewhere"));
          loadCounts();
        }
        button.disabled = false;
        // Look now and then while this tab is open: an import may start elsewhere.
        watching = window.setTimeout(function () { watchImport(forSite); }, document.hidden ? 10000 : 3000);
      }
    }).catch(function () { /* the next action shows the error */ });
  }

  function resetImport() {
    if (!importing) showProgress(null, "");
    watchImport(site);
  }

  // XMLHttpRequest, not fetch: only it reports how much of a request body has been sent.
  function upload(path, file, onSent) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", file.type || "application/xml");
      if (token) xhr.setRequestHeader("Authorization", "Bearer " + token);
      xhr.upload.onprogress = function (e) { onSent(e.loaded, e.lengthComputable ? e.total : file.size); };
      xhr.upload.onload = function () { onSent(file.size, file.size, true); };
      xhr.onerror = function () { reject(new ApiFailure(0, null)); };
      xhr.onload = function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: a proxy's page */ }
        if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
        if (xhr.status === 401 && token) signedOut(t("error.sessionEnded"));
        reject(new ApiFailure(xhr.status, data.error));
      };
      xhr.send(file);
    });
  }

  $("import-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var file = $("import-file").files[0];
    if (!file) return;
    fail("");
    $("import-report").hidden = true;
    var q = new URLSearchParams({ threads: $("import-threads").value });
    if ($("import-format").value) q.set("format", $("import-format").value);
    var button = $("import-form").querySelector("button[type=submit]");
    var forSite = site;
    button.disabled = true;
    importing = true;
    showProgress(0, t("import.uploading", { file: file.name }));
    upload(base() + "/import?" + q.toString(), file, function (sent, total, finished) {
      if (finished) {
        showProgress(undefined, t("import.uploaded", { file: file.name }));
        watchImport(forSite);  // the server's side of the progress from here
      } else {
        showProgress(total ? sent / total : 0, t("import.uploadingProgress", {
          file: file.name, percent: percent(Math.floor(100 * sent / (total || 1)) / 100), size: size(total) }));
      }
    }).then(function (data) {
      watchGen++;
      showProgress(null, t("import.doneIn", { seconds: data.seconds }));
      $("import-summary").textContent = data.summary;
      $("import-json").textContent = JSON.stringify(data.report, null, 2);
      $("import-report").hidden = false;
      say(t("import.done"));
      loadCounts();
    }, function (e) {
      watchGen++;
      // A refusal (4xx) comes before any write; a cut connection may not have.
      showProgress(null, e.status >= 400 && e.status < 500 ? t("import.nothing") : t("import.mayNotHaveFinished"));
      fail(e.message);
    }).then(function () {
      importing = false;
      window.clearTimeout(watching);
      button.disabled = false;
      if (forSite === site && !$("porting-view").hidden) watchImport(forSite);
    });
  });

  document.querySelectorAll("[data-export]").forEach(function (b) {
    b.addEventListener("click", function () { download(b.getAttribute("data-export")); });
  });

  // --- moving the blog: remap and merge ----------------------------------------------

  // What a planned move does, by the server's action or reason: message keys.
  var REMAP_SAYS = {
    move: "remapSays.move", merge: "remapSays.merge", url: "remapSays.url",
    target_has_comments: "remapSays.targetHasComments", same_target: "remapSays.sameTarget",
    target_moved: "remapSays.targetMoved", url_not_on_site: "remapSays.urlNotOnSite",
    invalid_page: "remapSays.invalidPage"
  };
  var remapPlanned = null;

  // The rules in the box: one per line, two fields each; null (and the status says why) if a line is wrong.
  function remapBody(dryRun) {
    var pattern = $("remap-kind").value === "pattern";
    var rules = [];
    var lines = $("remap-rules").value.split("\n");
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].trim();
      if (!line) continue;
      var parts = line.split(/\s+/);
      if (parts.length !== 2 && !(parts.length === 1 && pattern)) {
        $("remap-status").textContent = t("remap.lineSpace", { line: i + 1 });
        return null;
      }
      var old = parts[0], now = parts[1] || "";
      if (pattern) rules.push({ pattern: old, replace: now });
      else if (old.slice(-1) === "*" && now.slice(-1) === "*") rules.push({ from: old.slice(0, -1), to: now.slice(0, -1) });
      else if (old.slice(-1) === "*" || now.slice(-1) === "*") {
        $("remap-status").textContent = t("remap.lineStar", { line: i + 1 });
        return null;
      } else rules.push({ page: old, to: now });
    }
    if (!rules.length) {
      $("remap-status").textContent = t("remap.noRules");
      return null;
    }
    return { rules: rules, dry_run: dryRun, merge: $("remap-merge").checked };
  }

  function showRemap(data) {
    var rows = $("remap-rows");
    rows.replaceChildren();
    data.threads.forEach(function (th) {
      var stays = th.action === "collision" || th.action === "refused";
      var code = stays ? th.reason : th.action;
      // A code this page has no words for (a newer server's) shows as it is; so does a failure's.
      var says = REMAP_SAYS[code] ? tOr(REMAP_SAYS[code], code) : code;
      if (th.result && th.result !== "done") says = t("remap.failed", { result: th.result });
      else if (th.result === "done") {
        says = t(th.action === "merge" ? "remap.merged" : th.action === "url" ? "remap.addressChanged" : "remap.moved");
      }
      var tr = el("tr", { "data-action": th.action }, [el("td", { text: th.page }), el("td", { text: th.to_page || "" }),
        el("td", { text: String(th.count) }), el("td", { text: says, class: stays ? "failed" : "" })]);
      rows.append(tr);
    });
    $("remap-plan").hidden = data.threads.length === 0;
    var s = data.summary;
    var moving = s.move + s.merge + s.url;
    $("remap-status").textContent = data.threads.length === 0 ? t("remap.noMatch") :
      t(data.dry_run ? "remap.wouldMove" : "remap.movedSummary", { n: moving, left: s.collision + s.refused });
  }

  ["remap-kind", "remap-rules", "remap-merge"].forEach(function (id) {
    $(id).addEventListener("input", function () { remapPlanned = null; $("remap-apply").disabled = true; });
  });
  $("remap-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = remapBody(true);
    if (!body) return;
    $("remap-status").textContent = t("remap.looking");
    api("POST", base() + "/remap", body).then(function (data) {
      showRemap(data);
      remapPlanned = JSON.stringify(body.rules) + body.merge;
      $("remap-apply").disabled = !data.threads.some(function (th) {
        return th.action === "move" || th.action === "merge" || th.action === "url";
      });
    }, function (e) { $("remap-status").textContent = e.message; });
  });
  $("remap-apply").addEventListener("click", function () {
    var body = remapBody(false);
    if (!body || remapPlanned !== JSON.stringify(body.rules) + body.merge) return;
    $("remap-apply").disabled = true;
    $("remap-status").textContent = t("remap.moving");
    api("POST", base() + "/remap", body).then(function (data) {
      showRemap(data);
      say($("remap-status").textContent);
    }, function (e) { $("remap-status").textContent = e.message; });
  });
  $("merge-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { from: $("merge-from").value, into: $("merge-into").value };
    $("merge-status").textContent = t("merge.merging");
    api("POST", base() + "/merge", body).then(function (data) {
      $("merge-status").textContent = t("merge.done", { n: data.moved_comments, page: data.into.title || data.into.page,
                                                        count: data.into.count });
    }, function (e) { $("merge-status").textContent = e.message; });
  });

  // --- wiring ------------------------------------------------------------------------

  document.querySelectorAll(".tabs [data-view]").forEach(function (b) {
    b.addEventListener("click", function () { setView(b.getAttribute("data-view")); });
  });
  document.querySelectorAll("[data-span]").forEach(function (b) {
    b.addEventListener("click", function () {
      overviewSpan = Number(b.getAttribute("data-span"));
      document.querySelectorAll("[data-span]").forEach(function (o) {
        o.setAttribute("aria-pressed", o === b ? "true" : "false");
      });
      loadOverview();
    });
  });
  document.querySelectorAll("[data-bulk]").forEach(function (b) {
    b.addEventListener("click", function () { bulk(b.getAttribute("data-bulk")); });
  });
  $("select-all").addEventListener("change", function () {
    selected.clear();
    if ($("select-all").checked) rows.forEach(function (c) { selected.add(key(c)); });
    render();
  });
  $("search").addEventListener("submit", function (event) {
    event.preventDefault();
    if (view !== "recent" && view !== "pending" && view !== "spam" && view !== "reported") view = "recent";
    load(false);
  });
  $("clear-search").addEventListener("click", function () {
    $("q").value = "";
    $("author").value = "";
    load(false);
  });
  $("more").addEventListener("click", function () { load(true); });
  $("site").addEventListener("change", function () { openSite($("site").value); });
  $("signout").addEventListener("click", function () {
    api("POST", "/api/auth/logout").catch(function () {}).then(function () { signedOut(t("signIn.signedOut")); });
  });
  $("signout-all").addEventListener("click", function () {
    api("POST", "/api/auth/logout", { everywhere: true }).then(function () {
      signedOut(t("signIn.signedOutEverywhere"));
    }, function (e) { $("signin-status").textContent = e.message; });
  });

  token = stored(TOKEN_KEY);
  var link = takeLink();
  loadMessages().then(function () {
    updateSelection();  // "0 selected", in the page's language
    return exchangeLink(link);
  }).then(start);
})();
