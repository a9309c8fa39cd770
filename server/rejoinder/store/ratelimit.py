"""Fixed-window write limits per client IP hash and per identity."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from ..errors import ApiError
from . import keys

# One command per counter: count and set its expiry together (a counter without
# an expiry would never reset).
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RateLimiter:
    def __init__(self, redis: Redis, window: int) -> None:
        self.redis = redis
        self.window = window
        self._hit = redis.register_script(_HIT)

    async def hit(self, limits: list[tuple[str, str, int]]) -> None:
        """Count one write against each (kind, digest, limit); 429 if any is over.
        The counters live in different slots, so each is its own call, made at once."""
        now = int(time.time())
        slot = now // self.window
        used = await asyncio.gather(*[
            self._hit(keys=[keys.rate(kind, digest, slot)], args=[self.window + 1])
            for kind, digest, _ in limits])
        for (_, _, limit), count in zip(limits, used):
            if count > limit:
                retry = self.window - now % self.window
                raise ApiError("rate_limited", headers={"Retry-After": str(max(1, retry))})
