""""N reading now": every reader of a thread is told how many have it open, across nodes, and
told again when readers come and go. A count, never who; and never in the way of an event."""

from __future__ import annotations

import asyncio
import secrets

import orjson
import pytest

from rejoinder.app import connect as redis_connect
from rejoinder.live.hub import Hub
from rejoinder.settings import Settings

from ..conftest import SITE
from ..support.api import post
from ..support.live import Reader, connect
from ..support.servers import AppServer


async def told(reader: Reader, readers: int, timeout: float = 15.0) -> None:
    """Wait until the reader is told this many readers (an older total may come first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not reader.presence or reader.presence[-1] != readers:
        left = deadline - loop.time()
        assert left > 0, f"told {reader.presence}, waited for {readers}"
        try:
            message = await reader.next(timeout=left, presence=True)
        except asyncio.TimeoutError:
            continue
        if message["type"] == "presence":
            reader.presence.append(message["readers"])


@pytest.fixture
def thread(api) -> dict:
    """A thread of this test's own: other tests' readers of the shared "Post one" would count too."""
    r = api.get("/api/threads", params={"site": SITE, "page": f"presence-{secrets.token_hex(6)}", "title": "Alone"})
    assert r.status_code == 200, r.text
    return r.json()["thread"]


@pytest.fixture
def second_node(app_server, redis_server):
    node = AppServer(redis_server.url).start()
    yield node
    node.stop()


async def test_readers_on_two_nodes_are_counted_together_and_as_they_leave(app_server, second_node, thread) -> None:
    tid, origin = thread["id"], app_server.page_origin
    ann = await connect(app_server.ws_base, tid, origin=origin, client="presence-ann-000001")
    bob = await connect(app_server.ws_base, tid, origin=origin, client="presence-bob-000001")
    await told(ann, 2)
    await told(bob, 2)
    cat = await connect(second_node.ws_base, tid, origin=origin, client="presence-cat-000001")
    for reader in (ann, bob, cat):
        await told(reader, 3)
    await bob.close()
    await told(ann, 2)
    await told(cat, 2)
    await ann.close()
    await cat.close()


async def test_a_newcomer_is_told_even_when_the_total_is_unchanged(app_server, thread) -> None:
    tid, origin = thread["id"], app_server.page_origin
    ann = await connect(app_server.ws_base, tid, origin=origin, client="presence-ann-000002")
    bob = await connect(app_server.ws_base, tid, origin=origin, client="presence-bob-000002")
    await told(ann, 2)
    await bob.close()
    dan = await connect(app_server.ws_base, tid, origin=origin, client="presence-dan-000002")
    await told(dan, 2)
    await ann.close()
    await dan.close()


async def test_presence_never_takes_the_place_of_an_event(app_server, api, thread) -> None:
    tid, origin = thread["id"], app_server.page_origin
    readers = [await connect(app_server.ws_base, tid, origin=origin, client=f"presence-many-{i:06d}")
               for i in range(4)]
    try:
        for i in range(10):
            post(api, tid, f"comment {i}")
        for reader in readers:
            texts = [(await reader.until(lambda m: m["type"] == "comment.created"))["comment"]["html"]
                     for _ in range(10)]
            assert texts == [f"<p>comment {i}</p>" for i in range(10)]
            assert all("seq" in m for m in reader.seen if m["type"] != "ready")
        for reader in readers:
            await told(reader, 4)
    finally:
        for reader in readers:
            await reader.close()


async def test_an_operator_can_turn_presence_off(redis_server, app_server, thread) -> None:
    node = AppServer(redis_server.url, env={"REJOINDER_LIVE_PRESENCE": "False"}).start()
    try:
        tid, origin = thread["id"], app_server.page_origin
        readers = [await connect(node.ws_base, tid, origin=origin, client=f"presence-off-{i:06d}") for i in range(2)]
        for reader in readers:
            await reader.until(lambda m: m["type"] == "ready")
        await asyncio.sleep(2)  # well past the moment presence would have told them
        for reader in readers:
            with pytest.raises(asyncio.TimeoutError):
                await reader.next(timeout=0.5, presence=True)
            assert reader.presence == []
            await reader.close()
    finally:
        node.stop()


async def test_readers_arriving_all_at_once_are_all_told_the_full_count(app_server, thread) -> None:
    """Readers keep arriving while the node writes its count: the count written last is the full one,
    and everyone is told it (a change during a write is not lost)."""
    tid, origin = thread["id"], app_server.page_origin
    readers: list[Reader] = []
    try:
        for wave in range(4):
            readers += await asyncio.gather(*(connect(app_server.ws_base, tid, origin=origin,
                                                      client=f"presence-wave-{wave}-{i:04d}") for i in range(10)))
            await asyncio.sleep(0.12)
        for reader in readers:
            await told(reader, 40)
    finally:
        for reader in readers:
            await reader.close()


class Told:
    """A subscriber of the hub itself that keeps the totals it is told."""

    def __init__(self) -> None:
        self.totals: list[int] = []

    def push(self, event) -> None:
        pass

    def push_resync(self) -> None:
        pass

    def notice(self, notice) -> bool:
        self.totals.append(orjson.loads(notice.text)["readers"])
        return True

    def close_soon(self, code: int) -> None:
        return None

    def waiting(self) -> int:
        return 0


async def _until_told(sub: Told, total: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (not sub.totals or sub.totals[-1] != total) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert sub.totals and sub.totals[-1] == total, f"told {sub.totals}, waited for {total}"


async def test_a_reader_leaving_just_before_the_sweep_is_still_told(redis_server, thread) -> None:
    """The sweep rewrites every count every few seconds without a word on the channel. A reader who
    left a moment before it (inside the settle time) is in that silent write: the others must still
    be told the new total (CI once saw ann wait 15 s for it)."""
    redis = redis_connect(Settings.from_env({"REJOINDER_REDIS_URL": redis_server.url}))
    hub = Hub(redis)
    await hub.start()
    try:
        tid = thread["id"]
        ann, bob = Told(), Told()
        await hub.subscribe(tid, ann)
        await hub.subscribe(tid, bob)
        await _until_told(ann, 2, 5)
        hub.unsubscribe(tid, bob)
        await hub.presence.refresh()  # the sweep's turn, inside the settle time
        await _until_told(ann, 1, 5)
    finally:
        await hub.stop()
        await redis.aclose()
