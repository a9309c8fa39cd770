"""SessionStore: bearer sessions bound to one site and one audience, stored only as hashes, with an expiry.

A token is "<user digest>.<random>": the digest names the user's hash slot, so a
session, the user's index of sessions and "sign out everywhere" are each one
atomic step in one slot, on a single Redis and on a cluster alike.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

READER = "reader"
ADMIN = "admin"
AUDIENCES = (READER, ADMIN)
# Where the browser keeps the token: the comments frame's own storage, or (when the
# browser denies the frame storage) the blog page's, which that page's scripts can read.
FRAME = "frame"
PAGE = "page"

TOKEN = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_digest(uid: str) -> str:
    """The digest that names a user's slot (as UserStore keys the account)."""
    return hashlib.sha256(uid.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Session:
    """What a token opens: one user, for one audience, on one site (readers) or the dashboard (admins)."""

    user: dict[str, Any]
    audience: str
    site: str  # the site a reader session belongs to; "" for the dashboard
    kept: str
    issued: int  # ms

    @property
    def uid(self) -> str:
        return str(self.user.get("id", ""))


def record(user: dict[str, Any], audience: str, site: str, kept: str, issued: int) -> bytes:
    """The stored form of a session (tests write sessions with it too)."""
    if audience not in AUDIENCES or kept not in (FRAME, PAGE) or (audience == READER) != bool(site):
        raise ValueError("a reader session names its site; an admin session names none")
    return orjson.dumps({"user": user, "aud": audience, "site": site, "kept": kept, "iat": issued})


def new_token(uid: str) -> str:
    return f"{user_digest(uid)}.{secrets.token_urlsafe(32)}"


class SessionStore:
    def __init__(self, redis: Redis, ttl_seconds: int = 30 * 24 * 3600) -> None:
        self.redis = redis
        self.ttl = ttl_seconds

    async def create(self, user: dict[str, Any], *, audience: str, site: str = "", kept: str = FRAME,
                     ttl_seconds: int | None = None) -> str:
        token = new_token(user["id"])
        digest, hashed = user_digest(user["id"]), token_hash(token)
        ttl = min(ttl_seconds or self.ttl, self.ttl)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.user_session(digest, hashed), record(user, audience, site, kept,
                                                                int(time.time() * 1000)), ex=ttl)
            pipe.sadd(keys.user_sessions(digest), hashed)
            # The index lives as long as the longest session can: each new one renews it.
            pipe.expire(keys.user_sessions(digest), self.ttl)
            await pipe.execute()
        return token

    async def get(self, token: str) -> Session | None:
        found = TOKEN.match(token)
        if found is None:
            return None
        raw = await self.redis.get(keys.user_session(found.group(1), token_hash(token)))
        if not raw:
            return None
        data = orjson.loads(raw)
        if not isinstance(data, dict) or data.get("aud") not in AUDIENCES:
            return None  # a session stored before sessions were bound: sign in again
        return Session(user=data["user"], audience=data["aud"], site=data.get("site") or "",
                       kept=data.get("kept") or FRAME, issued=int(data.get("iat") or 0))

    async def revoke(self, token: str) -> None:
        found = TOKEN.match(token)
        if found is None:
            return
        digest, hashed = found.group(1), token_hash(token)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.user_session(digest, hashed))
            pipe.srem(keys.user_sessions(digest), hashed)
            await pipe.execute()

    async def revoke_all(self, uid: str) -> int:
        """Sign the user out everywhere: every site, both audiences. Returns how many sessions ended."""
        digest = user_digest(uid)
        hashes = await self.redis.smembers(keys.user_sessions(digest))
        async with self.redis.pipeline(transaction=True) as pipe:
            for hashed in hashes:
                pipe.delete(keys.user_session(digest, hashed))
            pipe.delete(keys.user_sessions(digest))
            done = await pipe.execute()
        return sum(int(n) for n in done[:-1])

    async def count(self, uid: str) -> int:
        """How many of the user's sessions are still alive (the index drops the expired ones)."""
        digest = user_digest(uid)
        hashes = sorted(await self.redis.smembers(keys.user_sessions(digest)))
        if not hashes:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for hashed in hashes:
                pipe.exists(keys.user_session(digest, hashed))
            alive = await pipe.execute()
        dead = [h for h, ok in zip(hashes, alive) if not ok]
        if dead:
            await self.redis.srem(keys.user_sessions(digest), *dead)
        return len(hashes) - len(dead)
