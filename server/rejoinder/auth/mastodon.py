"""Sign-in with Mastodon, or any server that speaks its API: the reader names their server, we register
an app there on first use (POST /api/v1/apps, kept per server), then run OAuth 2.0 with PKCE (Authlib's
protocol pieces) and read the account (GET /api/v1/accounts/verify_credentials).

Every request goes through the address guard (social/fetch.py): the server is the reader's to name, so
it must not make us reach our own network. An account is keyed by its handle on the server we asked
(name@host), never by what that server claims: a hostile server can only speak for its own accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from redis.asyncio import Redis

from ..settings import Settings
from ..social import posts
from ..social.fetch import RemoteError, request_json
from ..store import keys

PROVIDER = "mastodon"
LABEL = "Mastodon"
# Reading the account is all we ask for (Mastodon 4.x; older servers know only "read").
SCOPES = "read:accounts"
# A host name (the address guard decides whether it may be reached) or an IPv4 address.
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class SignInError(Exception):
    """What the reader is told (the key of its words in api/locales); `category` for our log."""

    def __init__(self, message: str, category: str = "") -> None:
        super().__init__(message)
        self.category = category


def server_of(value: object, *, allow_http: bool) -> str | None:
    """The server a reader typed ("mastodon.social", "https://mastodon.social", "@me@mastodon.social")
    as "https://host[:port]"; http:// only where the operator lets fetches reach private addresses
    (a test or a closed network). None if it is not a server's name."""
    if not isinstance(value, str) or not 0 < len(value) <= 300:
        return None
    text = value.strip()
    scheme = "https"
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or parts.username or parts.password or parts.query \
                or parts.fragment or parts.path not in ("", "/"):
            return None
        scheme, text = parts.scheme, parts.netloc
    elif text.count("@") in (1, 2):
        text = text.rsplit("@", 1)[1]  # @name@server or name@server
    host, _, port = text.lower().partition(":")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if not _HOST.match(host) or (port and (not port.isdigit() or not 0 < int(port) < 65536)):
        return None
    if scheme == "http" and not allow_http:
        return None
    return f"{scheme}://{host}{':' + port if port else ''}"


async def app_for(redis: Redis, client: httpx2.AsyncClient, settings: Settings, server: str,
                  redirect_uri: str) -> tuple[str, str]:
    """Our app's client id and secret on `server`: registered there the first time, then kept."""
    key = keys.mastodon_app(server, redirect_uri)
    kept = await redis.hmget(key, ["client_id", "client_secret"])
    if kept[0] and kept[1]:
        return kept[0], kept[1]
    try:
        answer = await request_json(client, settings, "POST", f"{server}/api/v1/apps", json={
            "client_name": settings.mastodon_client_name, "redirect_uris": redirect_uri, "scopes": SCOPES,
            "website": settings.public_url})
    except RemoteError as exc:
        raise SignInError("mastodon.notMastodon", exc.category) from None
    data = answer.data if isinstance(answer.data, dict) else {}
    client_id, secret = data.get("client_id"), data.get("client_secret")
    if not (isinstance(client_id, str) and isinstance(secret, str) and 0 < len(client_id) <= 200
            and 0 < len(secret) <= 200):
        raise SignInError("mastodon.notMastodon", "garbage")
    await redis.hset(key, mapping={"client_id": client_id, "client_secret": secret})
    return client_id, secret


async def forget_app(redis: Redis, server: str, redirect_uri: str) -> None:
    """The server no longer knows our app (it was deleted there): register again next time."""
    await redis.delete(keys.mastodon_app(server, redirect_uri))


@dataclass(frozen=True)
class Start:
    url: str
    state: str
    verifier: str


def authorization(server: str, client_id: str, redirect_uri: str) -> Start:
    """Where to send the reader: the server's authorize page, with a fresh state and a PKCE challenge."""
    state, verifier = generate_token(32), generate_token(64)
    url = prepare_grant_uri(f"{server}/oauth/authorize", client_id, "code", redirect_uri=redirect_uri,
                            scope=SCOPES, state=state, code_challenge=create_s256_code_challenge(verifier),
                            code_challenge_method="S256")
    return Start(url, state, verifier)


@dataclass(frozen=True)
class Account:
    id: str  # name@host, as we asked the host
    name: str
    avatar: str
    profile: str


async def account(client: httpx2.AsyncClient, settings: Settings, server: str, client_id: str, secret: str,
                  redirect_uri: str, code: str, verifier: str) -> Account:
    """Trade the code (with the PKCE verifier) for a token, and read the account it is for."""
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri, client_id=client_id,
                                 client_secret=secret, code_verifier=verifier, scope=SCOPES)
    try:
        token = await request_json(client, settings, "POST", f"{server}/oauth/token", content=body,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        access = token.data.get("access_token") if isinstance(token.data, dict) else None
        if not isinstance(access, str) or not access:
            raise SignInError("mastodon.notConfirmed", "garbage")
        me = await request_json(client, settings, "GET", f"{server}/api/v1/accounts/verify_credentials",
                                headers={"Authorization": f"Bearer {access}"})
    except RemoteError as exc:
        raise SignInError("mastodon.notConfirmed", exc.category) from None
    data: dict[str, Any] = me.data if isinstance(me.data, dict) else {}
    username = data.get("username")
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise SignInError("mastodon.notConfirmed", "garbage")
    host = urlsplit(server).netloc
    profile = posts.web_url(data.get("url"))
    # Its own profile page only: a server may not point a reader's name at another server's page.
    if urlsplit(profile).netloc.lower() != host:
        profile = ""
    return Account(id=f"{username.lower()}@{host}",
                   name=posts.text(data.get("display_name"), 80).strip() or f"@{username}@{host}",
                   avatar=posts.web_url(data.get("avatar_static") or data.get("avatar")),
                   profile=profile if profile.startswith("https://") else "")
