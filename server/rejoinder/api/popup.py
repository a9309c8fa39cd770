"""The sign-in popup's own pages and checks, shared by every way in (api/auth.py: the OAuth providers,
Mastodon, email links; api/bluesky_login.py; api/passkeys.py).

Every sign-in runs in a first-party popup the comments frame (or the dashboard) opens with the hash `h`
of a secret only it keeps. The popup starts only from our own pages (started_here, posted_here), ends in
a page that says what happened (ended), or, after a good sign-in, in a one-time handover that only the
keeper of the secret can redeem (handed_over). These pages run our script only, nothing inline, and
cannot be framed.

Their words are in api/locales/<lang>.json (one file a language, the widget's languages), in the reader's
language as the browser says it (Accept-Language, on every page of a flow alike); Language sets it for
the request and t() reads it.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from contextvars import ContextVar
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse, Response

from ..auth import identity
from ..errors import ApiError
from ..frame import RTL, pick_language
from ..state import state
from ..store import keys
from ..store.sessions import ADMIN, READER

# The hash of the iframe's secret: base64url of a SHA-256, no padding.
SECRET_HASH = re.compile(r"^[A-Za-z0-9_-]{43}$")
# The popup's own pages: our script only, nothing inline, no framing.
POPUP_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# A page with a form posts it back to us, and nowhere else.
POPUP_CONFIRM_CSP = POPUP_CSP.replace("form-action 'none'", "form-action 'self'")
MAX_FORM_BYTES = 1024
# Where the dashboard's sign-in starts are counted (they name no site).
DASHBOARD = "-dashboard"

# The pages that end a flow, by the keys of their title and text.
UNAVAILABLE = ("unavailable.title", "unavailable.text")
REFUSED = ("refused.title", "refused.text")
REFUSED_POST = ("refused.title", "refused.post")
EXPIRED = ("failed.title", "failed.expired")

LANGUAGE: ContextVar[str] = ContextVar("popup_language", default="en")


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The popup's words in `lang` (English where a file lacks one)."""
    folder = resources.files("rejoinder.api") / "locales"
    english = orjson.loads((folder / "en.json").read_bytes())
    found = folder / f"{lang}.json"
    return {**english, **orjson.loads(found.read_bytes())} if lang != "en" and found.is_file() else english


SLOT = re.compile(r"\{(\w+)\}")


def _fill(text: str, slots: dict[str, str]) -> str:
    """Each {slot} of `text` filled in, in one pass (a value that looks like a slot stays as it is)."""
    return SLOT.sub(lambda m: slots.get(m.group(1), m.group(0)), text)


def _words(key: str) -> str:
    # A key no file has (tests/test_locales.py finds them) shows as itself rather than failing the page.
    return catalog(LANGUAGE.get()).get(key) or catalog("en").get(key) or key


def t(key: str, **slots: str) -> str:
    """The words of `key` in the reader's language, each {slot} filled in (plain text: escape it for HTML)."""
    return _fill(_words(key), slots)


def t_html(key: str, **markup: str) -> str:
    """`key`'s words escaped for HTML, each {slot} filled in with `markup` (which the caller escaped)."""
    return _fill(html.escape(_words(key)), markup)


# The language of one sign-in, kept for the pages of the window that come after its first (a provider's
# callback carries no language of ours). Only one of our language tags is ever written or read back.
LANGUAGE_COOKIE = "rj_lang"
LANGUAGE_COOKIE_SECONDS = 3600


