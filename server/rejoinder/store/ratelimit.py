"""Sliding-window write limits per client IP hash and per identity, on each site."""

from __future__ import annotations

import time
from collections.abc import Sequence

from redis.asyncio import Redis

from ..errors import ApiError
from . import keys
from .steps import Steps


class RateLimiter:
    def __init__(self, redis: Redis, window: int, steps: Steps | None = None) -> None:
        self.redis = redis
        self.window = window
        self._steps = steps or Steps(redis)

    async def hit(self, site: str, limits: list[tuple[str, str, int]], ban_fields: Sequence[str] = ()) -> bool:
        """Count one write on `site` against each (kind, digest, limit); 429 if any is over.
        In the same step (lib_count_write.lua in steps.lua, the site's slot), whether any of `ban_fields`
        (BanStore.fields) is banned on the site: the return value.

        A limit counts over the last `window` seconds, sliding: estimated from this fixed window's count and
        the previous one's share of the sliding window. Keys name their window and live two windows."""
        now = time.time()
        slot = int(now // self.window)
        into = (now % self.window) / self.window
        counters = [key for kind, digest, _ in limits
                    for key in (keys.rate(site, kind, digest, slot), keys.rate(site, kind, digest, slot - 1))]
        replies = await self._steps.run(keys.site_slot(site), "count_write", [keys.bans(site), *counters],
                                        [2 * self.window + 1, f"{into:.4f}", len(limits),
                                         *(limit for _, _, limit in limits), *ban_fields])
        for (_, _, limit), count in zip(limits, replies):
            if count > limit:
                # When enough of the earlier writes have slid out of the window for one more.
                retry = self.window - int(now % self.window)
                raise ApiError("rate_limited", headers={"Retry-After": str(max(1, retry))})
        return bool(replies[-1])
