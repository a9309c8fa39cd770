"""The node's hub: one reader task follows the event logs of threads with local
readers, and fans each event out to their bounded queues without ever waiting on one."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .. import events
from ..store import keys

log = logging.getLogger("rejoinder.live")

# How long one blocking read waits before looking again at which threads to follow.
# A new thread interrupts it at once (CLIENT UNBLOCK), so this only bounds idle loops.
BLOCK_MS = 5000


class Subscriber(Protocol):
    def push(self, event: events.Event) -> None: ...
    def push_resync(self) -> None: ...
    def close_soon(self, code: int) -> "asyncio.Task[None] | None": ...


class Limits:
    """Open sockets per client IP and on this node."""

    def __init__(self) -> None:
        self.per_ip: collections.Counter[str] = collections.Counter()
        self.total = 0


class Hub:
    def __init__(self, redis: Redis, reader: Redis) -> None:
        self.redis = redis  # shared pool: looks up heads, unblocks the reader
        self.reader = reader  # one dedicated connection for the blocking reads
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.cursors: dict[str, str] = {}  # thread id -> last event id read
        self.delivered = 0
        self.dropped = 0
        self._reader_id: int | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rejoinder-hub")

    async def stop(self) -> None:
        self._closing = True
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def subscribe(self, tid: str, sub: Subscriber) -> None:
        """Deliver the thread's future events to `sub`. Events it already has are
        dropped by the subscriber itself (it knows its last sequence number)."""
        subs = self.subscribers.setdefault(tid, set())
        subs.add(sub)
        if tid in self.cursors:
            return
        last = await self.redis.xrevrange(keys.events(tid), count=1)
        if tid not in self.cursors and sub in self.subscribers.get(tid, ()):
            self.cursors[tid] = last[0][0] if last else "0-0"
            await self._interrupt()

    def unsubscribe(self, tid: str, sub: Subscriber) -> None:
        subs = self.subscribers.get(tid)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            # The next read leaves the thread out; no need to interrupt the current one.
            del self.subscribers[tid]
            self.cursors.pop(tid, None)

    async def close_all(self, code: int) -> None:
        """Close every socket (node shutdown: 1001 sends readers to another node)."""
        closing = [sub.close_soon(code) for subs in list(self.subscribers.values()) for sub in list(subs)]
        tasks = [t for t in closing if t is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=3)

    @property
    def connections(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    async def _interrupt(self) -> None:
        self._wake.set()
        if self._reader_id is not None:
            try:
                await self.redis.client_unblock(self._reader_id)
            except RedisError:
                pass  # the reader is reconnecting; it will pick the thread up

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closing:
            try:
                if self._reader_id is None:
                    self._reader_id = await self.reader.client_id()
                    await self._check_regressions()
                if not self.cursors:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                self._wake.clear()
                streams = {keys.events(tid): cursor for tid, cursor in self.cursors.items()}
                reply = await self.reader.xread(streams, block=BLOCK_MS)
                backoff = 0.05
                for stream_key, entries in reply or []:
                    self._fan_out(keys.thread_of_events(stream_key), entries)
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, RuntimeError, OSError) as exc:
                # Redis restarted or the link dropped: keep every socket, keep the
                # cursors, and read on from them when Redis is back.
                log.warning("live reader lost Redis (%s); retrying in %.2fs", exc, backoff)
                self._reader_id = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                log.exception("live reader failed; restarting it")
                self._reader_id = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def _fan_out(self, tid: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        subs = self.subscribers.get(tid)
        if tid not in self.cursors:
            return
        for entry_id, fields in entries:
            self.cursors[tid] = entry_id
            if not subs:
                continue
            event = events.parse(entry_id, fields)
            for sub in list(subs):
                sub.push(event)

    async def _check_regressions(self) -> None:
        """After a reconnect: a log that now ends before our cursor means Redis lost
        data (a new epoch). Readers of such threads must refetch."""
        for tid, cursor in list(self.cursors.items()):
            last = await self.redis.xrevrange(keys.events(tid), count=1)
            last_seq = events.seq_of(last[0][0]) if last else 0
            if last_seq < events.seq_of(cursor):
                self.cursors[tid] = last[0][0] if last else "0-0"
                for sub in list(self.subscribers.get(tid, ())):
                    sub.push_resync()
