"""Fixed-window write limits per client IP hash and per identity."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from ..errors import ApiError
from . import keys


class RateLimiter:
    def __init__(self, redis: Redis, window: int) -> None:
        self.redis = redis
        self.window = window

    async def hit(self, limits: list[tuple[str, str, int]]) -> None:
        """Count one write against each (kind, digest, limit); 429 if any is over."""
        now = int(time.time())
        slot = now // self.window
        async with self.redis.pipeline(transaction=False) as pipe:
            for kind, digest, _ in limits:
                key = keys.rate(kind, digest, slot)
                pipe.incr(key)
                pipe.expire(key, self.window + 1, nx=True)
            results = await pipe.execute()
        for (kind, _, limit), used in zip(limits, results[::2]):
            if used > limit:
                retry = self.window - now % self.window
                raise ApiError("rate_limited", headers={"Retry-After": str(max(1, retry))})
