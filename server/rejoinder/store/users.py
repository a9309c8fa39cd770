"""UserStore: accounts keyed by (provider, provider user id), and their copied avatars."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

AVATAR_TTL = 90 * 24 * 3600  # refreshed at each login; an account unused for 90 days falls back to none


def user_id(provider: str, provider_user_id: str) -> str:
    """Never by name or email: two providers with the same numeric id stay two users."""
    return f"{provider}:{provider_user_id}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class UserStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def save(self, user: dict[str, Any]) -> None:
        await self.redis.set(keys.user(_digest(user["id"])), orjson.dumps(user))

    async def delete(self, uid: str) -> None:
        """The account record goes (its sessions are ended by SessionStore.revoke_all)."""
        await self.redis.delete(keys.user(_digest(uid)))

    async def get(self, uid: str) -> dict[str, Any] | None:
        raw = await self.redis.get(keys.user(_digest(uid)))
        return orjson.loads(raw) if raw else None

    async def save_avatar(self, uid: str, content_type: str, body: bytes) -> str:
        """Keep a copy of the provider's picture (their URLs expire); returns its digest."""
        digest = hashlib.sha256(body).hexdigest()[:32]
        await self.redis.set(keys.avatar(digest), orjson.dumps({"type": content_type, "body": body.hex()}),
                             ex=AVATAR_TTL)
        return digest

    async def avatar(self, digest: str) -> tuple[str, bytes] | None:
        raw = await self.redis.get(keys.avatar(digest))
        if not raw:
            return None
        data = orjson.loads(raw)
        return data["type"], bytes.fromhex(data["body"])
