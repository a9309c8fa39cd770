"""The node's hub on its own, against the real database: what its sweep makes good."""

from __future__ import annotations

import asyncio

from rejoinder.app import connect
from rejoinder.live.hub import SWEEP_SECONDS, Hub
from rejoinder.settings import Settings

from .test_socket import aapi, apost  # noqa: F401 - aapi is a fixture


class Collect:
    """A subscriber that keeps what it is given."""

    def __init__(self) -> None:
        self.seqs: list[int] = []

    def push(self, event) -> None:
        self.seqs.append(event.seq)

    def push_resync(self) -> None:
        self.seqs.append(-1)

    def notice(self, notice) -> bool:
        return True  # presence: tests/live/test_presence.py

    def close_soon(self, code: int) -> None:
        return None

    def waiting(self) -> int:
        return 0


async def test_a_thread_whose_wake_up_was_lost_is_read_by_the_next_sweep(redis_server, aapi, thread) -> None:
    """The log is the carrier and pub/sub only the wake-up: a thread whose log is ahead of
    the hub's cursor with no wake-up coming (lost with a dropped connection) is read within
    one sweep."""
    tid = thread["id"]
    redis = connect(Settings.from_env({"REJOINDER_REDIS_URL": redis_server.url}))
    hub = Hub(redis)
    await hub.start()
    try:
        sub = Collect()
        await hub.subscribe(tid, sub)
        for n in range(3):
            await apost(aapi, tid, f"comment {n}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while len(sub.seqs) < 3 and loop.time() < deadline:
            await asyncio.sleep(0.02)
        assert sub.seqs == [1, 2, 3]
        # The hub's view after a lost wake-up: the log holds events past its cursor.
        hub.cursors[tid] = 1
        deadline = loop.time() + SWEEP_SECONDS + 3
        while len(sub.seqs) < 5 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert sub.seqs == [1, 2, 3, 2, 3]
    finally:
        await hub.stop()
        await redis.aclose()
