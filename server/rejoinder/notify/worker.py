"""The worker: takes a lease on each site with mail, a webhook or a followed remote post, follows its
feed and its threads' logs from durable cursors, delivers what they produce, and brings in the replies
of the site's Mastodon and Bluesky posts (social/follow.py).

Runs as a background task of every server process (REJOINDER_WORKER_IN_SERVER)
or alone (`rejoinder worker`). Each site's feed is consumed by one node at a time:
the node holding the site's lease (SET NX PX, renewed at a third of its life).
Every cursor move is a compare-and-set, so even two nodes that briefly both think
they hold a lease never queue the same event twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, Awaitable, Callable

from redis.exceptions import RedisError

from ..events import seq_of
from ..state import State
from ..store import keys
from ..store.notify import FEED
from ..store.sites import Site
from ..store.webhooks import HOOK_CONSUMER
from ..social.follow import Follower
from . import webhooks
from .notifications import MailWork, Outbox

log = logging.getLogger("rejoinder.worker")

MAIL_CONSUMER = "mail"
# Feed entries and thread events read per step: bounded work between checks of the lease.
FEED_BATCH = 500
THREAD_BATCH = 200
# A thread is read in at most this many steps per feed round; the rest waits for the next round.
THREAD_STEPS = 50


class Worker:
    def __init__(self, state: State) -> None:
        self.state = state
        self.settings = state.settings
        self.node = secrets.token_hex(8)
        self.running: dict[str, SiteWorker] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="rejoinder-worker")

    def stop_soon(self) -> None:
        self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=8)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                pass

    async def run(self) -> None:
        period = max(self.settings.worker_lease_seconds / 3, 0.05)
        backoff = 0.5
        try:
            while not self._stop.is_set():
                try:
                    await self._leases()
                    backoff = 0.5
                    wait = period
                except (RedisError, OSError) as exc:
                    log.warning("worker lost Redis (%s); retrying in %.1fs", exc, backoff)
                    wait, backoff = backoff, min(backoff * 2, period)
                except Exception:
                    log.exception("worker round failed")
                    wait = period
                try:
                    await asyncio.wait_for(self._stop.wait(), wait)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self._stop_all()

    async def _active_sites(self) -> list[str]:
        """Sites with something to do: every site when mail is on, else those with a webhook or a
        followed remote post. (The site index is read here, never on a reader's request path.)"""
        ids = sorted(await self.state.redis.smembers(keys.site_index()))
        if self.settings.mail_enabled or not ids:
            return ids
        found = []
        for start in range(0, len(ids), 500):
            async with self.state.redis.pipeline(transaction=False) as pipe:
                for site in ids[start:start + 500]:
                    pipe.hget(keys.hook_config(site), "url")
                    pipe.zcard(keys.remote_due(site))
                values = await pipe.execute()
            found += list(zip(values[::2], values[1::2]))
        return [site for site, (url, followed) in zip(ids, found) if url or followed]

    async def _leases(self) -> None:
        active = set(await self._active_sites())
        lease_ms = int(self.settings.worker_lease_seconds * 1000)
        for site in sorted(active):
            held = await self.state.notify.hold_lease(site, self.node, lease_ms)
            running = self.running.get(site)
            if held and (running is None or running.done()):
                self.running[site] = SiteWorker(self, site)
                self.running[site].start()
            elif not held and running is not None:
                log.info("lease of %s went to another node", site)
                await self.running.pop(site).stop()
        for site in [s for s in self.running if s not in active]:
            await self.running.pop(site).stop()
            await self.state.notify.release_lease(site, self.node)

    async def _stop_all(self) -> None:
        for site, worker in list(self.running.items()):
            await worker.stop()
            try:
                await self.state.notify.release_lease(site, self.node)
            except (RedisError, OSError):
                pass  # it expires by itself
        self.running.clear()


class SiteWorker:
    """One site's consumers and deliveries, while this node holds its lease."""

    def __init__(self, worker: Worker, site: str) -> None:
        self.worker = worker
        self.state = worker.state
        self.settings = worker.settings
        self.site = site
        self._stopping = False
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        st = self.state
        self.mail = MailWork(self.settings, st.comments, st.subscriptions, st.notify)
        self.outbox = Outbox(self.settings, st.notify, site)
        self.follower = Follower(st, site)

    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        loops: list[tuple[str, Callable[[], Awaitable[float]]]] = [
            ("follow", self.follow), ("hooks", self.hooks), ("remote", self.follower.step)]
        if self.settings.mail_enabled:
            loops.append(("mail", self.send_mail))
        self._tasks = [asyncio.create_task(self._loop(fn), name=f"rejoinder-{name}-{self.site}") for name, fn in loops]

    def done(self) -> bool:
        return all(t.done() for t in self._tasks)

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.outbox.close()

    async def _loop(self, step: Callable[[], Awaitable[float]]) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                wait = await step()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("worker for %s lost Redis (%s); retrying", self.site, exc)
                wait, backoff = backoff, min(backoff * 2, 10.0)
            except Exception:
                log.exception("worker step for %s failed", self.site)
                wait, backoff = backoff, min(backoff * 2, 10.0)
            if wait <= 0:
                await asyncio.sleep(0)  # more is waiting: go on, but let others run
                continue
            try:  # a stop ends the wait at once
                await asyncio.wait_for(self._stopped.wait(), wait)
            except asyncio.TimeoutError:
                pass

    # --- following the feed and the threads' logs ------------------------------

    async def follow(self) -> float:
        site = await self.state.sites.get(self.site)
        if site is None:
            return self.settings.worker_poll_seconds
        hook = await self.state.webhooks.get(self.site)
        busy = False
        if self.settings.mail_enabled:
            busy |= await self._consume(MAIL_CONSUMER, site, 0)
            await self.mail.flush(site, self.stopping)
        if hook.get("url"):
            busy |= await self._consume(HOOK_CONSUMER, site, int(hook.get("since") or 0))
        return 0.0 if busy else self.settings.worker_poll_seconds

    async def _consume(self, consumer: str, site: Site, since_ms: int) -> bool:
        """One round of the feed for one consumer; True if more is waiting."""
        notify = self.state.notify
        cursors = await notify.cursors(site.id, consumer)
        if FEED not in cursors:
            # Nothing written before the first event: an idle site costs no keys.
            if not await self.state.feed.read(site.id, f"{since_ms}-0", count=1):
                return False
            await notify.start_consumer(site.id, consumer, since_ms)
            cursors = await notify.cursors(site.id, consumer)
        entries = await self.state.feed.read(site.id, cursors.get(FEED, "0"), count=FEED_BATCH)
        if not entries:
            return False
        tids = list(dict.fromkeys(f.get("tid", "") for _, f in entries))
        for tid in tids:
            if self._stopping:
                return False
            if keys.THREAD_ID.match(tid):
                await self._catch_up(consumer, site, tid, int(cursors.get(tid) or 0))
        await notify.set_feed_cursor(site.id, consumer, entries[-1][0])
        return len(entries) == FEED_BATCH

    async def _catch_up(self, consumer: str, site: Site, tid: str, cursor: int) -> None:
        notify = self.state.notify
        for _ in range(THREAD_STEPS):
            entries = await notify.events_after(tid, cursor, THREAD_BATCH)
            if not entries:
                return
            first, last = seq_of(entries[0][0]), seq_of(entries[-1][0])
            if first > cursor + 1:
                log.warning("%s consumer of %s missed events %d-%d of thread %s (log trimmed)",
                            consumer, site.id, cursor + 1, first - 1, tid)
            work: dict[str, Any]
            if consumer == MAIL_CONSUMER:
                work = await self.mail.events(site, tid, entries)
            else:
                meta = await self.state.comments.meta(tid)
                work = {"hooks": webhooks.queued_events(site.id, tid, meta, entries)}
            if not await notify.commit(site.id, consumer, tid, cursor, last, **work):
                return  # another node moved this cursor: it has these events
            cursor = last
            if len(entries) < THREAD_BATCH:
                return

    # --- delivery ------------------------------------------------------------------

    async def send_mail(self) -> float:
        return await self.outbox.send_some(self.stopping)

    async def hooks(self) -> float:
        await webhooks.deliver(self.settings, self.state.webhooks, self.site, self.stopping)
        return self.settings.worker_poll_seconds
