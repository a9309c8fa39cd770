"""Social login: the popup flow at the provider, the one-time handover to the iframe, sessions."""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import secrets
import time
from typing import Any

import httpx2
import orjson
from authlib.integrations.starlette_client import OAuthError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .. import models
from ..auth import identity, mastodon, sso
from ..porting import exporter, forget
from ..auth.avatars import copy_avatar
from ..auth.providers import PROVIDERS, Profile, choices, enabled
from ..errors import ApiError
from ..notify import templates
from ..notify.mail import compose
from ..state import state
from ..store import keys
from ..store.sessions import ADMIN, FRAME, PAGE, READER
from ..store.users import user_id
from . import popup
from .common import JSON, read_json, site_for

log = logging.getLogger("rejoinder.auth")


def hash_secret(secret: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).rstrip(b"=").decode()


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
    Only a navigation from our own frame or dashboard may start a sign-in (started_here).
    There is no return-to parameter at all, so nothing here can be turned into an open redirect.
    """
    provider = request.path_params["provider"]
    client = _client(request, provider)
    if client is None:
        return popup.ended(*popup.UNAVAILABLE, status=404)
    if not popup.started_here(request):
        return popup.ended(*popup.REFUSED, status=403)
    h, site_id = request.query_params.get("h", ""), request.query_params.get("site", "")
    audience = await popup.audience(request, h, site_id, request.query_params.get("for") == "admin")
    if isinstance(audience, Response):
        return audience
    if (refused := await popup.over_limit(request, site_id)) is not None:
        return refused
    uri = redirect_uri(request, provider)
    rv = await client.create_authorization_url(uri)
    await client.save_authorize_data(request, redirect_uri=uri, **rv)
    await state(request).logins.start_flow(rv["state"], {"h": h, "site": site_id, "provider": provider,
                                                         "aud": audience})
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


async def finish_login(request: Request) -> Response:
    """GET /auth/{provider}/callback: the provider sends the reader back here.

    Checks state (with Authlib: single use, bound to this browser's session marker),
    exchanges the code with the PKCE verifier, reads the account, and offers a
    one-time handover to the frame or dashboard that started the login.
    """
    provider = request.path_params["provider"]
    client = _client(request, provider)
    if client is None:
        return popup.ended(*popup.UNAVAILABLE, status=404)
    if request.query_params.get("error"):
        await state(request).logins.take_flow(request.query_params.get("state", ""))
        return popup.provider_said_no(request.query_params["error"], "failed.problem", provider=PROVIDERS[provider].label)
    flow = await state(request).logins.take_flow(request.query_params.get("state", ""))
    if flow is None or flow["provider"] != provider or flow.get("aud") not in (READER, ADMIN):
        return popup.ended(*popup.EXPIRED, status=400)
    try:
        token = await client.authorize_access_token(request)
        profile = await _profile(request, client, provider, token)
    except (OAuthError, httpx2.HTTPError, KeyError, ValueError) as exc:
        log.info("login with %s failed: %s", provider, exc)
        return popup.ended("failed.title", "failed.notConfirmed", provider=PROVIDERS[provider].label, status=400)
    uid = user_id(provider, profile.id)
    avatar = await copy_avatar(state(request), uid, profile.avatar_url)
    user = {"id": uid, "provider": provider, "name": models.clean_line(profile.name, "name", max_len=200)[:80]
            or PROVIDERS[provider].label + " user",
            "avatar": avatar, "profile": profile.profile if profile.profile.startswith("https://") else "",
            "email": profile.email}
    await state(request).users.save(user)
    return await popup.handed_over(request, flow, user, PROVIDERS[provider].label)


# --- Mastodon: the reader names their server first (auth/mastodon.py) -------------------------


def _server_page(h: str, site_id: str, for_admin: bool, error: str = "", typed: str = "", *,
                 status: int = 200) -> HTMLResponse:
    """The popup's first page for Mastodon: which server is the reader's account on?"""
    return popup.ask("mastodon", form_id="mastodon-server", action="/auth/mastodon/start", field="server",
                     placeholder="mastodon.social", autocomplete="url",
                     h=h, site_id=site_id, for_admin=for_admin, error=error, typed=typed, status=status)


async def start_mastodon(request: Request) -> Response:
    """GET /auth/mastodon/start?site=&h= (or ?for=admin&h=): asks the reader for their server.
    POST (form: server, h, site, for): registers our app there if needed and sends the reader to its
    authorize page (OAuth 2.0 with PKCE). Only from our own frame, dashboard or this page."""
    st = state(request)
    if not st.settings.mastodon_login:
        return popup.ended(*popup.UNAVAILABLE, status=404)
    step = await popup.first_step(request, _server_page, "server")
    if isinstance(step, Response):
        return step
    h, site_id, for_admin, typed, audience = step
    server = mastodon.server_of(typed, allow_http=st.settings.fetch_private_ok)
    if server is None:
        return _server_page(h, site_id, for_admin, "mastodon.notServer", typed, status=422)
    if (refused := await popup.over_limit(request, site_id)) is not None:
        return refused
    uri = redirect_uri(request, mastodon.PROVIDER)
    try:
        async with httpx2.AsyncClient() as client:
            client_id, _ = await mastodon.app_for(st.redis, client, st.settings, server, uri)
    except mastodon.SignInError as exc:
        log.info("mastodon sign-in at %s: %s", server, exc.category)
        return _server_page(h, site_id, for_admin, str(exc), typed, status=502)
    start = mastodon.authorization(server, client_id, uri)
    await st.logins.start_flow(start.state, {"h": h, "site": site_id, "provider": mastodon.PROVIDER, "aud": audience,
                                             "server": server, "verifier": start.verifier})
    return popup.onward("mastodon", start.url)


async def finish_mastodon(request: Request) -> Response:
    """GET /auth/mastodon/callback: the reader's server sends them back with a code (or an error)."""
    st = state(request)
    if not st.settings.mastodon_login:
        return popup.ended(*popup.UNAVAILABLE, status=404)
    flow = await st.logins.take_flow(request.query_params.get("state", ""))
    if request.query_params.get("error"):
        return popup.provider_said_no(request.query_params["error"], "failed.serverProblem")
    code = request.query_params.get("code", "")
    if flow is None or flow.get("provider") != mastodon.PROVIDER or flow.get("aud") not in (READER, ADMIN) \
            or not code or len(code) > 512:
        return popup.ended(*popup.EXPIRED, status=400)
    uri = redirect_uri(request, mastodon.PROVIDER)
    try:
        async with httpx2.AsyncClient() as client:
            client_id, secret = await mastodon.app_for(st.redis, client, st.settings, flow["server"], uri)
            account = await mastodon.account(client, st.settings, flow["server"], client_id, secret, uri, code,
                                             flow["verifier"])
    except mastodon.SignInError as exc:
        log.info("mastodon sign-in at %s failed: %s", flow["server"], exc.category)
        if exc.category == "http_error":
            await mastodon.forget_app(st.redis, flow["server"], uri)  # it may no longer know our app: register anew
        return popup.ended("failed.title", "failed.tryAgain", error=popup.t(str(exc)), status=400)
    uid = user_id(mastodon.PROVIDER, account.id)
    user = {"id": uid, "provider": mastodon.PROVIDER,
            "name": models.clean_line(account.name, "name", max_len=200)[:80] or account.id,
            "avatar": await copy_avatar(st, uid, account.avatar), "profile": account.profile, "email": ""}
    await st.users.save(user)
    return await popup.handed_over(request, flow, user, mastodon.LABEL)


# --- a link by mail: the reader types their address, opens the link in the same browser -------------

EMAIL_COOKIE = "rj_email"
EMAIL_EVERY_SECONDS = 60
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _email_page(h: str, site_id: str, *, error: str = "", field: str = "", name: str = "", email: str = "",
                status: int = 200) -> HTMLResponse:
    e = html.escape

    def invalid(which: str) -> str:
        return ' aria-invalid="true" aria-describedby="email-error"' if field == which else ""
    t = popup.t
    body = (f'<main><h1>{e(t("email.title"))}</h1><form id="email-login" method="post" action="/auth/email/start">'
            f'<label for="name">{e(t("email.name"))}</label><input id="name" name="name" required maxlength="80"'
            f' value="{e(name)}" autocomplete="name"{invalid("name")}>'
            f'<label for="email">{e(t("email.address"))}</label><input id="email" name="email" type="email" required'
            f' maxlength="254" value="{e(email)}" autocomplete="email" dir="ltr"{invalid("email")}>'
            + (f'<p id="email-error" class="error" role="alert">{e(t(error))}</p>' if error else "") +
            f'<input type="hidden" name="h" value="{e(h)}"><input type="hidden" name="site" value="{e(site_id)}">'
            f'<p><button type="submit">{e(t("email.send"))}</button></p>'
            f'<p class="hint">{e(t("email.hint"))}</p></form></main>')
    return HTMLResponse(popup.document(t("email.title"), body), status_code=status,
                        headers=popup.headers(popup.POPUP_CONFIRM_CSP))


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


async def start_email(request: Request) -> Response:
    """GET /auth/email/start?site=&h=: asks a reader for their name and address. POST (form: name, email, h,
    site): mails them a sign-in link (single use, REJOINDER_EMAIL_LINK_MINUTES, bound to this browser by a
    first-party cookie of the popup), at most one a minute per address, counted per client address too."""
    st = state(request)
    if not (st.settings.email_login and st.settings.mail_enabled):
        return popup.ended(*popup.UNAVAILABLE, status=404)
    if request.method == "GET":
        if not popup.started_here(request):
            return popup.ended(*popup.REFUSED, status=403)
        h, site_id = request.query_params.get("h", ""), request.query_params.get("site", "")
        audience = await popup.audience(request, h, site_id, False)
        return audience if isinstance(audience, Response) else _email_page(h, site_id)
    if not popup.posted_here(request):
        return popup.ended(*popup.REFUSED_POST, status=403)
    form = popup.posted_form(await request.body())
    h, site_id, name, email = form.get("h", ""), form.get("site", ""), form.get("name", ""), form.get("email", "")
    audience = await popup.audience(request, h, site_id, False)
    if isinstance(audience, Response):
        return audience
    try:
        name = models.clean_line(name, "name", max_len=80, required=True)
        email = models.clean_email(email)
        if not email:
            raise ApiError("invalid_email", field="email")
    except ApiError as exc:
        error = "email.addressInvalid" if exc.field == "email" else \
            "email.nameMissing" if exc.code == "missing_field" else "email.nameInvalid"
        return _email_page(h, site_id, error=error, field=exc.field or "", name=name, email=email, status=422)
    site = await st.sites.get(site_id)
    assert site is not None
    if (refused := await popup.over_limit(request, site.id)) is not None:
        return refused
    address = identity.keyed_hash(st.settings.secret_key, "email:" + email.lower())
    if not await st.logins.may_mail(address, EMAIL_EVERY_SECONDS):
        return popup.ended("email.sent.title", "email.sentRecently", address=_masked(email), status=429)
    token, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    minutes = st.settings.email_link_minutes
    await st.logins.save_link(token, browser, {"h": h, "site": site.id, "email": email, "name": name}, minutes * 60)
    url = f"{st.settings.public_url.rstrip('/')}/auth/email/verify?t={token}"
    mail = templates.signin(site.language, site=site.name or site.id, url=url, minutes=minutes)
    await st.notify.queue_mail(site.id, compose(st.settings, to=email, site_name=site.name or site.id, mail=mail,
                                                unsubscribe="", kind="signin"))
    # Not popup.ended: its script would tell the frame that the sign-in ended, and the frame must keep waiting.
    e = html.escape
    t = popup.t
    response = HTMLResponse(popup.document(t("email.sent.title"), (
        f'<main id="email-sent"><h1>{e(t("email.sent.title"))}</h1>'
        f'<p>{e(t("email.sent.text", address=_masked(email), minutes=str(minutes)))}</p>'
        f'<p class="hint">{e(t("email.sent.hint"))}</p></main>')), headers=popup.headers())
    response.set_cookie(EMAIL_COOKIE, browser, max_age=minutes * 60, path="/auth/email", httponly=True,
                        secure=st.settings.public_url.startswith("https://"), samesite="lax")
    return response


async def verify_email(request: Request) -> Response:
    """GET /auth/email/verify?t=: the link from the mail: a page with a button (a mail scanner that follows
    links signs no one in). POST: from the browser that asked (its cookie), once: the reader is signed in,
    and the frame that opened the sign-in window collects the session."""
    st = state(request)
    token = request.query_params.get("t", "")
    if not (st.settings.email_login and st.settings.mail_enabled) or not TOKEN.match(token):
        return popup.ended("failed.title", "email.invalidLink", status=404)
    if request.method == "GET":
        if not await st.logins.peek_link(token):
            return popup.ended("expired.title", "email.expired", status=410)
        e, t = html.escape, popup.t
        body = (f'<main><h1>{e(t("email.confirm.title"))}</h1>'
                f'<form method="post"><p><button type="submit">{e(t("email.confirm.button"))}</button></p></form>'
                f'<p class="hint">{e(t("email.confirm.hint"))}</p></main>')
        return HTMLResponse(popup.document(t("email.confirm.title"), body),
                            headers=popup.headers(popup.POPUP_CONFIRM_CSP))
    if request.headers.get("origin") != st.settings.public_origin:
        return popup.ended("refused.title", "email.notFromLink", status=403)
    outcome, data = await st.logins.take_link(token, request.cookies.get(EMAIL_COOKIE, ""))
    if outcome == "wrong_browser":
        return popup.ended("email.wrongBrowser.title", "email.wrongBrowser.text", status=403)
    if data is None:
        return popup.ended("expired.title", "email.expired", status=410)
    email = data["email"]
    address = identity.keyed_hash(st.settings.secret_key, "email:" + email.lower())
    uid = user_id("email", address[:32])
    user = {"id": uid, "provider": "email", "name": data["name"], "avatar": "", "profile": "", "email": email}
    await st.users.save(user)
    # The address's owner opened the link: it counts as confirmed on this site ("notify me", first comments).
    await st.sites.confirm_email(data["site"], address)
    code = secrets.token_urlsafe(16)
    await st.logins.offer(data["h"], code, uid, data["site"], READER)
    # Pressed in the browser that asked, naming nothing but this sign-in: the frame may collect it.
    await st.logins.confirm(data["h"], code)
    response = popup.confirmed()
    response.delete_cookie(EMAIL_COOKIE, path="/auth/email")
    return response


async def confirm_login(request: Request) -> Response:
    """POST /auth/confirm (form: h, code): the reader confirms, in the popup, a sign-in whose popup
    could not hand its code to an opener of ours. Only then may the frame collect the session by
    its secret alone. The code is on that popup's page only, so no other page can confirm."""
    if not popup.posted_here(request):
        return popup.ended("refused.title", "refused.confirm", status=403)
    form = popup.posted_form(await request.body())
    h, code = form.get("h", ""), form.get("code", "")
    if not popup.SECRET_HASH.match(h) or not code or len(code) > 64 \
            or not await state(request).logins.confirm(h, code):
        return popup.ended("expired.title", "expired.text", status=400)
    return popup.confirmed()


def _me(user: dict[str, Any], kept: str = FRAME) -> dict[str, Any]:
    email = user.get("email") or ""
    return {"kind": "user", "name": user["name"], "avatar": user.get("avatar") or None,
            "provider": user["provider"], "profile": user.get("profile") or None,
            "email": (email if kept != PAGE else "") or None, "has_email": bool(email), "kept": kept}


async def redeem_handover(request: Request) -> JSON:
    """POST /api/auth/handover {"secret", "code"?, "keep"?}: the frame or dashboard collects its session, once.

    Only the one that started the login can redeem: it holds the secret whose hash started
    the flow AND either the code the popup handed it (postMessage to a same-origin opener)
    or, when the popup lost its opener, the reader's confirmation in the popup. Knowing the
    secret alone (whoever chose `h` does) gets handover_pending until then.
    "keep": "page" asks for a short-lived session that the blog page may hold (the frame has no
    storage of its own): it never shows the reader's email address.
    Errors: handover_pending 404, handover_mismatch 403, missing_field 422, invalid_field 422,
    origin_not_allowed 403, malformed_json 400, unsupported_media_type 415.
    """
    st = state(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != st.settings.public_origin:
        raise ApiError("origin_not_allowed")
    body = await read_json(request)
    secret = body.get("secret")
    if not isinstance(secret, str) or not 32 <= len(secret) <= 128:
        raise ApiError("missing_field", "secret is required.", field="secret")
    code = body.get("code")
    if code is not None and (not isinstance(code, str) or not 0 < len(code) <= 64):
        raise ApiError("invalid_field", "code must be the code the sign-in window gave.", field="code")
    kept = body.get("keep", FRAME)
    if kept not in (FRAME, PAGE):
        raise ApiError("invalid_field", "keep must be frame or page.", field="keep")
    taken = await st.logins.take(hash_secret(secret), code or "")
    if taken.outcome == "mismatch":
        raise ApiError("handover_mismatch")
    if taken.outcome != "ok":
        raise ApiError("handover_pending")
    user = await st.users.get(taken.uid)
    if user is None:
        raise ApiError("handover_pending")
    if taken.audience == ADMIN:
        kept = FRAME  # the dashboard is a page of ours: it has storage of its own
    ttl = st.settings.page_session_hours * 3600 if kept == PAGE else None
    token = await st.sessions.create(user, audience=taken.audience, site=taken.site, kept=kept, ttl_seconds=ttl)
    return JSON({"token": token, "me": _me(user, kept)})


async def sso_sign_in(request: Request) -> JSON:
    """POST /api/auth/sso {"site", "token", "keep"?}: trade the blog's signed token for its member
    (auth/sso.py) for a reader session of that site, once per token. "keep": "page" as for the handover.

    Errors: sso_invalid 401, sso_expired 401, sso_used 409, not_found 404 (the site has no single sign-on),
    site_not_found, origin_not_allowed 403, invalid_field 422, malformed_json 400, unsupported_media_type 415.
    """
    st = state(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != st.settings.public_origin:
        raise ApiError("origin_not_allowed")  # the comments frame only: the blog page never holds the session
    body = await read_json(request)
    site = await site_for(request, body.get("site"))
    kept = body.get("keep", FRAME)
    if kept not in (FRAME, PAGE):
        raise ApiError("invalid_field", "keep must be frame or page.", field="keep")
    secret = await st.redis.get(keys.sso_secret(site.id))
    if not secret:
        raise ApiError("not_found", "This site has no single sign-on.")
    member = sso.verify(body.get("token"), secret, site.id)
    ttl = max(1, int(member["exp"] - time.time()) + sso.SKEW)
    if not await st.redis.set(keys.sso_used(site.id, sso.jti_digest(site.id, member["jti"])), "1", nx=True, ex=ttl):
        raise ApiError("sso_used")
    uid = user_id(sso.PROVIDER, sso.member_id(site.id, member["sub"]))
    avatar = await copy_avatar(st, uid, member["avatar"]) if member["avatar"] else ""
    user = {"id": uid, "provider": sso.PROVIDER, "name": member["name"], "avatar": avatar,
            "profile": member["url"], "email": member["email"], "site": site.id}
    await st.users.save(user)
    ttl_seconds = st.settings.page_session_hours * 3600 if kept == PAGE else None
    token = await st.sessions.create(user, audience=READER, site=site.id, kept=kept, ttl_seconds=ttl_seconds)
    return JSON({"token": token, "me": _me(user, kept)})


async def _own_session(request: Request) -> tuple[Any, Any]:
    """The caller's reader session of the site named in ?site=, kept by the comments frame itself: a session
    the blog page holds (its scripts can read it) never exports the reader's data or deletes their account."""
    token = identity.bearer(request)
    if token is None:
        raise ApiError("auth_required")
    site = await site_for(request, request.query_params.get("site"))
    session = await identity.reader_session(request, token, site.id)
    if session.kept != FRAME:
        raise ApiError("forbidden", "Open the comments where they keep their own storage to do this.")
    return site, session


async def download_my_data(request: Request) -> JSON:
    """GET /api/auth/me/data?site=: everything this server holds about the signed-in reader on the site
    (GDPR art. 15): their account, their comments (with their own email), what they liked and reacted to.

    Errors: auth_required 401, invalid_session 401, forbidden 403 (a session the blog page holds),
    site_not_found, origin_not_allowed 403, rate_limited 429.
    """
    st = state(request)
    site, session = await _own_session(request)
    key = identity.user_key(session.user)
    await st.limiter.hit(site.id, [("mydata:id", hashlib.sha256(key.encode()).hexdigest()[:24], 10)])
    tids = await st.porting.site_threads(site.id, scan=False)
    parts = [chunk async for chunk in exporter.chunks(site=site, tids=tids, porting=st.porting, fmt="json",
                                                      include_emails=True, identity=key)]
    mine = orjson.loads("".join(parts))
    async with st.redis.pipeline(transaction=False) as pipe:
        for tid in tids:
            pipe.smembers(keys.liked_by(tid, key))
            pipe.smembers(keys.reacted(tid, key))
        found = await pipe.execute()
    likes = {tid: sorted(found[2 * i]) for i, tid in enumerate(tids) if found[2 * i]}
    reactions = {tid: sorted(found[2 * i + 1]) for i, tid in enumerate(tids) if found[2 * i + 1]}
    user = session.user
    return JSON({
        "site": site.id,
        "exported": models.iso(time.time() * 1000),
        "account": {"identity": key, "provider": user.get("provider"), "name": user.get("name"),
                    "email": user.get("email") or None, "avatar": user.get("avatar") or None,
                    "profile": user.get("profile") or None,
                    "sessions": await st.sessions.count(session.uid),
                    "passkeys": [{"id": k, "created": models.iso(v["created"]),
                                  "used": models.iso(v["used"]) if v.get("used") else None}
                                 for k, v in (await st.passkeys.list(session.uid)).items()]},
        "threads": mine.get("threads", []),
        "likes": likes,
        "reactions": reactions,
    }, headers={"content-disposition": f'attachment; filename="rejoinder-{site.id}-my-data.json"'})


async def delete_me(request: Request) -> JSON:
    """DELETE /api/auth/me?site= {"confirm": true}: the signed-in reader deletes their account and their
    comments on the site (GDPR art. 17): each comment loses everything of them (one with replies stays as
    a "deleted" placeholder), their likes and reactions go, every session and passkey of theirs ends and the
    account record goes. Signing in again later starts afresh.

    Errors: auth_required 401, invalid_session 401, forbidden 403 (a session the blog page holds),
    missing_field 422 (confirm), site_not_found, origin_not_allowed 403, malformed_json 400,
    unsupported_media_type 415.
    """
    st = state(request)
    site, session = await _own_session(request)
    body = await read_json(request)
    if body.get("confirm") is not True:
        raise ApiError("missing_field", "Send {\"confirm\": true} to delete your account and comments.",
                       field="confirm")
    key = identity.user_key(session.user)
    tids = await st.porting.site_threads(site.id, scan=False)
    report = await forget.run(site.id, tids, email="", identity=key, porting=st.porting, feed=st.feed,
                              secret=st.settings.secret_key)
    ended = await st.sessions.revoke_all(session.uid)
    await st.passkeys.remove_all(session.uid)
    await st.users.delete(session.uid)
    return JSON({"deleted": {"comments": report["comments"], "placeholders": report["placeholders"],
                             "likes": report["likes"], "sessions": ended}})


async def get_me(request: Request) -> JSON:
    """GET /api/auth/me[?site=]: who the reader session belongs to, and the site it is bound to
    (with site=, only a session of that site answers). Errors: auth_required 401, invalid_session 401,
    origin_not_allowed 403."""
    token = identity.bearer(request)
    if token is None:
        raise ApiError("auth_required")
    site = request.query_params.get("site")
    session = await identity.reader_session(request, token, site if site else None)
    return JSON({"me": _me(session.user, session.kept), "site": session.site})


async def logout(request: Request) -> JSON:
    """POST /api/auth/logout [{"everywhere": true}]: end this session, or every session of its
    user (every site, readers' and the dashboard's). A session the blog page holds cannot end
    the others. Errors: auth_required 401, invalid_session 401, origin_not_allowed 403, forbidden 403,
    invalid_field 422, malformed_json 400, unsupported_media_type 415."""
    st = state(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != st.settings.public_origin:
        raise ApiError("origin_not_allowed")
    token = identity.bearer(request)
    if token is None:
        raise ApiError("auth_required")
    body = await read_json(request) if request.headers.get("content-type") else {}
    everywhere = body.get("everywhere", False)
    if not isinstance(everywhere, bool):
        raise ApiError("invalid_field", "everywhere must be true or false.", field="everywhere")
    session = await st.sessions.get(token)
    if session is None:
        raise ApiError("invalid_session")
    if everywhere:
        if session.kept == PAGE:
            # The blog page holds this token: it must not reach the reader's other sites.
            raise ApiError("forbidden", "Sign out everywhere from a browser that lets the comments keep their "
                           "own storage, or from the dashboard.")
        ended = await st.sessions.revoke_all(session.uid)
        return JSON({"me": {"kind": "guest"}, "ended": ended})
    await st.sessions.revoke(token)
    return JSON({"me": {"kind": "guest"}, "ended": 1})


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
    return JSON({"providers": choices(state(request).settings)})


routes = [
    Route("/api/auth/handover", redeem_handover, methods=["POST"], name="auth:handover"),
    Route("/api/auth/sso", sso_sign_in, methods=["POST"], name="auth:sso"),
    Route("/api/auth/me", get_me, methods=["GET"], name="auth:me"),
    Route("/api/auth/me", delete_me, methods=["DELETE"], name="auth:delete_me"),
    Route("/api/auth/me/data", download_my_data, methods=["GET"], name="auth:my_data"),
    Route("/api/auth/logout", logout, methods=["POST"], name="auth:logout"),
    Route("/api/auth/providers", list_providers, methods=["GET"], name="auth:providers"),
    Route("/api/avatars/u/{digest}", get_user_avatar, methods=["GET"], name="avatars:user"),
]
popup_routes = [
    # Mounted under /auth, with a first-party session cookie: the popup is a
    # top-level page on our origin, so this cookie works where third-party ones do not.
    Route("/email/start", start_email, methods=["GET", "POST"], name="auth:email_start"),
    Route("/email/verify", verify_email, methods=["GET", "POST"], name="auth:email_verify"),
    Route("/mastodon/start", start_mastodon, methods=["GET", "POST"], name="auth:mastodon_start"),
    Route("/mastodon/callback", finish_mastodon, methods=["GET"], name="auth:mastodon_callback"),
    Route("/{provider}/start", start_login, methods=["GET"], name="auth:start"),
    Route("/{provider}/callback", finish_login, methods=["GET"], name="auth:callback"),
    Route("/confirm", confirm_login, methods=["POST"], name="auth:confirm"),
]
