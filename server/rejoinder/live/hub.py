"""The node's hub: one reader task follows the event logs of threads with local
readers, and fans each event out to their bounded queues without ever waiting on one.

Sharded pub/sub wakes the reader when a followed thread's log grows; the log
itself carries the events. A wake-up lost to a dropped connection only delays
delivery until the next sweep (every few seconds, and at once after a
reconnect), because each thread is read from its own cursor. Sharded channels
live in their thread's slot, so this works the same on a Redis Cluster.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import time
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .. import events
from ..store import keys
from ..store.stats import StatsStore
from .presence import TYPING_WORD, WORD, Notice, Presence, Typing

log = logging.getLogger("rejoinder.live")

# Every followed thread is re-read this often even without a wake-up: the bound on
# how late an event can be if its wake-up message was lost.
SWEEP_SECONDS = 5.0
# Events read per thread per round; a thread with more waiting is read again at once.
READ_BATCH = 500
# Threads asked for their head per round trip in a sweep: small steps, so the
# reader task gets the loop between them.
SWEEP_BATCH = 100
# On a cluster, how often the reader looks at every master's wake-ups (see _next_message).
CLUSTER_POLL_SECONDS = 0.005


class Subscriber(Protocol):
    def push(self, event: events.Event) -> None: ...
    def push_resync(self) -> None: ...
    def notice(self, notice: Notice) -> bool: ...
    def close_soon(self, code: int) -> "asyncio.Task[None] | None": ...
    def waiting(self) -> int: ...


class Limits:
    """Open sockets per client IP and on this node."""

    def __init__(self) -> None:
        self.per_ip: collections.Counter[str] = collections.Counter()
        self.total = 0

    def full(self, ip: str, per_ip: int, per_node: int) -> bool:
        """Would one more socket from `ip` go over either cap?"""
        return self.per_ip[ip] >= per_ip or self.total >= per_node

    def take(self, ip: str) -> None:
        self.per_ip[ip] += 1
        self.total += 1

    def release(self, ip: str) -> None:
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]
        self.total -= 1


class Hub:
    def __init__(self, redis: Redis | RedisCluster, presence: bool = True) -> None:
        self.redis = redis
        self.cluster = isinstance(redis, RedisCluster)
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.site_of: dict[str, str] = {}  # thread id -> its site (for the readers count of the overview)
        self.node = secrets.token_hex(6)
        self._told: dict[str, int] = {}  # readers per site last written to Redis
        self.presence = Presence(self, enabled=presence)
        self.typing = Typing(self)
        self.cursors: dict[str, int] = {}  # thread id -> last sequence number read
        self.delivered = 0
        self.direct = 0  # of those, written as a pre-encoded frame (live/wire.py)
        self.dropped = 0
        self._dirty: set[str] = set()
        self._to_subscribe: set[str] = set()
        self._to_unsubscribe: set[str] = set()
        self._changed = asyncio.Event()
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._sweep_now = asyncio.Event()
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rejoinder-hub")
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="rejoinder-hub-sweep")

    async def stop(self) -> None:
        self._closing = True
        for task in (self._task, self._sweeper):
            if task:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        await self._drop_pubsub()

    async def subscribe(self, tid: str, sub: Subscriber, site: str = "", head: int | None = None) -> None:
        """Deliver the thread's future events to `sub`. Events it already has are
        dropped by the subscriber itself (it knows its last sequence number). `head`: the
        thread's sequence number if the caller just read it (else it is read here)."""
        self.subscribers.setdefault(tid, set()).add(sub)
        if site:
            self.site_of[tid] = site
        self.presence.changed(tid, sub)
        meta_seq = head if head is not None else await self.redis.hget(keys.thread_meta(tid), "seq")
        if tid in self.cursors:
            if int(meta_seq or 0) < self.cursors[tid]:
                # The log went back since we started following it (data lost or restored): follow it
                # from where it is; those already reading refetch (the newcomer starts from here anyway).
                self.cursors[tid] = int(meta_seq or 0)
                for other in list(self.subscribers.get(tid, ())):
                    if other is not sub:
                        other.push_resync()
            return
        if tid in self.cursors or sub not in self.subscribers.get(tid, ()):
            return
        self.cursors[tid] = int(meta_seq or 0)
        self._to_unsubscribe.discard(tid)
        self._to_subscribe.add(tid)
        self._changed.set()

    def unsubscribe(self, tid: str, sub: Subscriber) -> None:
        subs = self.subscribers.get(tid)
        if subs is None:
            return
        subs.discard(sub)
        self.presence.changed(tid)
        if not subs:
            del self.subscribers[tid]
            self.presence.forget(tid)
            self.site_of.pop(tid, None)
            self.cursors.pop(tid, None)
            self._to_subscribe.discard(tid)
            self._to_unsubscribe.add(tid)

    def backlog(self) -> tuple[int, int]:
        """Readers with events waiting, and how many events wait (metrics; one pass at scrape time)."""
        behind = waiting = 0
        for subs in self.subscribers.values():
            for sub in subs:
                n = sub.waiting()
                if n:
                    behind += 1
                    waiting += n
        return behind, waiting

    async def close_all(self, code: int) -> None:
        """Close every socket (node shutdown: 1001 sends readers to another node)."""
        closing = [sub.close_soon(code) for subs in list(self.subscribers.values()) for sub in list(subs)]
        tasks = [t for t in closing if t is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=3)

    @property
    def connections(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    # --- the reader task -------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closing:
            try:
                if self._pubsub is None:
                    await self._connect()
                    self._sweep_now.set()  # after a reconnect, look at every thread at once
                await self._apply_subscriptions()
                await self._collect_wakeups()
                while self._dirty:
                    await self._read_dirty()
                if self.presence.pending:
                    await self.presence.tell()
                if self.typing.pending:
                    await self.typing.tell()
                backoff = 0.05
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, RuntimeError, OSError) as exc:
                # Redis restarted or the link dropped: keep every socket and every
                # cursor, and read on from them when Redis is back.
                log.warning("live reader lost Redis (%s); retrying in %.2fs", exc, backoff)
                await self._drop_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                log.exception("live reader failed; restarting it")
                await self._drop_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _connect(self) -> None:
        if self.cluster:
            await self.redis.initialize()
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self._check_regressions()
        self._to_subscribe |= set(self.cursors)
        self._to_unsubscribe.clear()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()
            except Exception:
                pass

    async def _apply_subscriptions(self) -> None:
        if self._to_subscribe:
            tids = list(self._to_subscribe)
            if self.cluster:
                for tid in tids:
                    await self._pubsub.ssubscribe(keys.wake(tid))
            else:
                await self._pubsub.ssubscribe(*[keys.wake(t) for t in tids])
            self._to_subscribe.difference_update(tids)
            # Anything logged before the subscription took effect is read now.
            self._dirty.update(t for t in tids if t in self.cursors)
        if self._to_unsubscribe:
            tids = list(self._to_unsubscribe)
            await self._pubsub.sunsubscribe(*[keys.wake(t) for t in tids])
            self._to_unsubscribe.difference_update(tids)

    async def _next_message(self, timeout: float) -> dict[str, Any] | None:
        if self.cluster:
            if not self._pubsub.shard_channels:
                await asyncio.sleep(timeout)
                return None
            # redis-py's cluster pub/sub waits the whole timeout on each master in
            # turn, so a wake-up on one master waited while the reader sat on another
            # (p50 111 ms on a 3-master cluster, bench/RESULTS.md). Poll every
            # master without waiting, then sleep a moment: a wake-up is late by at
            # most CLUSTER_POLL_SECONDS, for a few hundred cheap reads a second.
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                message = await self._pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=0.0)
                if message is not None or asyncio.get_running_loop().time() >= deadline:
                    return message
                await asyncio.sleep(CLUSTER_POLL_SECONDS)
        if not self._pubsub.subscribed:
            await asyncio.sleep(timeout)
            return None
        return await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)

    async def _collect_wakeups(self) -> None:
        """Wait for a wake-up (or a new thread to follow), then take every wake-up waiting."""
        if not self.cursors:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), SWEEP_SECONDS)
            except asyncio.TimeoutError:
                pass
            return
        timeout = 0.0 if (self._to_subscribe or self._dirty) else 0.25
        message = await self._next_message(timeout)
        while message is not None:
            if message.get("type") == "smessage":
                tid = keys.thread_of_wake(message["channel"])
                if message.get("data") == WORD:
                    self.presence.heard(tid)
                elif message.get("data") == TYPING_WORD:
                    self.typing.heard(tid)
                elif tid in self.cursors:
                    self._dirty.add(tid)
            message = await self._next_message(0.0)

    async def _sweep_loop(self) -> None:
        """Every SWEEP_SECONDS, and at once after the reader reconnects, sweep. In a task of
        its own: asking 1,000 threads for their head is tens of ms of client work, and
        inside the reader task the events that arrived meanwhile waited for it (the
        1,000-thread p99, bench/RESULTS.md). Threads it finds behind are read by the
        reader at its next turn (at most a quarter of a second away)."""
        while not self._closing:
            try:
                await asyncio.wait_for(self._sweep_now.wait(), SWEEP_SECONDS)
            except asyncio.TimeoutError:
                pass
            self._sweep_now.clear()
            try:
                await self.tell_readers()
                await self.presence.refresh()
            except (RedisError, RuntimeError, OSError) as exc:
                log.info("live readers count not written (%s)", exc)
            if not self.cursors or self._pubsub is None:
                continue  # nothing followed, or the reader is reconnecting (it sets _sweep_now when back)
            try:
                await self._sweep()
            except (RedisError, RuntimeError, OSError) as exc:
                log.info("live sweep skipped (%s)", exc)

    def readers_by_site(self) -> dict[str, int]:
        counts: collections.Counter[str] = collections.Counter()
        for tid, subs in self.subscribers.items():
            site = self.site_of.get(tid)
            if site:
                counts[site] += len(subs)
        return dict(counts)

    async def tell_readers(self) -> None:
        """Write this node's readers per site for the dashboard's overview (store/stats.py); a site
        whose readers all left is told 0 once, then no longer written."""
        now = self.readers_by_site()
        told = {**{site: 0 for site in self._told if site not in now}, **now}
        if told:
            await StatsStore(self.redis).set_readers(told, self.node, int(time.time() * 1000))  # type: ignore[arg-type]
        self._told = now

    async def _sweep(self) -> None:
        """Find the followed threads whose log grew without a wake-up reaching us: ask
        each thread's head (one small reply apiece) and mark those behind for the reader.
        Reading every thread's log instead held the reader ~100 ms per 1,000 threads."""
        tids = list(self.cursors)
        for start in range(0, len(tids), SWEEP_BATCH):
            chunk = tids[start:start + SWEEP_BATCH]
            async with self.redis.pipeline(transaction=False) as pipe:
                for tid in chunk:
                    pipe.hget(keys.thread_meta(tid), "seq")
                heads = await pipe.execute()
            for tid, head in zip(chunk, heads):
                cursor = self.cursors.get(tid)
                if cursor is not None and int(head or 0) < cursor:
                    # The thread's log went back (its data was lost or restored without a reconnect
                    # of ours): read on from where it is now, and its readers refetch.
                    self.cursors[tid] = int(head or 0)
                    for sub in list(self.subscribers.get(tid, ())):
                        sub.push_resync()
                elif cursor is not None and int(head or 0) != cursor:
                    self._dirty.add(tid)

    async def _read_dirty(self) -> None:
        """Read every woken thread from its cursor in one pipeline, and fan out."""
        tids = [t for t in self._dirty if t in self.cursors]
        self._dirty.clear()
        if not tids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.xrange(keys.events(tid), f"{self.cursors[tid] + 1}-1", "+", count=READ_BATCH)
            replies = await pipe.execute()
        for tid, entries in zip(tids, replies):
            if entries:
                self._fan_out(tid, entries)
                if len(entries) == READ_BATCH:
                    self._dirty.add(tid)

    def _fan_out(self, tid: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        subs = self.subscribers.get(tid)
        if tid not in self.cursors:
            return
        for entry_id, fields in entries:
            self.cursors[tid] = events.seq_of(entry_id)
            if not subs:
                continue
            event = events.parse(entry_id, fields)
            for sub in list(subs):
                sub.push(event)

    async def _check_regressions(self) -> None:
        """After a reconnect: a thread whose sequence is now behind our cursor lost
        data in Redis (a new epoch). Its readers must refetch."""
        for tid, cursor in list(self.cursors.items()):
            seq = int(await self.redis.hget(keys.thread_meta(tid), "seq") or 0)
            if seq < cursor:
                self.cursors[tid] = seq
                for sub in list(self.subscribers.get(tid, ())):
                    sub.push_resync()
