"""identity.current(request): the caller's identity, never taken from the request body."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re

from starlette.requests import HTTPConnection

from ..errors import ApiError
from ..models import Identity
from ..state import state

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


def ip_hash(conn: HTTPConnection) -> str:
    return keyed_hash(state(conn).settings.secret_key, "ip:" + client_ip(conn))


def guest_key(secret: str, client_id: str) -> str:
    """A guest's owner/liker key, from the widget's anonymous id ("" if it sent none)."""
    if client_id and CLIENT_ID.match(client_id):
        return "g:" + keyed_hash(secret, "client:" + client_id)
    return ""


def user_key(user: dict) -> str:
    return f"u:{user['id']}"


async def current(conn: HTTPConnection) -> Identity:
    """A bearer session makes a user; otherwise the widget's client id makes a guest."""
    auth = conn.headers.get("authorization", "")
    if auth:
        origin = conn.headers.get("origin")
        if origin is not None and origin != state(conn).settings.public_origin:
            # Sessions belong to the comments iframe. Where the browser denies the
            # iframe storage, the token is kept in the blog page's storage: this stops
            # that page's scripts from acting as the reader through the API.
            raise ApiError("origin_not_allowed", "Sessions work only inside the comments frame.")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError("invalid_session")
        user = await state(conn).sessions.get(token.strip())
        if user is None:
            raise ApiError("invalid_session")
        return Identity(kind="user", key=user_key(user), user_id=user["id"], name=user.get("name", ""),
                        avatar=user.get("avatar", ""), profile=user.get("profile", ""),
                        provider=user.get("provider", ""), email=user.get("email", ""))
    return Identity(kind="guest", key=guest_key(state(conn).settings.secret_key,
                                                conn.headers.get(CLIENT_HEADER, "")))
