"""Fixed-window write limits per client IP hash and per identity."""

from __future__ import annotations

import time
from typing import Any, Callable

from redis.asyncio import Redis

from ..errors import ApiError
from . import keys


class RateLimiter:
    def __init__(self, redis: Redis, window: int) -> None:
        self.redis = redis
        self.window = window

    async def hit(self, limits: list[tuple[str, str, int]], *also: Callable[[Any], None]) -> list[Any]:
        """Count one write against each (kind, digest, limit); 429 if any is over.
        `also` are other reads for the same request (e.g. BanStore.ask), sent in the
        same round trip; their replies are returned in order.

        The counters live in different slots, so they go in one non-transactional
        pipeline (split by node on a cluster): SET NX gives a new window's counter
        its expiry, INCR counts. The key names the window, and its expiry outlives
        the window by a second, so the INCR always finds the key SET NX left (a
        counter without an expiry would never reset)."""
        now = int(time.time())
        slot = now // self.window
        async with self.redis.pipeline(transaction=False) as pipe:
            for kind, digest, _ in limits:
                key = keys.rate(kind, digest, slot)
                pipe.set(key, 0, ex=self.window + 1, nx=True)
                pipe.incr(key)
            for stage in also:
                stage(pipe)
            replies = await pipe.execute()
        for (_, _, limit), count in zip(limits, replies[1:2 * len(limits):2]):
            if count > limit:
                retry = self.window - now % self.window
                raise ApiError("rate_limited", headers={"Retry-After": str(max(1, retry))})
        return replies[2 * len(limits):]
