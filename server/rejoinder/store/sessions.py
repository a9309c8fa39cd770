"""SessionStore: random bearer tokens, stored only as hashes, with an expiry."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, redis: Redis, ttl_seconds: int = 30 * 24 * 3600) -> None:
        self.redis = redis
        self.ttl = ttl_seconds

    async def create(self, user: dict[str, Any]) -> str:
        token = secrets.token_urlsafe(32)
        await self.redis.set(keys.session(token_hash(token)), orjson.dumps(user), ex=self.ttl)
        return token

    async def get(self, token: str) -> dict[str, Any] | None:
        raw = await self.redis.get(keys.session(token_hash(token)))
        return orjson.loads(raw) if raw else None

    async def revoke(self, token: str) -> None:
        await self.redis.delete(keys.session(token_hash(token)))
