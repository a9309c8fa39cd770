"""AdminFeeds: one reader per node follows the site feeds that open dashboards watch, and
fans each round of entries out to their sockets' bounded queues.

A dashboard's socket used to hold a pooled Redis connection in a blocking read of its
own: about a hundred sockets took the whole pool and every other request waited. Here
the number of sockets costs no connection at all: the reader makes one round of
non-blocking reads (one pipeline) every POLL_SECONDS for all watched sites together.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..store import keys

log = logging.getLogger("rejoinder.live")

# A dashboard hears of a change within this long: it is a moderator's screen, not a chat.
POLL_SECONDS = 0.5
# Feed entries read per site per round; a site with more waiting is read again next round.
READ_COUNT = 200
# Rounds of entries queued per socket before it is closed (it reconnects and refreshes).
QUEUE = 32


class Watcher:
    """One dashboard socket's inbox: rounds of feed entries, or None when it must resume."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[list[dict[str, str]] | None] = asyncio.Queue(QUEUE)

    def push(self, entries: list[dict[str, str]] | None) -> None:
        try:
            self.queue.put_nowait(entries)
        except asyncio.QueueFull:
            # A socket that does not keep up is told to resume, never allowed to grow memory.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class AdminFeeds:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.watchers: dict[str, set[Watcher]] = {}
        self.cursors: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rejoinder-admin-feeds")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def watch(self, site: str, watcher: Watcher) -> None:
        """Deliver the site's feed entries written from now on to `watcher`."""
        if site not in self.cursors:
            last = await self.redis.xrevrange(keys.site_feed(site), count=1)
            self.cursors.setdefault(site, last[0][0] if last else "0-0")
        self.watchers.setdefault(site, set()).add(watcher)

    def unwatch(self, site: str, watcher: Watcher) -> None:
        subs = self.watchers.get(site)
        if subs is None:
            return
        subs.discard(watcher)
        if not subs:
            del self.watchers[site]
            self.cursors.pop(site, None)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await self.read_round()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, RuntimeError) as exc:
                # Redis away for a moment: the next round asks again from the same cursors.
                log.info("admin feed reader: %s", exc)

    async def read_round(self) -> None:
        sites = [s for s in self.watchers if s in self.cursors]
        if not sites:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for site in sites:
                pipe.xrange(keys.site_feed(site), f"({self.cursors[site]}", "+", count=READ_COUNT)
            found: list[Any] = await pipe.execute()
        for site, entries in zip(sites, found):
            if not entries or site not in self.cursors:
                continue
            self.cursors[site] = entries[-1][0]
            batch = [dict(fields) for _, fields in entries]
            for watcher in list(self.watchers.get(site, ())):
                watcher.push(batch)
