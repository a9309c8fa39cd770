"""Social login: the popup flow at the provider, the one-time handover to the iframe, sessions."""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import secrets
from typing import Any

import httpx2
from authlib.integrations.starlette_client import OAuthError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .. import models
from ..auth import identity
from ..auth.providers import PROVIDERS, Profile, enabled
from ..errors import ApiError
from ..state import state
from ..store import keys
from ..store.users import user_id
from .common import JSON, read_json, site_for

log = logging.getLogger("rejoinder.auth")

# The hash of the iframe's secret: base64url of a SHA-256, no padding.
SECRET_HASH = re.compile(r"^[A-Za-z0-9_-]{43}$")
AVATAR_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_AVATAR_BYTES = 512 * 1024
# The popup's own pages: our script only, nothing inline, no framing.
POPUP_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def hash_secret(secret: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).rstrip(b"=").decode()


def _page(title: str, message: str, *, status: int = 200, code: str = "", ok: bool = False) -> HTMLResponse:
    """The popup's last page: it tells the iframe (if the opener survived) and says what happened."""
    st_attr = f' data-code="{html.escape(code)}"' if code else ""
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/login.css"></head><body>'
            f'<main id="login-result" data-ok="{"1" if ok else "0"}"{st_attr}>'
            f'<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>'
            '<p class="hint">You can close this window.</p></main>'
            '<script src="/login-done.js"></script></body></html>')
    return HTMLResponse(body, status_code=status, headers={"content-security-policy": POPUP_CSP,
                                                           "cache-control": "no-store"})


def _client(request: Request, provider: str) -> Any:
    st = state(request)
    if provider not in {p.id for p in enabled(st.settings)}:
        return None
    return st.oauth.create_client(provider)


def redirect_uri(request: Request, provider: str) -> str:
    # Built from the configured public URL, never from the Host header, so a
    # forged Host cannot send the provider's code anywhere else.
    return f"{state(request).settings.public_url.rstrip('/')}/auth/{provider}/callback"


async def start_login(request: Request) -> Response:
    """GET /auth/{provider}/start?site=&h= (or ?for=admin&h=): the popup's first page; redirects to the provider.

    `h` is the hash of a secret only the iframe (or the dashboard) that opened the popup keeps.
    The dashboard signs in before it knows a site: it says for=admin and names none.
    There is no return-to parameter at all, so nothing here can be turned into an open redirect.
    """
    provider = request.path_params["provider"]
    client = _client(request, provider)
    if client is None:
        return _page("Sign-in unavailable", "This sign-in provider is not enabled here.", status=404)
    h = request.query_params.get("h", "")
    site_id = request.query_params.get("site", "")
    if not SECRET_HASH.match(h):
        return _page("Sign-in failed", "This sign-in link is incomplete. Start again from the comments.", status=400)
    if request.query_params.get("for") == "admin" and not site_id:
        pass  # what the admin may do is decided per site by the admin API, not here
    elif not keys.SITE_ID.match(site_id) or await state(request).sites.get(site_id) is None:
        return _page("Sign-in failed", "This site is not registered.", status=404)
    uri = redirect_uri(request, provider)
    rv = await client.create_authorization_url(uri)
    await client.save_authorize_data(request, redirect_uri=uri, **rv)
    await state(request).logins.start_flow(rv["state"], {"h": h, "site": site_id, "provider": provider})
    return Response(status_code=302, headers={"location": rv["url"], "cache-control": "no-store"})


async def _profile(request: Request, client: Any, provider: str, token: dict[str, Any]) -> Profile:
    spec = PROVIDERS[provider]
    if spec.openid:
        # Authlib validated the id_token (signature from the provider's keys, issuer,
        # audience, expiry and our nonce) inside authorize_access_token.
        return spec.parse(token["userinfo"])
    resp = await client.get(client.server_metadata.get("userinfo_endpoint") or "", token=token)
    resp.raise_for_status()
    return spec.parse(resp.json())


async def _copy_avatar(request: Request, uid: str, url: str) -> str:
    """Copy the provider's picture: hot-linked provider URLs expire and tell the provider who reads."""
    if not url.startswith(("https://", "http://")):
        return ""
    try:
        async with httpx2.AsyncClient(timeout=5, follow_redirects=True) as http:
            async with http.stream("GET", url) as resp:
                kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if resp.status_code != 200 or kind not in AVATAR_TYPES:
                    return ""
                body = b""
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_AVATAR_BYTES:
                        return ""
    except httpx2.HTTPError:
        return ""
    digest = await state(request).users.save_avatar(uid, kind, body)
    return f"/api/avatars/u/{digest}"


