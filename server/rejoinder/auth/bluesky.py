"""Sign-in with Bluesky: the AT Protocol's OAuth profile, as a public web client.

The reader types their handle (or DID). We find who answers for it, step by step, trusting each step
only as far as the one before vouches for it:

1. handle -> DID (`com.atproto.identity.resolveHandle` on REJOINDER_BLUESKY_APPVIEW);
2. DID -> DID document (the PLC directory for did:plc, the host's /.well-known/did.json for did:web)
   -> the account's PDS (its `#atproto_pds` service);
3. PDS -> its authorization server (`/.well-known/oauth-protected-resource`) -> that server's metadata
   (`/.well-known/oauth-authorization-server`, whose `issuer` must be the server we asked).

Then OAuth 2.0 as the profile requires: a pushed authorization request (PAR) with PKCE (S256) and a
DPoP proof (an ES256 key made for this one sign-in, kept in the flow), the reader sent to the
authorization page with only the request_uri, and the code traded at the token endpoint with the same
DPoP key. Both endpoints may ask for a server nonce first (`use_dpop_nonce`): we retry once with it.

The answer's `sub` is the DID signed in. It must be the DID we resolved at the start, whose document
named this authorization server (through its PDS): a server may only speak for its own accounts. The
callback's `iss` must be that server too (mix-up defence). The account is keyed by DID; its name,
handle and picture come from the AppView's public profile. The tokens are used for nothing and kept
nowhere: we ask only for the `atproto` scope (identity).

Our client is described by a document we serve (its URL is the client_id), so nothing is registered.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx2
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey

from ..settings import Settings
from ..social import posts
from ..social.fetch import RemoteError, request_json

PROVIDER = "bluesky"
LABEL = "Bluesky"
SCOPE = "atproto"
METADATA_PATH = "/auth/bluesky/client-metadata.json"
CALLBACK_PATH = "/auth/bluesky/callback"
# The handle syntax of the AT Protocol: a domain name whose last label does not start with a digit.
HANDLE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
DID = re.compile(r"^did:(plc:[a-z2-7]{24}|web:[a-z0-9.-]{1,253})$")
DEADLINE_SECONDS = 15  # the whole look-up and push: up to six requests, each with its own time limit
PROFILE_URL = re.compile(r"^https?://[^/]+/profile/([^/?#]+)")


class SignInError(Exception):
    """A sign-in that cannot go on; the message is the key of the reader's words (api/locales), the
    category for the log."""

    def __init__(self, message: str, category: str = "") -> None:
        super().__init__(message)
        self.category = category


def usable(settings: Settings) -> bool:
    """Authorization servers fetch our client document over https (and send readers back to https)."""
    return settings.bluesky_login and (settings.public_url.startswith("https://") or settings.fetch_private_ok)


def client_id(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + METADATA_PATH


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def client_metadata(settings: Settings) -> dict[str, Any]:
    """The document at our client_id: who we are to every authorization server."""
    base = settings.public_url.rstrip("/")
    return {"client_id": client_id(settings), "client_name": settings.mastodon_client_name, "client_uri": base,
            "application_type": "web", "redirect_uris": [redirect_uri(settings)], "scope": SCOPE,
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "token_endpoint_auth_method": "none", "dpop_bound_access_tokens": True}


def handle_of(typed: object) -> str | None:
    """What the reader typed, as a handle or a DID ("@ann.bsky.social", a profile link, "did:plc:…"), or None."""
    if not isinstance(typed, str):
        return None
    value = typed.strip()
    found = PROFILE_URL.match(value)
    if found:
        value = found.group(1)
    value = value.removeprefix("@").strip().lower()
    if DID.match(value) or HANDLE.match(value):
        return value
    return None


def _url(value: object, settings: Settings) -> str:
    """A server's URL from a document: https, or http where closed networks are allowed (tests)."""
    if not isinstance(value, str) or len(value) > 2048:
        return ""
    parts = urlsplit(value)
    if not parts.netloc or parts.query or parts.fragment or parts.username:
        return ""
    if parts.scheme == "https" or (parts.scheme == "http" and settings.fetch_private_ok):
        return value.rstrip("/")
    return ""


def _list(value: object) -> list[Any]:
    """A list from a remote document, or an empty one (a hostile server may put anything there)."""
    return value if isinstance(value, list) else []


