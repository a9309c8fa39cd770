"""Passkeys: adding one to the signed-in reader's account, signing in with one, listing and removing them
(the ceremonies are in auth/passkeys.py).

Adding. The comments frame (bearer session) asks for a ticket, opens the popup /auth/passkey/add and hands
the ticket to it by postMessage (the popup's page and the frame share our origin; the ticket is never in a
URL). The popup's script asks for the options with the ticket, runs navigator.credentials.create() when
the reader presses the button, and sends the result back with the ticket, which is then used up.

Signing in. The frame opens /auth/passkey/start?site=&h= like any sign-in; the page carries the options
(their challenge is kept in the login flow), the reader presses the button, the browser signs, and the
form posts the assertion to /auth/passkey/finish. A good one ends like every other sign-in: a one-time
handover only the frame that started it can redeem.
"""

from __future__ import annotations

import html
import logging
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .. import models
from ..auth import identity, passkeys
from ..auth.providers import PROVIDERS
from ..errors import ApiError
from ..state import state
from ..store.passkeys import MAX_PER_USER
from ..store.sessions import FRAME
from . import popup
from .common import JSON, read_json, site_for

log = logging.getLogger("rejoinder.auth")

# The popup's pages post their form to us, and the adding page asks our API (nothing else).
PASSKEY_CSP = popup.POPUP_CONFIRM_CSP.replace("default-src 'none';", "default-src 'none'; connect-src 'self';")
TICKET = 43  # characters of a ticket: secrets.token_urlsafe(32)
MAX_FORM = passkeys.MAX_CREDENTIAL + 1024


def _label(provider: str) -> str:
    spec = PROVIDERS.get(provider)
    return spec.label if spec else {"mastodon": "Mastodon", "email": "Email"}.get(provider, provider)


def _enabled(request: Request) -> None:
    if not passkeys.usable(state(request).settings):
        raise ApiError("not_found", "Passkeys are not offered here.")


def _ours(request: Request) -> None:
    """The popup's calls come from our own page: a blog page (or any other) may not make them."""
    if request.headers.get("origin") != state(request).settings.public_origin:
        raise ApiError("origin_not_allowed")


def _public(credential_id: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"id": credential_id, "created": models.iso(record["created"]),
            "used": models.iso(record["used"]) if record.get("used") else None, "synced": bool(record.get("synced"))}


async def _reader(request: Request) -> tuple[Any, Any]:
    """The reader session of ?site=, kept by the frame itself, of an account that may have passkeys."""
    _enabled(request)
    token = identity.bearer(request)
    if token is None:
        raise ApiError("auth_required")
    site = await site_for(request, request.query_params.get("site"))
    session = await identity.reader_session(request, token, site.id)
    if session.kept != FRAME:
        raise ApiError("forbidden", "Open the comments where they keep their own storage to add a passkey.")
    if session.user.get("provider") == "sso":
        raise ApiError("forbidden", "Members of this site sign in through the site itself.")
    return site, session


# A passkey is a way into the account for good: it is added only just after a sign-in (a session taken
# from a browser later cannot add one of its owner's choosing).
FRESH_MS = 10 * 60 * 1000


async def new_ticket(request: Request) -> JSON:
    """POST /api/auth/passkeys/ticket?site=: leave for the popup to add a passkey to the signed-in reader's
    account, for five minutes, once; only within ten minutes of signing in. Errors: auth_required 401,
    invalid_session 401, reauth_required 403 (signed in longer ago), forbidden 403 (a session the blog page
    holds, or a site's own member), not_found 404 (no passkeys here), site_not_found, origin_not_allowed 403,
    rate_limited 429."""
    st = state(request)
    site, session = await _reader(request)
    if time.time() * 1000 - session.issued > FRESH_MS:
        raise ApiError("reauth_required")
    await st.limiter.hit(site.id, [("passkey:ip", identity.ip_hash(request), st.settings.rate_ip_logins)])
    ticket = secrets.token_urlsafe(32)
    await st.passkeys.new_ticket(ticket, session.uid, site.id)
    return JSON({"ticket": ticket}, status_code=201)


