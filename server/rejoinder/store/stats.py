"""StatsStore: the figures of a site's overview, kept as counters per UTC day as things happen.

Nothing here scans the keyspace or a thread. A new comment is counted in the
same step that puts it on the dashboard's lists (lib_announce.lua: by the status
it arrived with, by each rule or service that held or caught it, and its thread
among the day's busiest); mail and webhook deliveries are counted in the step
that records them; each node says how many readers it holds per site every few
seconds. A day's figures are one small hash, kept DAY_KEPT_SECONDS, so a year's
chart is 366 reads in one round trip, and nothing grows without bound.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from redis.asyncio import Redis

from . import keys

DAY_KEPT_SECONDS = 400 * 86400  # a year's chart and a month to spare
BUSY_KEPT_SECONDS = 8 * 86400  # "busiest this week" reads the last seven days
READERS_FRESH_MS = 30_000  # a node's reader count older than this is a node that went away
STATUSES = ("approved", "pending", "spam")
DELIVERIES = ("mail:sent", "mail:deferred", "mail:failed", "hook:ok", "hook:failed")


def day_of(ms: int) -> str:
    """The UTC day of a time in ms, as YYYYMMDD."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y%m%d")


def last_days(n: int, now_ms: int) -> list[str]:
    """The last `n` UTC days up to today, oldest first."""
    today = datetime.fromtimestamp(now_ms / 1000, timezone.utc).date()
    return [(today - timedelta(days=i)).strftime("%Y%m%d") for i in range(n - 1, -1, -1)]


def add(pipe: Any, site: str, field: str, n: int = 1, now_ms: int | None = None) -> None:
    """Queue "add `n` to today's `field`" on a pipeline of the site's slot (so it goes with the write it counts)."""
    day = keys.stats_day(site, day_of(now_ms or int(time.time() * 1000)))
    pipe.hincrby(day, field, n)
    pipe.expire(day, DAY_KEPT_SECONDS)


class StatsStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def count(self, site: str, field: str, n: int = 1, now_ms: int | None = None) -> None:
        """Add `n` to one of today's DELIVERIES (the worker: a mail sent, a webhook attempt failed...)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            add(pipe, site, field, n, now_ms)
            await pipe.execute()

    async def days(self, site: str, n: int, now_ms: int) -> list[tuple[str, dict[str, int]]]:
        """The figures of the last `n` days, oldest first (a day with nothing is an empty dict)."""
        names = last_days(n, now_ms)
        async with self.redis.pipeline(transaction=False) as pipe:
            for day in names:
                pipe.hgetall(keys.stats_day(site, day))
            raw = await pipe.execute()
        return [(day, {k: int(v) for k, v in fields.items()}) for day, fields in zip(names, raw)]

    async def busiest(self, site: str, now_ms: int, top: int = 10) -> list[tuple[str, int]]:
        """The threads with the most new comments over the last seven days, most first."""
        names = [keys.busy_day(site, day) for day in last_days(7, now_ms)]
        ranked = await self.redis.zunion(names, withscores=True)
        ranked.sort(key=lambda pair: (-pair[1], pair[0]))
        return [(tid, int(score)) for tid, score in ranked[:top]]

    async def set_readers(self, counts: dict[str, int], node: str, now_ms: int) -> None:
        """This node's readers per site (a site it no longer serves is given 0 once)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for site, readers in counts.items():
                pipe.hset(keys.live_readers(site), node, f"{readers}:{now_ms}")
                pipe.pexpire(keys.live_readers(site), READERS_FRESH_MS * 2)
            await pipe.execute()

    async def readers(self, site: str, now_ms: int) -> int:
        """Readers connected now to any node (nodes that stopped saying so are left out)."""
        total = 0
        for value in (await self.redis.hgetall(keys.live_readers(site))).values():
            readers, _, at = value.partition(":")
            if readers.isdigit() and at.isdigit() and now_ms - int(at) <= READERS_FRESH_MS:
                total += int(readers)
        return total


def summary(days: list[tuple[str, dict[str, int]]]) -> dict[str, Any]:
    """Totals over some days: new comments by status, what caught them, deliveries."""
    totals: dict[str, int] = {}
    for _, fields in days:
        for k, v in fields.items():
            totals[k] = totals.get(k, 0) + v
    caught = {k.split(":", 1)[1]: v for k, v in totals.items() if k.startswith("caught:")}
    return {
        "new": {s: totals.get(f"new:{s}", 0) for s in STATUSES},
        "caught": dict(sorted(caught.items(), key=lambda kv: (-kv[1], kv[0]))),
        "deliveries": {d: totals.get(d, 0) for d in DELIVERIES},
    }