class Language:
    """ASGI middleware of the popup's routes: the reader's language for t(). The comments' language where the
    widget opened the window (`?lang=`, which it remembers in a cookie for the rest of the sign-in), else the
    browser's (Accept-Language), else English."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        accept = headers.get("accept-language", "")
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0][:35]
        if not asked:
            LANGUAGE.set(pick_language(cookie_parser(headers.get("cookie", "")).get(LANGUAGE_COOKIE, ""), accept))
            await self.app(scope, receive, send)
            return
        lang = pick_language(asked, accept)
        LANGUAGE.set(lang)
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = (f"{LANGUAGE_COOKIE}={lang}; Path=/auth; Max-Age={LANGUAGE_COOKIE_SECONDS}; HttpOnly; "
                  f"SameSite=Lax{secure}")

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, remember)


def headers(csp: str = POPUP_CSP) -> dict[str, str]:
    return {"content-security-policy": csp, "cache-control": "no-store", "referrer-policy": "same-origin"}


def document(title: str, body: str, *, head: str = "", attrs: str = "") -> str:
    """A popup page in the reader's language: our style sheet, then `body` (markup the caller escaped)."""
    lang = LANGUAGE.get()
    return (f'<!doctype html><html lang="{lang}" dir="{"rtl" if lang in RTL else "ltr"}"><head><meta charset="utf-8">'
            f'<title>{html.escape(title)}</title>{head}'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="/login.css"></head><body{attrs}>{body}</body></html>')


def ended(title: str, message: str, *, status: int = 200, **slots: str) -> HTMLResponse:
    """A page of the popup that ends the flow without a session: it says what happened (the keys of its
    title and text), and login-done.js tells the opener that the sign-in is over."""
    e = html.escape
    words = t(title)
    body = (f'<main id="login-result" data-ok="0"><h1>{e(words)}</h1><p>{e(t(message, **slots))}</p>'
            f'<p class="hint">{e(t("closeWindow"))}</p></main><script src="/login-done.js"></script>')
    return HTMLResponse(document(words, body), status_code=status, headers=headers())


def signed_in(h: str, code: str, who: str, where: str) -> HTMLResponse:
    """The popup's last page after a good sign-in. login-done.js hands the code to the frame
    or dashboard that opened the popup, when that opener is on our own origin. When it is
    not (the provider cut window.opener, or a page that is not ours opened the popup), it
    shows the form below instead: the reader confirms, naming the site, before the frame
    may collect the session by its secret alone."""
    e = html.escape
    body = (f'<main id="login-result" data-ok="1" data-code="{e(code)}">'
            f'<div id="login-handed"><h1>{e(t("signedIn.title"))}</h1><p>{e(t("signedIn.as", who=who))}</p>'
            f'<p class="hint">{e(t("closeWindow"))}</p></div>'
            f'<form id="login-confirm" method="post" action="/auth/confirm" hidden>'
            f'<h1>{e(t("signedIn.confirmTitle", where=where))}</h1>'
            f'<p>{t_html("signedIn.confirmText", who=f"<strong>{e(who)}</strong>", where=e(where))}</p>'
            f'<input type="hidden" name="h" value="{e(h)}"><input type="hidden" name="code" value="{e(code)}">'
            f'<p><button type="submit">{e(t("continue"))}</button></p>'
            f'<p class="hint">{e(t("signedIn.confirmHint"))}</p></form>'
            '</main><script src="/login-done.js"></script>')
    return HTMLResponse(document(t("signedIn.title"), body), headers=headers(POPUP_CONFIRM_CSP))


def confirmed() -> HTMLResponse:
    """The page after the reader confirmed a sign-in (or opened their mail's link): the frame collects it."""
    e = html.escape
    body = (f'<main id="login-result" data-ok="1" data-confirmed="1"><h1>{e(t("signedIn.title"))}</h1>'
            f'<p>{e(t("signedIn.goBack"))}</p>'
            f'<p class="hint">{e(t("closeWindow"))}</p></main><script src="/login-done.js"></script>')
    return HTMLResponse(document(t("signedIn.title"), body), headers=headers())


def ask(words: str, *, form_id: str, action: str, field: str, placeholder: str, autocomplete: str,
        h: str, site_id: str, for_admin: bool, error: str = "", typed: str = "", status: int = 200) -> HTMLResponse:
    """A first page that asks the reader for one thing (their Mastodon server, their Bluesky handle) and
    posts it, with the sign-in's h and audience, to `action`. `words`: the prefix of its keys (.title,
    .label, .hint); `error`: the key of what was wrong with what they typed."""
    e = html.escape
    title = t(words + ".title")
    invalid = f' aria-invalid="true" aria-describedby="{field}-error"' if error else ""
    body = (f'<main><h1>{e(title)}</h1><form id="{form_id}" method="post" action="{action}">'
            f'<label for="{field}">{e(t(words + ".label"))}</label>'
            f'<input id="{field}" name="{field}" required maxlength="300" value="{e(typed)}"'
            f' autocomplete="{autocomplete}" placeholder="{e(placeholder)}" autofocus spellcheck="false"'
            f' autocapitalize="none" dir="ltr"{invalid}>'
            + (f'<p id="{field}-error" class="error" role="alert">{e(t(error))}</p>' if error else "") +
            f'<input type="hidden" name="h" value="{e(h)}"><input type="hidden" name="site" value="{e(site_id)}">'
            f'<input type="hidden" name="for" value="{"admin" if for_admin else ""}">'
            f'<p><button type="submit">{e(t("continue"))}</button></p><p class="hint">{e(t(words + ".hint"))}</p>'
            '</form></main>')
    return HTMLResponse(document(title, body), status_code=status, headers=headers(POPUP_CONFIRM_CSP))


def onward(words: str, url: str) -> HTMLResponse:
    """On to the reader's own server. Not a redirect: the asking page's form-action 'self' would stop the
    browser from following one there. A refresh (and a link, where refreshes are off) leads there instead."""
    e = html.escape
    title = t(words + ".title")
    link = f'<a href="{e(url)}">{e(urlsplit(url).netloc)}</a>'
    body = f'<main><h1>{e(title)}</h1><p>{t_html("onTo", server=link)}</p></main>'
    return HTMLResponse(document(title, body, head=f'<meta http-equiv="refresh" content="0;url={e(url)}">'),
                        headers=headers())


def started_here(request: Request) -> bool:
    """Whether the browser says this navigation came from one of our own pages (the comments
    frame or the dashboard). Stops login CSRF: a link, redirect or window.open from any
    other page cannot start a sign-in that ends in a handover its author chose.

    Fetch metadata first (every current browser sends it); without it (old browsers),
    a Referer on our own origin. Neither: refused."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return (fetch_site == "same-origin" and request.headers.get("sec-fetch-mode") == "navigate"
                and request.headers.get("sec-fetch-dest") == "document")
    return request.headers.get("referer", "").startswith(state(request).settings.public_origin + "/")


def posted_here(request: Request) -> bool:
    """Whether a form POST came from one of our own pages (the popup's): its Origin is ours, and the
    browser does not call it cross-site."""
    return (request.headers.get("origin") == state(request).settings.public_origin
            and request.headers.get("sec-fetch-site") in (None, "same-origin"))


def posted_form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw[:MAX_FORM_BYTES].decode("latin-1")).items()}


async def audience(request: Request, h: str, site_id: str, for_admin: bool) -> str | HTMLResponse:
    """The audience of a sign-in that names `h` and a site (or the dashboard: what an admin may do is
    decided per site by the admin API, not here), or the page that refuses it."""
    if not SECRET_HASH.match(h):
        return ended("failed.title", "failed.incomplete", status=400)
    if for_admin and not site_id:
        return ADMIN
    if not keys.SITE_ID.match(site_id) or await state(request).sites.get(site_id) is None:
        return ended("failed.title", "failed.unregistered", status=404)
    return READER


async def first_step(request: Request, page: Any, field: str) -> tuple[str, str, bool, str, str] | Response:
    """The two steps of a page that asks (ask()): a GET from our own pages shows `page(h, site, for_admin)`;
    a POST from it gives (h, site, for_admin, what was typed in `field`, audience). Anything else: the
    page that refuses it."""
    if request.method == "GET":
        if not started_here(request):
            return ended(*REFUSED, status=403)
        q = request.query_params
        h, site_id, for_admin = q.get("h", ""), q.get("site", ""), q.get("for") == "admin"
        found = await audience(request, h, site_id, for_admin)
        return found if isinstance(found, Response) else page(h, site_id, for_admin)
    if not posted_here(request):
        return ended(*REFUSED_POST, status=403)
    form = posted_form(await request.body())
    h, site_id, for_admin = form.get("h", ""), form.get("site", ""), form.get("for") == "admin"
    found = await audience(request, h, site_id, for_admin)
    return found if isinstance(found, Response) else (h, site_id, for_admin, form.get(field, ""), found)


async def over_limit(request: Request, site_id: str) -> HTMLResponse | None:
    """Count a sign-in start (each stores a flow for ten minutes) per client address, so a script cannot
    start sign-ins without end: the page that refuses it, or None."""
    st = state(request)
    try:
        limit = st.settings.rate_ip_logins
        await st.limiter.hit(site_id or DASHBOARD, [("login:ip", identity.ip_hash(request), limit)])
    except ApiError:
        return ended("tooMany.title", "tooMany.text", status=429)
    return None


def provider_said_no(error: str, problem: str, **slots: str) -> HTMLResponse:
    """The page for a provider that came back with an error instead of a code (`problem`: the key of the
    words for any error but the reader's refusal)."""
    if error == "access_denied":
        return ended("cancelled.title", "cancelled.text", status=400)
    return ended("failed.title", problem, status=400, **slots)


async def where(request: Request, flow: dict[str, Any]) -> str:
    """What the reader is signing in to, in words, for the confirmation."""
    if flow.get("aud") == ADMIN:
        return t("where.dashboard")
    site = await state(request).sites.get(flow.get("site", ""))
    return t("where.site", site=site.name or site.id) if site is not None else t("where.comments")


async def handed_over(request: Request, flow: dict[str, Any], user: dict[str, Any], label: str) -> HTMLResponse:
    """A good sign-in of `user`: offer the one-time handover to whoever keeps the flow's secret, and show
    the signed-in page."""
    code = secrets.token_urlsafe(16)
    await state(request).logins.offer(flow["h"], code, user["id"], flow.get("site", ""), flow["aud"])
    return signed_in(flow["h"], code, f"{user['name']} ({label})", await where(request, flow))
