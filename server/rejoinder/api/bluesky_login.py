"""Sign-in with Bluesky in the popup (auth/bluesky.py has the protocol): the reader types their handle,
we push the request to their authorization server and send them there; its answer comes back to the
callback, and the sign-in ends in the one-time handover like every other."""

from __future__ import annotations

import html
import logging
import secrets
from urllib.parse import urlsplit

import httpx2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import models
from ..auth import bluesky, identity
from ..auth.avatars import copy_avatar
from ..errors import ApiError
from ..state import state
from ..store.sessions import ADMIN, READER
from ..store.users import user_id
from .auth import (DASHBOARD, POPUP_CONFIRM_CSP, _audience, _headers, _page, _posted_form, _signed_in_page, _where,
                   posted_here, started_here)

log = logging.getLogger("rejoinder.auth")

_UNAVAILABLE = ("Sign-in unavailable", "This sign-in provider is not enabled here.")
_REFUSED = ("Sign-in refused", "This sign-in did not start from the comments. Close this window and use the "
            "sign-in buttons under the comments.")


def _handle_page(h: str, site_id: str, for_admin: bool, error: str = "", typed: str = "", *,
                 status: int = 200) -> HTMLResponse:
    """The popup's first page for Bluesky: which account?"""
    e = html.escape
    invalid = ' aria-invalid="true" aria-describedby="handle-error"' if error else ""
    body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in with Bluesky</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/login.css"></head><body><main>'
            '<h1>Log in with Bluesky</h1>'
            '<form id="bluesky-handle" method="post" action="/auth/bluesky/start">'
            '<label for="handle">Your handle</label>'
            f'<input id="handle" name="handle" required maxlength="300" value="{e(typed)}" autocomplete="username"'
            f' placeholder="you.bsky.social" autofocus spellcheck="false" autocapitalize="none"{invalid}>'
            + (f'<p id="handle-error" class="error" role="alert">{e(error)}</p>' if error else "") +
            f'<input type="hidden" name="h" value="{e(h)}"><input type="hidden" name="site" value="{e(site_id)}">'
            f'<input type="hidden" name="for" value="{"admin" if for_admin else ""}">'
            '<p><button type="submit">Continue</button></p>'
            '<p class="hint">Your server asks you to allow the sign-in. We only learn who you are: your name, '
            'handle and picture; we can post nothing for you.</p></form>'
            '</main></body></html>')
    return HTMLResponse(body, status_code=status, headers={**_headers(), "content-security-policy": POPUP_CONFIRM_CSP})


async def start(request: Request) -> Response:
    """GET /auth/bluesky/start?site=&h= (or ?for=admin&h=): asks for the reader's handle. POST (form: handle,
    h, site, for): resolves it, pushes the authorization request (PAR, PKCE, DPoP) and sends the reader to
    their authorization server. Only from our own frame, dashboard or this page."""
    st = state(request)
    if not bluesky.usable(st.settings):
        return _page(*_UNAVAILABLE, status=404)
    if request.method == "GET":
        if not started_here(request):
            return _page(*_REFUSED, status=403)
        q = request.query_params
        h, site_id, for_admin = q.get("h", ""), q.get("site", ""), q.get("for") == "admin"
        audience = await _audience(request, h, site_id, for_admin)
        return audience if isinstance(audience, Response) else _handle_page(h, site_id, for_admin)
    if not posted_here(request):
        return _page("Sign-in refused", "This sign-in did not start from the comments.", status=403)
    form = _posted_form(await request.body())
    h, site_id, for_admin, typed = form.get("h", ""), form.get("site", ""), form.get("for") == "admin", \
        form.get("handle", "")
    audience = await _audience(request, h, site_id, for_admin)
    if isinstance(audience, Response):
        return audience
    handle = bluesky.handle_of(typed)
    if handle is None:
        return _handle_page(h, site_id, for_admin, "That is not a handle. Type it as it shows on your profile, "
                            "like you.bsky.social.", typed, status=422)
    try:
        await st.limiter.hit(site_id or DASHBOARD, [("login:ip", identity.ip_hash(request), st.settings.rate_ip_logins)])
    except ApiError:
        return _page("Too many sign-ins", "Too many sign-ins were started from here. Wait a minute and try again.",
                     status=429)
    try:
        async with httpx2.AsyncClient() as client:
            begun = await bluesky.begin(client, st.settings, handle)
    except bluesky.SignInError as exc:
        log.info("bluesky sign-in for %s: %s", handle, exc.category)
        return _handle_page(h, site_id, for_admin, str(exc), typed, status=502)
    await st.logins.start_flow(begun.state, {"h": h, "site": site_id, "provider": bluesky.PROVIDER, "aud": audience,
                                             **begun.flow})
    # Not a redirect: this page's form-action 'self' would stop the browser from following one.
    e = html.escape
    body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in with Bluesky</title>'
            f'<meta http-equiv="refresh" content="0;url={e(begun.url)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/login.css"></head><body><main><h1>Log in with Bluesky</h1>'
            f'<p>On to <a href="{e(begun.url)}">{e(urlsplit(begun.url).netloc)}</a>…</p></main></body></html>')
    return HTMLResponse(body, headers=_headers())