def _origin(value: object, settings: Settings) -> str:
    """A server named by a document (a PDS, an issuer): a bare origin, nothing after it."""
    url = _url(value, settings)
    return url if url and urlsplit(url).path in ("", "/") else ""


async def _get(client: httpx2.AsyncClient, settings: Settings, url: str) -> dict[str, Any]:
    answer = await request_json(client, settings, "GET", url)
    if not isinstance(answer.data, dict):
        raise RemoteError("garbage")
    return answer.data


@dataclass(frozen=True)
class Identity:
    did: str
    handle: str  # "" when the DID document does not claim the handle typed
    pds: str


async def resolve(client: httpx2.AsyncClient, settings: Settings, typed: str) -> Identity:
    """Handle (or DID) -> DID -> DID document -> PDS."""
    try:
        did, handle = typed, ""
        if not typed.startswith("did:"):
            handle = typed
            answer = await request_json(client, settings, "GET", f"{settings.bluesky_appview.rstrip('/')}/xrpc/"
                                        f"com.atproto.identity.resolveHandle?{urlencode({'handle': typed})}",
                                        statuses=(200, 400))  # 400: XRPC's "Unable to resolve handle"
            did = answer.data.get("did", "") if answer.status == 200 and isinstance(answer.data, dict) else ""
            if not isinstance(did, str) or not DID.match(did):
                raise SignInError("bluesky.noAccount", "not_found")
        if did.startswith("did:plc:"):
            doc = await _get(client, settings, f"{settings.bluesky_plc.rstrip('/')}/{quote(did)}")
        else:
            doc = await _get(client, settings, f"https://{did.removeprefix('did:web:')}/.well-known/did.json")
    except RemoteError as exc:
        if exc.category == "not_found":
            raise SignInError("bluesky.noAccount", exc.category) from None
        raise SignInError("bluesky.unreachable", exc.category) from None
    if doc.get("id") != did:
        raise SignInError("bluesky.badIdentity", "garbage")
    pds = ""
    for service in _list(doc.get("service")):
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds") \
                and service.get("type") == "AtprotoPersonalDataServer":
            pds = _origin(service.get("serviceEndpoint"), settings)
    if not pds:
        raise SignInError("bluesky.noServer", "garbage")
    claimed = handle if handle and f"at://{handle}" in _list(doc.get("alsoKnownAs")) else ""
    return Identity(did, claimed, pds)


@dataclass(frozen=True)
class Server:
    issuer: str
    par: str
    authorize: str
    token: str


async def authorization_server(client: httpx2.AsyncClient, settings: Settings, pds: str) -> Server:
    """The authorization server a PDS names, with its metadata checked."""
    try:
        resource = await _get(client, settings, f"{pds}/.well-known/oauth-protected-resource")
        servers = _list(resource.get("authorization_servers"))
        # The issuer exactly as named (compared as a string with the metadata's and the callback's iss).
        issuer = servers[0] if servers and _origin(servers[0], settings) else ""
        if not issuer or _origin(resource.get("resource"), settings) != pds:
            raise SignInError("bluesky.noSignIn", "garbage")
        meta = await _get(client, settings, f"{issuer.rstrip('/')}/.well-known/oauth-authorization-server")
    except RemoteError as exc:
        raise SignInError("bluesky.serverUnreachable", exc.category) from None
    endpoints = [_url(meta.get(k), settings) for k in ("pushed_authorization_request_endpoint",
                                                       "authorization_endpoint", "token_endpoint")]
    if meta.get("issuer") != issuer or not all(endpoints) \
            or "S256" not in _list(meta.get("code_challenge_methods_supported")) \
            or "ES256" not in _list(meta.get("dpop_signing_alg_values_supported")) \
            or SCOPE not in _list(meta.get("scopes_supported")):
        raise SignInError("bluesky.unusable", "garbage")
    return Server(issuer, *endpoints)


def dpop_proof(key: ECKey, method: str, url: str, nonce: str) -> str:
    """A DPoP proof (RFC 9449) for one request: signed with the sign-in's key, whose public half it carries."""
    claims = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url, "iat": int(time.time())}
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}, claims, key)


