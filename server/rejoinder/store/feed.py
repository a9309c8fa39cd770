"""FeedStore: each site's feed of "thread T changed", for the consumers of the event log.

A thread's event log is the record; it lives in the thread's hash slot, and a
site's keys live in another, so no single atomic step can write both on a
cluster. The feed entry is written right after the thread's write. A consumer
reads the thread's log from its own cursor, so an entry lost to a crash between
the two steps is made good by the thread's next write.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from . import keys, stats
from .queue import RECENT_MAX, member
from .steps import Steps


class FeedStore:
    def __init__(self, redis: Redis, maxlen: int = 100_000, steps: Steps | None = None) -> None:
        self.redis = redis
        # 100,000 entries is days of writes for a busy site; a consumer that is
        # further behind than that starts again from each thread's log.
        self.maxlen = maxlen
        self._steps = steps or Steps(redis)

    async def announce(self, site: str, tid: str, kind: str, pointer: tuple[int, str, int] | None = None,
                       reasons: str = "") -> None:
        """Thread `tid` of `site` has a new event of type `kind` ("" for none). With `pointer`
        (cid, status, created ms), that comment's place on the dashboard's lists too
        (ModerationQueue reads them), and for a new comment its count on the day's figures
        (with `reasons`, what held it or caught it): one step in the site's slot
        (lib_announce.lua in steps.lua)."""
        cid, status, created = pointer or (0, "", 0)
        now = int(time.time() * 1000)
        day = stats.day_of(now)
        await self._steps.run(
            keys.site_slot(site), "announce",
            [keys.site_feed(site), keys.site_threads(site),
             *(keys.mod_list(site, name) for name in ("recent", "pending", "spam")),
             keys.stats_day(site, day), keys.busy_day(site, day), keys.mod_list(site, "reported")],
            [self.maxlen, tid, kind, now, member(tid, cid) if pointer else "", status,
             created, RECENT_MAX, stats.DAY_KEPT_SECONDS, stats.BUSY_KEPT_SECONDS, reasons])

    async def read(self, site: str, after: str, count: int = 500) -> list[tuple[str, dict[str, str]]]:
        """Entries after the stream id `after` ("0" for all), oldest first."""
        return await self.redis.xrange(keys.site_feed(site), f"({after}" if after != "0" else "-", "+", count=count)

    async def threads(self, site: str) -> list[str]:
        """The site's threads with at least one write, most recently active first."""
        return await self.redis.zrevrange(keys.site_threads(site), 0, -1)