async def callback(request: Request) -> Response:
    """GET /auth/bluesky/callback?code=&state=&iss=: the reader's authorization server sends them back."""
    st = state(request)
    if not bluesky.usable(st.settings):
        return _page(*_UNAVAILABLE, status=404)
    q = request.query_params
    flow = await st.logins.take_flow(q.get("state", ""))
    if q.get("error"):
        denied = q.get("error") == "access_denied"
        return _page("Sign-in cancelled" if denied else "Sign-in failed",
                     "You did not allow the sign-in, so you are still commenting as a guest." if denied else
                     "Your Bluesky server reported a problem. Please try again.", status=400)
    code = q.get("code", "")
    if flow is None or flow.get("provider") != bluesky.PROVIDER or flow.get("aud") not in (READER, ADMIN) \
            or not code or len(code) > 512:
        return _page("Sign-in failed", "This sign-in link expired or was already used. Start again.", status=400)
    try:
        async with httpx2.AsyncClient() as client:
            account = await bluesky.finish(client, st.settings, flow, code, q.get("iss", ""))
    except bluesky.SignInError as exc:
        log.info("bluesky sign-in of %s failed: %s", flow.get("did"), exc.category)
        return _page("Sign-in failed", f"{exc} Please try again.", status=400)
    uid = user_id(bluesky.PROVIDER, account.did)
    profile = f"{st.settings.bluesky_web.rstrip('/')}/profile/{account.handle or account.did}"
    user = {"id": uid, "provider": bluesky.PROVIDER,
            "name": models.clean_line(account.name, "name", max_len=200)[:80] or account.did,
            "avatar": await copy_avatar(st, uid, account.avatar), "email": "",
            "profile": profile if profile.startswith("https://") else ""}
    await st.users.save(user)
    handed = secrets.token_urlsafe(16)
    await st.logins.offer(flow["h"], handed, uid, flow.get("site", ""), flow["aud"])
    return _signed_in_page(flow["h"], handed, f"{user['name']} ({bluesky.LABEL})", await _where(request, flow))


async def client_metadata(request: Request) -> Response:
    """GET /auth/bluesky/client-metadata.json: our client, as authorization servers read it (its URL is our
    client_id)."""
    st = state(request)
    if not bluesky.usable(st.settings):
        return _page(*_UNAVAILABLE, status=404)
    return JSONResponse(bluesky.client_metadata(st.settings), headers={"cache-control": "public, max-age=600"})


popup_routes = [
    Route("/bluesky/start", start, methods=["GET", "POST"], name="auth:bluesky_start"),
    Route("/bluesky/callback", callback, methods=["GET"], name="auth:bluesky_callback"),
    Route("/bluesky/client-metadata.json", client_metadata, methods=["GET"], name="auth:bluesky_client"),
]
