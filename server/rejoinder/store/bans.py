"""BanStore: a site's banned identities, email hashes and IP hashes; their new comments go to spam."""

from __future__ import annotations

from typing import Any, Callable

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
    def ask(site: str, identity: str, email_hash: str, ip_hash: str) -> Callable[[Any], None]:
        """A pipeline stage asking whether any of these is banned on the site (its reply goes to banned()):
        the comment path sends it in the rate limiter's round trip."""
        fields = [f"identity:{identity}" if identity else "-", f"email:{email_hash}" if email_hash else "-",
                  f"ip:{ip_hash}" if ip_hash else "-"]
        return lambda pipe: pipe.hmget(keys.bans(site), fields)

    @staticmethod
    def banned(reply: list[Any]) -> bool:
        return any(reply)
