"""Sign-in with Bluesky in the popup (auth/bluesky.py has the protocol): the reader types their handle,
we push the request to their authorization server and send them there; its answer comes back to the
callback, and the sign-in ends in the one-time handover like every other."""

from __future__ import annotations

import logging

import httpx2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import models
from ..auth import bluesky
from ..auth.avatars import copy_avatar
from ..state import state
from ..store.sessions import ADMIN, READER
from ..store.users import user_id
from . import popup

log = logging.getLogger("rejoinder.auth")


def _handle_page(h: str, site_id: str, for_admin: bool, error: str = "", typed: str = "", *,
                 status: int = 200) -> HTMLResponse:
    """The popup's first page for Bluesky: which account?"""
    return popup.ask("bluesky", form_id="bluesky-handle", action="/auth/bluesky/start", field="handle",
                     placeholder="you.bsky.social", autocomplete="username",
                     h=h, site_id=site_id, for_admin=for_admin, error=error, typed=typed, status=status)


async def start(request: Request) -> Response:
    """GET /auth/bluesky/start?site=&h= (or ?for=admin&h=): asks for the reader's handle. POST (form: handle,
    h, site, for): resolves it, pushes the authorization request (PAR, PKCE, DPoP) and sends the reader to
    their authorization server. Only from our own frame, dashboard or this page."""
    st = state(request)
    if not bluesky.usable(st.settings):
        return popup.ended(*popup.UNAVAILABLE, status=404)
    step = await popup.first_step(request, _handle_page, "handle")
    if isinstance(step, Response):
        return step
    h, site_id, for_admin, typed, audience = step
    handle = bluesky.handle_of(typed)
    if handle is None:
        return _handle_page(h, site_id, for_admin, "bluesky.notHandle", typed, status=422)
    if (refused := await popup.over_limit(request, site_id)) is not None:
        return refused
    try:
        async with httpx2.AsyncClient() as client:
            begun = await bluesky.begin(client, st.settings, handle)
    except bluesky.SignInError as exc:
        log.info("bluesky sign-in for %s: %s", handle, exc.category)
        return _handle_page(h, site_id, for_admin, str(exc), typed, status=502)
    await st.logins.start_flow(begun.state, {"h": h, "site": site_id, "provider": bluesky.PROVIDER, "aud": audience,
                                             **begun.flow})
    return popup.onward("bluesky", begun.url)


async def callback(request: Request) -> Response:
    """GET /auth/bluesky/callback?code=&state=&iss=: the reader's authorization server sends them back."""
    st = state(request)
    if not bluesky.usable(st.settings):
        return popup.ended(*popup.UNAVAILABLE, status=404)
    q = request.query_params
    flow = await st.logins.take_flow(q.get("state", ""))
    if q.get("error"):
        return popup.provider_said_no(q["error"], "bluesky.problem")
    code = q.get("code", "")
    if flow is None or flow.get("provider") != bluesky.PROVIDER or flow.get("aud") not in (READER, ADMIN) \
            or not code or len(code) > 512:
        return popup.ended(*popup.EXPIRED, status=400)
    try:
        async with httpx2.AsyncClient() as client:
            account = await bluesky.finish(client, st.settings, flow, code, q.get("iss", ""))
    except bluesky.SignInError as exc:
        log.info("bluesky sign-in of %s failed: %s", flow.get("did"), exc.category)
        return popup.ended("failed.title", "failed.tryAgain", error=popup.t(str(exc)), status=400)
    uid = user_id(bluesky.PROVIDER, account.did)
    profile = f"{st.settings.bluesky_web.rstrip('/')}/profile/{account.handle or account.did}"
    user = {"id": uid, "provider": bluesky.PROVIDER,
            "name": models.clean_line(account.name, "name", max_len=200)[:80] or account.did,
            "avatar": await copy_avatar(st, uid, account.avatar), "email": "",
            "profile": profile if profile.startswith("https://") else ""}
    await st.users.save(user)
    return await popup.handed_over(request, flow, user, bluesky.LABEL)


async def client_metadata(request: Request) -> Response:
    """GET /auth/bluesky/client-metadata.json: our client, as authorization servers read it (its URL is our
    client_id)."""
    st = state(request)
    if not bluesky.usable(st.settings):
        return popup.ended(*popup.UNAVAILABLE, status=404)
    return JSONResponse(bluesky.client_metadata(st.settings), headers={"cache-control": "public, max-age=600"})


popup_routes = [
    Route("/bluesky/start", start, methods=["GET", "POST"], name="auth:bluesky_start"),
    Route("/bluesky/callback", callback, methods=["GET"], name="auth:bluesky_callback"),
    Route("/bluesky/client-metadata.json", client_metadata, methods=["GET"], name="auth:bluesky_client"),
]