async def _ticket(request: Request, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ticket = body.get("ticket")
    if not isinstance(ticket, str) or len(ticket) != TICKET:
        raise ApiError("missing_field", "ticket is required.", field="ticket")
    data = await state(request).passkeys.ticket(ticket)
    if data is None:
        raise ApiError("passkey_expired")
    return ticket, data


async def registration_options(request: Request) -> JSON:
    """POST /api/auth/passkeys/options {"ticket"}: the options for navigator.credentials.create(), from the
    popup only. Errors: passkey_expired 410, missing_field 422, origin_not_allowed 403, not_found 404,
    malformed_json 400, unsupported_media_type 415."""
    _enabled(request)
    _ours(request)
    st = state(request)
    ticket, data = await _ticket(request, await read_json(request))
    user = await st.users.get(data["uid"])
    if user is None:
        raise ApiError("passkey_expired")
    existing = list(await st.passkeys.list(user["id"]))
    options, challenge = passkeys.registration(st.settings, user, _label(user["provider"]), existing)
    if not await st.passkeys.set_challenge(ticket, data, challenge):
        raise ApiError("passkey_expired")
    return JSON({"options": options, "name": user["name"], "provider": _label(user["provider"])})


async def add_passkey(request: Request) -> JSON:
    """POST /api/auth/passkeys {"ticket", "credential"}: keep the passkey the browser made (credential: its
    JSON, as PublicKeyCredential.toJSON() gives it), from the popup only; the ticket is used up.
    Errors: passkey_invalid 422, passkey_exists 409, passkey_expired 410, missing_field 422,
    origin_not_allowed 403, not_found 404, malformed_json 400, unsupported_media_type 415."""
    _enabled(request)
    _ours(request)
    st = state(request)
    body = await read_json(request)
    ticket, data = await _ticket(request, body)
    if "challenge" not in data:
        raise ApiError("passkey_expired")
    credential = body.get("credential")
    if not isinstance(credential, (str, dict)):
        raise ApiError("missing_field", "credential is required.", field="credential")
    taken = await st.passkeys.take_ticket(ticket)  # used up whatever comes of it: a challenge signs once
    if taken is None or taken.get("challenge") != data["challenge"]:
        raise ApiError("passkey_expired")
    try:
        credential_id, record = passkeys.verify_registration(st.settings, credential, data["challenge"])
    except passkeys.PasskeyError as exc:
        raise ApiError("passkey_invalid", popup.catalog("en")[str(exc)]) from None
    if len(await st.passkeys.list(data["uid"])) >= MAX_PER_USER or await st.users.get(data["uid"]) is None:
        raise ApiError("forbidden", "This account has as many passkeys as it may keep: remove one first.")
    if not await st.passkeys.add(data["uid"], credential_id, record):
        raise ApiError("passkey_exists")
    return JSON({"passkey": _public(credential_id, record)}, status_code=201)


async def list_passkeys(request: Request) -> JSON:
    """GET /api/auth/passkeys?site=: the signed-in reader's passkeys (when added, last used; no keys).
    Errors: auth_required 401, invalid_session 401, forbidden 403, not_found 404 (no passkeys here),
    site_not_found, origin_not_allowed 403."""
    site, session = await _reader(request)
    found = await state(request).passkeys.list(session.uid)
    return JSON({"passkeys": sorted((_public(k, v) for k, v in found.items()), key=lambda p: p["created"])})


async def remove_passkey(request: Request) -> JSON:
    """DELETE /api/auth/passkeys/{credential}?site=: the reader removes one of their passkeys (it signs no one
    in any more). Errors: auth_required 401, invalid_session 401, forbidden 403, not_found 404 (no such
    passkey, or none here), site_not_found, origin_not_allowed 403."""
    site, session = await _reader(request)
    if not await state(request).passkeys.remove(session.uid, request.path_params["credential"]):
        raise ApiError("not_found", "You have no such passkey.")
    return JSON({"removed": True})


# --- the popup's pages ----------------------------------------------------------------------------


# What passkey.js says, in the reader's language (on the page as inert JSON).
SCRIPT_WORDS = ("notUsed", "exists", "notAllowed", "wrong", "cannotMake", "openFromComments", "for", "added", "nextTime",
                "cannotUse", "serverRefused")


def _popup(title: str, main: str, *, status: int = 200) -> HTMLResponse:
    words = orjson.dumps({key: popup.t("passkey." + key) for key in SCRIPT_WORDS}).decode()
    return HTMLResponse(popup.document(title, f'<main>{main}</main><script src="/passkey.js"></script>',
                                       attrs=f' data-words="{html.escape(words)}"'),
                        status_code=status, headers=popup.headers(PASSKEY_CSP))


_REFUSED = ("refused.title", "passkey.refused")


async def add_page(request: Request) -> Response:
    """GET /auth/passkey/add: the popup where a signed-in reader adds a passkey (its frame hands it a ticket)."""
    if not passkeys.usable(state(request).settings):
        return popup.ended("passkey.unavailable.title", "passkey.unavailable.text", status=404)
    if not popup.started_here(request):
        return popup.ended(*_REFUSED, status=403)
    e, t = html.escape, popup.t
    return _popup(t("passkey.add.title"), (
        f'<div id="passkey-add" data-state="waiting"><h1>{e(t("passkey.add.title"))}</h1>'
        f'<p id="passkey-who">{e(t("passkey.add.waiting"))}</p>'
        f'<p><button type="button" id="passkey-create" disabled>{e(t("passkey.add.button"))}</button></p>'
        '<p id="passkey-error" class="error" role="alert" hidden></p>'
        f'<p class="hint">{e(t("passkey.add.hint"))}</p></div>'))


async def start_page(request: Request) -> Response:
    """GET /auth/passkey/start?site=&h=: the popup where a reader signs in with a passkey (readers only)."""
    st = state(request)
    if not passkeys.usable(st.settings):
        return popup.ended(*popup.UNAVAILABLE, status=404)
    if not popup.started_here(request):
        return popup.ended(*_REFUSED, status=403)
    q = request.query_params
    if q.get("for") == "admin":
        # Readers add passkeys; a reader's way in must never open the dashboard.
        return popup.ended("unavailable.title", "passkey.noDashboard", status=404)
    h, site_id = q.get("h", ""), q.get("site", "")
    audience = await popup.audience(request, h, site_id, False)
    if isinstance(audience, Response):
        return audience
    if (refused := await popup.over_limit(request, site_id)) is not None:
        return refused
    options, challenge = passkeys.authentication(st.settings)
    flow_state = secrets.token_urlsafe(24)
    await st.logins.start_flow(flow_state, {"h": h, "site": site_id, "provider": passkeys.PROVIDER, "aud": audience,
                                            "challenge": challenge})
    e, t = html.escape, popup.t
    return _popup(t("passkey.login.title"), (
        f'<h1>{e(t("passkey.login.title"))}</h1>'
        '<form id="passkey-login" method="post" action="/auth/passkey/finish"'
        f' data-options="{e(orjson.dumps(options).decode())}">'
        f'<input type="hidden" name="state" value="{e(flow_state)}"><input type="hidden" name="credential" value="">'
        f'<p><button type="button" id="passkey-use">{e(t("passkey.login.button"))}</button></p>'
        '<p id="passkey-error" class="error" role="alert" hidden></p>'
        f'<p class="hint">{e(t("passkey.login.hint"))}</p></form>'))


async def finish(request: Request) -> Response:
    """POST /auth/passkey/finish (form: state, credential): check the assertion and offer the handover."""
    st = state(request)
    if not passkeys.usable(st.settings):
        return popup.ended(*popup.UNAVAILABLE, status=404)
    if not popup.posted_here(request):
        return popup.ended(*_REFUSED, status=403)
    raw = await request.body()
    if len(raw) > MAX_FORM:
        return popup.ended("failed.title", "passkey.tooMuch", status=413)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    flow = await st.logins.take_flow(form.get("state", ""))
    if flow is None or flow.get("provider") != passkeys.PROVIDER:
        return popup.ended("failed.title", "passkey.expired", status=400)
    try:
        credential_id, credential = passkeys.assertion(form.get("credential", ""))
        found = await st.passkeys.owner(credential_id)
        if found is None:
            raise passkeys.PasskeyError("passkey.unknown")
        uid, record = found
        record = passkeys.verify_authentication(st.settings, credential, flow["challenge"], uid, record)
    except passkeys.PasskeyError as exc:
        log.info("passkey sign-in refused: %s", exc)
        return popup.ended("failed.title", str(exc), status=400)
    user = await st.users.get(uid)
    if user is None:
        await st.passkeys.remove_all(uid)
        return popup.ended("failed.title", "passkey.deletedAccount", status=400)
    await st.passkeys.used(uid, credential_id, record)
    return await popup.handed_over(request, flow, user, passkeys.LABEL)


routes = [
    Route("/api/auth/passkeys", list_passkeys, methods=["GET"], name="passkeys:list"),
    Route("/api/auth/passkeys", add_passkey, methods=["POST"], name="passkeys:add"),
    Route("/api/auth/passkeys/ticket", new_ticket, methods=["POST"], name="passkeys:ticket"),
    Route("/api/auth/passkeys/options", registration_options, methods=["POST"], name="passkeys:options"),
    Route("/api/auth/passkeys/{credential}", remove_passkey, methods=["DELETE"], name="passkeys:remove"),
]
popup_routes = [
    Route("/passkey/add", add_page, methods=["GET"], name="auth:passkey_add"),
    Route("/passkey/start", start_page, methods=["GET"], name="auth:passkey_start"),
    Route("/passkey/finish", finish, methods=["POST"], name="auth:passkey_finish"),
]
