"""identity.current(request, site): the caller's identity on one site, never taken from the request body."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import re

from starlette.requests import HTTPConnection

from ..errors import ApiError
from ..models import Identity
from ..state import state
from ..store.sessions import READER, Session

# The widget's anonymous id: random, kept in the reader's browser, sent as a header.
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CLIENT_HEADER = "x-rejoinder-client"


@functools.lru_cache(maxsize=16_384)
def keyed_hash(secret: str, value: str, length: int = 24) -> str:
    """A keyed hash: IPs and client ids are stored only like this, so a leak of
    the database does not give them back. Remembered for the latest few thousand
    values: the same reader's IP and id come back request after request."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:length]


def client_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "0.0.0.0"


@functools.lru_cache(maxsize=16_384)
def network_of(ip: str) -> str:
    """What limits and bans count one client as: an IPv4 address, or an IPv6 address's /64 (one host
    usually holds a whole /64, 2^64 addresses to rotate through). IPv4-mapped IPv6 counts as IPv4."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_net(conn: HTTPConnection) -> str:
    return network_of(client_ip(conn))


def ip_hash(conn: HTTPConnection) -> str:
    """The keyed hash that rate limits and IP bans count the client by (its /64 for IPv6)."""
    return keyed_hash(state(conn).settings.secret_key, "ip:" + client_net(conn))


def guest_key(secret: str, site: str, client_id: str) -> str:
    """A guest's owner/liker key on one site, from the widget's anonymous id ("" if it sent none).

    Keyed by the site too: where the browser denies the frame storage, the id sits in
    the blog page's storage, and an id taken from one blog must not act as that
    reader on another."""
    if client_id and CLIENT_ID.match(client_id):
        return "g:" + keyed_hash(secret, f"client:{site}:{client_id}")
    return ""


def user_key(user: dict) -> str:
    return f"u:{user['id']}"


def bearer(conn: HTTPConnection) -> str | None:
    """The bearer token of the request, None if it sent no Authorization (401 if it sent a bad one)."""
    auth = conn.headers.get("authorization", "")
    if not auth:
        return None
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("invalid_session")
    return token.strip()


async def reader_session(conn: HTTPConnection, token: str, site: str | None) -> Session:
    """The reader session `token` opens on `site` (any site when None), else 401.

    A session is bound to the site and audience it was issued for: a token taken
    from one blog's page opens nothing on another blog, nor the dashboard."""
    origin = conn.headers.get("origin")
    if origin is not None and origin != state(conn).settings.public_origin:
        # Sessions belong to the comments iframe: a blog page's scripts cannot use
        # one through the reader's browser.
        raise ApiError("origin_not_allowed", "Sessions work only inside the comments frame.")
    session = await state(conn).sessions.get(token)
    if session is None or session.audience != READER or (site is not None and session.site != site):
        raise ApiError("invalid_session")
    return session


def of_session(session: Session) -> Identity:
    user = session.user
    return Identity(kind="user", key=user_key(user), user_id=user["id"], name=user.get("name", ""),
                    avatar=user.get("avatar", ""), profile=user.get("profile", ""),
                    provider=user.get("provider", ""), email=user.get("email", ""), kept=session.kept)


async def current(conn: HTTPConnection, site: str) -> Identity:
    """The caller on `site`: a reader session of that site makes a user; otherwise the
    widget's client id makes a guest of that site."""
    token = bearer(conn)
    if token is not None:
        return of_session(await reader_session(conn, token, site))
    return Identity(kind="guest", key=guest_key(state(conn).settings.secret_key, site,
                                                conn.headers.get(CLIENT_HEADER, "")))
