"""OriginIndex: the union of every site's allowed origins, for CORS preflights.

A preflight names no site, so CORS can only ask "is this origin registered
anywhere?"; each handler then checks the origin against its own site.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from ..errors import redis_out_of_reach
from . import keys

STALE_RETRY_SECONDS = 1.0


class OriginIndex:
    def __init__(self, redis: Redis, cache_seconds: float) -> None:
        self.redis = redis
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, frozenset[str]] = (-1e9, frozenset())

    async def allowed(self, origin: str) -> bool:
        fetched, origins = self._cached
        if time.monotonic() - fetched > self.cache_seconds:
            try:
                origins = frozenset(await self.redis.smembers(keys.origin_index()))
            except Exception as exc:
                if fetched < 0 or not redis_out_of_reach(exc):
                    raise
                # Redis is out of reach: the origins last read still hold (sites
                # rarely change them), asked again in a second.
                self._cached = (time.monotonic() - self.cache_seconds + STALE_RETRY_SECONDS, origins)
            else:
                self._cached = (time.monotonic(), origins)
        return origin in origins

    async def rebuild(self, all_origins: set[str]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.origin_index())
            if all_origins:
                pipe.sadd(keys.origin_index(), *sorted(all_origins))
            await pipe.execute()
        self._cached = (-1e9, frozenset())
