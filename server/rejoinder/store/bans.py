"""BanStore: a site's banned identities, email hashes and IP hashes; their new comments go to spam."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

KINDS = ("identity", "email", "ip")


class BanStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, site: str, kind: str, value: str, note: str, now_ms: int) -> dict[str, Any]:
        ban = {"kind": kind, "value": value, "note": note, "created": now_ms}
        await self.redis.hset(keys.bans(site), f"{kind}:{value}", orjson.dumps(ban).decode())
        return ban

    async def remove(self, site: str, kind: str, value: str) -> bool:
        return bool(await self.redis.hdel(keys.bans(site), f"{kind}:{value}"))

    async def list(self, site: str) -> list[dict[str, Any]]:
        raw = await self.redis.hvals(keys.bans(site))
        return sorted((orjson.loads(v) for v in raw), key=lambda b: -b.get("created", 0))

    @staticmethod
    def fields(identity: str, email_hash: str, ip_hash: str) -> list[str]:
        """The fields a ban of any of these would have: the comment path asks for them in the
        rate limiter's step (RateLimiter.hit)."""
        return [f"{kind}:{value}" for kind, value in (("identity", identity), ("email", email_hash), ("ip", ip_hash))
                if value]
