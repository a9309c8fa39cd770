"""FeedStore: each site's feed of "thread T changed", for the consumers of the event log.

A thread's event log is the record; it lives in the thread's hash slot, and a
site's keys live in another, so no single atomic step can write both on a
cluster. The feed entry is written right after the thread's write. A consumer
reads the thread's log from its own cursor, so an entry lost to a crash between
the two steps is made good by the thread's next write.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from redis.asyncio import Redis

from . import keys


class FeedStore:
    def __init__(self, redis: Redis, maxlen: int = 100_000) -> None:
        self.redis = redis
        # 100,000 entries is days of writes for a busy site; a consumer that is
        # further behind than that starts again from each thread's log.
        self.maxlen = maxlen

    async def announce(self, site: str, tid: str, kind: str, *also: Callable[[Any], None]) -> None:
        """Thread `tid` of `site` has a new event of type `kind`. `also` are other site
        stores' writes for the same moment (e.g. ModerationQueue.stage), added to the
        same round trip: every one of them is in the site's slot."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(keys.site_feed(site), {"tid": tid, "type": kind}, maxlen=self.maxlen, approximate=True)
            pipe.zadd(keys.site_threads(site), {tid: int(time.time() * 1000)})
            for stage in also:
                stage(pipe)
            await pipe.execute()

    async def read(self, site: str, after: str, count: int = 500) -> list[tuple[str, dict[str, str]]]:
        """Entries after the stream id `after` ("0" for all), oldest first."""
        return await self.redis.xrange(keys.site_feed(site), f"({after}" if after != "0" else "-", "+", count=count)

    async def threads(self, site: str) -> list[str]:
        """The site's threads with at least one write, most recently active first."""
        return await self.redis.zrevrange(keys.site_threads(site), 0, -1)