async def finish_login(request: Request) -> Response:
    """GET /auth/{provider}/callback: the provider sends the reader back here.

    Checks state (with Authlib: single use, bound to this browser's session marker),
    exchanges the code with the PKCE verifier, reads the account, and offers a
    one-time handover to the iframe that started the login.
    """
    provider = request.path_params["provider"]
    client = _client(request, provider)
    if client is None:
        return _page("Sign-in unavailable", "This sign-in provider is not enabled here.", status=404)
    if request.query_params.get("error"):
        await state(request).logins.take_flow(request.query_params.get("state", ""))
        denied = request.query_params.get("error") == "access_denied"
        return _page("Sign-in cancelled" if denied else "Sign-in failed",
                     "You did not allow the sign-in, so you are still commenting as a guest." if denied else
                     f"{PROVIDERS[provider].label} reported a problem. Please try again.", status=400)
    flow = await state(request).logins.take_flow(request.query_params.get("state", ""))
    if flow is None or flow["provider"] != provider:
        return _page("Sign-in failed", "This sign-in link expired or was already used. Start again.", status=400)
    try:
        token = await client.authorize_access_token(request)
        profile = await _profile(request, client, provider, token)
    except (OAuthError, httpx2.HTTPError, KeyError, ValueError) as exc:
        log.info("login with %s failed: %s", provider, exc)
        return _page("Sign-in failed", f"{PROVIDERS[provider].label} did not confirm the sign-in. Please try again.",
                     status=400)
    uid = user_id(provider, profile.id)
    avatar = await _copy_avatar(request, uid, profile.avatar_url)
    user = {"id": uid, "provider": provider, "name": models.clean_line(profile.name, "name", max_len=200)[:80]
            or PROVIDERS[provider].label + " user",
            "avatar": avatar, "profile": profile.profile if profile.profile.startswith("https://") else "",
            "email": profile.email}
    await state(request).users.save(user)
    code = secrets.token_urlsafe(16)
    await state(request).logins.offer(flow["h"], code, uid)
    return _page("Signed in", f"You are signed in with {PROVIDERS[provider].label} as {user['name']}.",
                 code=code, ok=True)


def _me(user: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "user", "name": user["name"], "avatar": user.get("avatar") or None,
            "provider": user["provider"], "profile": user.get("profile") or None,
            "email": user.get("email") or None}


async def redeem_handover(request: Request) -> JSON:
    """POST /api/auth/handover {"secret", "code"?}: the iframe collects its session, once.

    Only the holder of the secret whose hash started the login can redeem; the
    iframe may ask before the popup is done (when the provider cut window.opener)
    and gets handover_pending until then. Errors: handover_pending 404,
    handover_mismatch 403, missing_field 422.
    """
    st = state(request)
    body = await read_json(request)
    secret = body.get("secret")
    if not isinstance(secret, str) or not 32 <= len(secret) <= 128:
        raise ApiError("missing_field", "secret is required.", field="secret")
    h = hash_secret(secret)
    offered = await st.logins.peek(h)
    if offered is None:
        raise ApiError("handover_pending")
    code = body.get("code")
    if code is not None and code != offered["code"]:
        raise ApiError("handover_mismatch")
    taken = await st.logins.take(h)
    if taken is None:
        raise ApiError("handover_pending")
    user = await st.users.get(taken["user"])
    if user is None:
        raise ApiError("handover_pending")
    token = await st.sessions.create(user)
    return JSON({"token": token, "me": _me(user)})


async def get_me(request: Request) -> JSON:
    """GET /api/auth/me: who the bearer token belongs to. Errors: invalid_session 401."""
    viewer = await identity.current(request)
    if viewer.kind != "user":
        raise ApiError("auth_required")
    user = await state(request).users.get(viewer.user_id) or {}
    return JSON({"me": _me({**user, "id": viewer.user_id, "name": viewer.name, "provider": viewer.provider})})


async def logout(request: Request) -> JSON:
    """POST /api/auth/logout: revoke the bearer session. Errors: invalid_session 401, auth_required 401."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("auth_required")
    await identity.current(request)  # 401 if it is not a live session
    await state(request).sessions.revoke(token.strip())
    return JSON({"me": {"kind": "guest"}})


async def get_user_avatar(request: Request) -> Response:
    """GET /api/avatars/u/{digest}: a signed-in reader's copied avatar. Errors: not_found."""
    digest = request.path_params["digest"]
    if not re.fullmatch(r"[0-9a-f]{32}", digest):
        raise ApiError("not_found")
    found = await state(request).users.avatar(digest)
    if found is None:
        raise ApiError("not_found")
    kind, body = found
    return Response(body, media_type=kind, headers={"cache-control": "public, max-age=86400",
                                                    "content-security-policy": "default-src 'none'"})


async def list_providers(request: Request) -> JSON:
    """GET /api/auth/providers?site=: the enabled sign-in providers. Errors: site_not_found."""
    await site_for(request, request.query_params.get("site"))
    return JSON({"providers": [{"id": p.id, "name": p.label} for p in enabled(state(request).settings)]})


routes = [
    Route("/api/auth/handover", redeem_handover, methods=["POST"], name="auth:handover"),
    Route("/api/auth/me", get_me, methods=["GET"], name="auth:me"),
    Route("/api/auth/logout", logout, methods=["POST"], name="auth:logout"),
    Route("/api/auth/providers", list_providers, methods=["GET"], name="auth:providers"),
    Route("/api/avatars/u/{digest}", get_user_avatar, methods=["GET"], name="avatars:user"),
]
popup_routes = [
    # Mounted under /auth, with a first-party session cookie: the popup is a
    # top-level page on our origin, so this cookie works where third-party ones do not.
    Route("/{provider}/start", start_login, methods=["GET"], name="auth:start"),
    Route("/{provider}/callback", finish_login, methods=["GET"], name="auth:callback"),
]
