"""How many readers have a thread open now, counted across nodes, told to its readers live.

Each node writes its own count of a thread's readers into the thread's presence hash
(node -> "<readers>:<ms>", in the thread's slot) a moment after it changes, and
again every few seconds while it has readers, then says "p" on the thread's
wake-up channel. Every node following the thread reads the hash on that word,
sums the counts that are fresh (a node that died stops being counted after
FRESH_MS), and if the total moved, tells its readers {"type": "presence",
"readers": N}. A count only: never who.

The message goes to a reader only when nothing is waiting for them: it is
advisory, and the next change brings the true total anyway. It is not in the
event log and carries no sequence number, so it never disturbs resuming.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from redis.exceptions import RedisError

from ..store import keys

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("rejoinder.live")

FRESH_MS = 20_000  # a node's count older than this is a node that went away
KEEP_MS = 2 * FRESH_MS  # the hash outlives its last writer by this much
SETTLE_SECONDS = 0.3  # readers coming and going within this long are told once
# A thread's readers are told a new total at most this often: once a second, and for a
# crowd once per 2,000 readers a second (10,000 readers arriving are not 10,000 x 30 messages).
MIN_GAP_SECONDS = 1.0
READERS_PER_SECOND_OF_GAP = 2000
WORD = keys.WAKE_PRESENCE  # on the wake-up channel: "a presence count changed"
present = keys.present


class Notice:
    """One presence message for many readers: its text, and its wire forms made once."""

    __slots__ = ("text", "frame", "chunk")

    def __init__(self, text: str) -> None:
        self.text = text
        self.frame: bytes | None = None
        self.chunk: bytes | None = None


class _Heard:
    """What presence and typing share: the threads some node spoke about on their channels, and reading
    their hashes when each may be told again (the reader task looks every 0.25 s)."""

    def __init__(self, hub: "Hub") -> None:
        self.hub = hub
        self._heard: set[str] = set()  # threads some node spoke about
        self._next_at: dict[str, float] = {}  # thread -> when its readers may be told again

    def heard(self, tid: str) -> None:
        self._heard.add(tid)

    @property
    def pending(self) -> bool:
        return bool(self._heard)

    async def _due(self, key: Any) -> tuple[float, int, list[tuple[str, dict[str, Any]]]]:
        """The threads heard of whose readers may be told now, each with its hash (`key(tid)`); those told
        too recently stay heard for a later round."""
        clock = time.monotonic()
        tids = [t for t in self._heard if t in self.hub.subscribers and self._next_at.get(t, 0.0) <= clock]
        self._heard.difference_update(tids)
        self._heard.intersection_update(self.hub.subscribers)
        if not tids:
            return clock, 0, []
        async with self.hub.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.hgetall(key(tid))
            found = await pipe.execute()
        return clock, int(time.time() * 1000), list(zip(tids, found))


class Presence(_Heard):
    def __init__(self, hub: "Hub", enabled: bool = True) -> None:
        super().__init__(hub)
        self.enabled = enabled  # REJOINDER_LIVE_PRESENCE: off, nothing is counted, written or told
        self.told: dict[str, int] = {}  # thread -> total last told to our readers
        self._changed: set[str] = set()  # threads whose local count changed since written
        self._new: dict[str, set[Any]] = {}  # readers not yet told the total, by thread
        self._missed: dict[str, set[Any]] = {}  # readers busy when told: told again at the next refresh
        self._flusher: asyncio.Task[None] | None = None

    # --- our count ---------------------------------------------------------------

    def changed(self, tid: str, newcomer: Any = None) -> None:
        """A reader of `tid` came (`newcomer`) or went on this node: write it down in a moment."""
        if not self.enabled:
            return
        self._changed.add(tid)
        if newcomer is not None:
            self._new.setdefault(tid, set()).add(newcomer)
        if self._flusher is None or self._flusher.done():
            try:
                self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())
            except RuntimeError:
                pass  # no loop (shutting down)

    async def _flush_soon(self) -> None:
        # Until nothing changed since the last write: readers who come or go while a count is being
        # written are in the next one (this task is still running then, so changed() starts no other).
        while self._changed:
            await asyncio.sleep(SETTLE_SECONDS)
            try:
                await self.write(sorted(self._changed), announce=True)
            except (RedisError, RuntimeError, OSError) as exc:
                log.info("presence not written (%s)", exc)
                return

    async def write(self, tids: list[str], announce: bool) -> None:
        """Write this node's count of each thread's readers (and say so on its channel)."""
        if not tids:
            return
        # A count that changed since it was last written is announced even by the sweep's silent
        # rewrite: that write takes it out of _changed, so the settle task would announce nothing.
        moved = self._changed.intersection(tids)
        self._changed.difference_update(tids)
        now = int(time.time() * 1000)
        node = self.hub.node
        async with self.hub.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                readers = len(self.hub.subscribers.get(tid, ()))
                if readers:
                    pipe.hset(present(tid), node, f"{readers}:{now}")
                    pipe.pexpire(present(tid), KEEP_MS)
                else:
                    pipe.hdel(present(tid), node)
                if announce or tid in moved:
                    pipe.spublish(keys.wake(tid), WORD)
            await pipe.execute()

    async def refresh(self) -> None:
        """Every few seconds: our counts are still true (a count not refreshed stops counting)."""
        if self.enabled:
            await self.write(list(self.hub.subscribers), announce=False)
        # Readers who were busy when the total was told get it now (as newcomers do).
        missed, self._missed = self._missed, {}
        for tid, subs in missed.items():
            if tid in self.hub.subscribers:
                self._new.setdefault(tid, set()).update(subs)
                self._heard.add(tid)

    # --- everyone's count ---------------------------------------------------------

    async def tell(self) -> None:
        """Read the totals of the threads some node spoke about, and tell our readers what moved."""
        clock, now, due = await self._due(present)
        for tid, hash_ in due:
            total = total_of(hash_, now)
            newcomers = self._new.pop(tid, set())
            if self.told.get(tid) == total:
                told = [s for s in newcomers if s in self.hub.subscribers.get(tid, ())]
            else:
                self.told[tid] = total
                told = list(self.hub.subscribers.get(tid, ()))
                gap = max(MIN_GAP_SECONDS, len(told) / READERS_PER_SECOND_OF_GAP)
                self._next_at[tid] = clock + gap
            if not told:
                continue
            notice = Notice(orjson.dumps({"type": "presence", "readers": total}).decode())
            for sub in told:
                if not sub.notice(notice):
                    self._missed.setdefault(tid, set()).add(sub)

    def forget(self, tid: str) -> None:
        """No reader of `tid` is left here."""
        self.told.pop(tid, None)
        self._new.pop(tid, None)
        self._next_at.pop(tid, None)
        self._missed.pop(tid, None)


TYPING_WORD = keys.WAKE_TYPING  # on the wake-up channel: "someone is typing a reply in this thread"
TYPING_MS = 6_000  # a reader who typed this recently is still replying
typers = keys.typers


class Typing(_Heard):
    """"Someone is replying…" (sites that opt in): like presence, a count told to the thread's readers,
    at most once a second per thread; the widget leaves its own keystrokes out and lets it fade."""

    async def tell(self) -> None:
        clock, now, due = await self._due(typers)
        for tid, hash_ in due:
            active = sum(1 for at in hash_.values() if str(at).isdigit() and now - int(at) <= TYPING_MS)
            self._next_at[tid] = clock + MIN_GAP_SECONDS
            notice = Notice(orjson.dumps({"type": "typing", "readers": active}).decode())
            for sub in list(self.hub.subscribers.get(tid, ())):
                sub.notice(notice)


def total_of(hash_: dict[str, Any], now_ms: int) -> int:
    total = 0
    for value in hash_.values():
        readers, _, at = str(value).partition(":")
        if readers.isdigit() and at.isdigit() and now_ms - int(at) <= FRESH_MS:
            total += int(readers)
    return total