async def _dpop_post(client: httpx2.AsyncClient, settings: Settings, url: str, form: dict[str, str], key: ECKey,
                     nonce: str) -> tuple[dict[str, Any], str]:
    """POST a form with a DPoP proof; when the server asks for its nonce first, once more with it."""
    for attempt in range(2):
        answer = await request_json(client, settings, "POST", url, content=urlencode(form),
                                    headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "DPoP": dpop_proof(key, "POST", url, nonce)},
                                    statuses=(200, 201, 400, 401))
        data = answer.data if isinstance(answer.data, dict) else {}
        nonce = (answer.headers or {}).get("dpop-nonce", nonce)[:512]
        if answer.status in (200, 201):
            return data, nonce
        if data.get("error") != "use_dpop_nonce" or attempt:
            raise RemoteError("http_error", detail=str(data.get("error", answer.status))[:100])
    raise RemoteError("http_error")  # not reached


@dataclass(frozen=True)
class Start:
    url: str  # where to send the reader
    state: str
    flow: dict[str, Any]  # what the callback needs (kept with the login flow)


async def begin(client: httpx2.AsyncClient, settings: Settings, typed: str) -> Start:
    """Find the reader's authorization server and push our request to it, all within DEADLINE_SECONDS."""
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            return await _begin(client, settings, typed)
    except TimeoutError:
        raise SignInError("bluesky.slow", "timeout") from None


async def _begin(client: httpx2.AsyncClient, settings: Settings, typed: str) -> Start:
    identity = await resolve(client, settings, typed)
    server = await authorization_server(client, settings, identity.pds)
    key = ECKey.generate_key("P-256")
    state, verifier = generate_token(32), generate_token(64)
    form = {"client_id": client_id(settings), "response_type": "code", "redirect_uri": redirect_uri(settings),
            "scope": SCOPE, "state": state, "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256", "login_hint": identity.handle or identity.did}
    try:
        pushed, nonce = await _dpop_post(client, settings, server.par, form, key, "")
    except RemoteError as exc:
        raise SignInError("bluesky.refused", exc.category) from None
    request_uri = pushed.get("request_uri")
    if not isinstance(request_uri, str) or not request_uri.startswith("urn:ietf:params:oauth:request_uri:") \
            or len(request_uri) > 512:
        raise SignInError("bluesky.refused", "garbage")
    url = f"{server.authorize}?{urlencode({'client_id': client_id(settings), 'request_uri': request_uri})}"
    return Start(url, state, {"did": identity.did, "handle": identity.handle, "issuer": server.issuer,
                              "token": server.token,
                              "verifier": verifier, "key": key.as_dict(private=True), "nonce": nonce})


@dataclass(frozen=True)
class Account:
    did: str
    name: str
    handle: str
    avatar: str


async def finish(client: httpx2.AsyncClient, settings: Settings, flow: dict[str, Any], code: str,
                 issuer: str) -> Account:
    """Trade the code for the account it signs in, and check it is the account we looked up."""
    if issuer != flow["issuer"]:
        raise SignInError("bluesky.mixUp", "mix_up")
    key = ECKey.import_key(flow["key"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(settings),
            "client_id": client_id(settings), "code_verifier": flow["verifier"]}
    try:
        token, _ = await _dpop_post(client, settings, flow["token"], form, key, flow.get("nonce", ""))
    except RemoteError as exc:
        raise SignInError("bluesky.notConfirmed", exc.category) from None
    if token.get("sub") != flow["did"] or str(token.get("token_type", "")).lower() != "dpop" \
            or SCOPE not in str(token.get("scope", "")).split():
        # A server speaking for an account whose identity does not name it, or an answer out of shape.
        raise SignInError("bluesky.notConfirmed", "wrong_account")
    return await profile(client, settings, flow["did"], flow.get("handle", ""))


async def profile(client: httpx2.AsyncClient, settings: Settings, did: str, handle: str = "") -> Account:
    """The account's public name, handle and picture (the AppView's app.bsky.actor.getProfile); `handle`: the
    one its identity document claimed, for when the AppView does not answer."""
    try:
        data = await _get(client, settings, f"{settings.bluesky_appview.rstrip('/')}/xrpc/"
                          f"app.bsky.actor.getProfile?{urlencode({'actor': did})}")
    except RemoteError:
        data = {}  # signed in all the same: named by their DID until the profile answers
    if data.get("did") == did and HANDLE.match(str(data.get("handle", ""))):
        handle = data["handle"]
    if handle == "handle.invalid":  # the AppView's word for a handle that no longer checks out
        handle = ""
    name = posts.text(data.get("displayName"), 80).strip() if data.get("did") == did else ""
    return Account(did=did, name=(name or (f"@{handle}" if handle else did))[:80], handle=handle or "",
                   avatar=posts.web_url(data.get("avatar")) if data.get("did") == did else "")
