"""Live updates across server nodes and through trouble: slow readers, Redis restarts, node shutdown."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
import websockets

from rejoinder.embedded import EmbeddedRedis

from ..conftest import SITE, register_site
from ..support.live import connect
from ..support.servers import AppServer


async def apost(client: httpx.AsyncClient, tid: str, text: str, expect: int = 201) -> dict:
    r = await client.post(f"/api/threads/{tid}/comments", json={"text": text, "name": "Ann"})
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def second_node(app_server, redis_server):
    node = AppServer(redis_server.url).start()
    yield node
    node.stop()


async def test_comment_posted_on_one_node_reaches_reader_on_another(app_server, second_node, thread) -> None:
    reader = await connect(second_node.ws_base, thread["id"], origin=app_server.page_origin)
    assert (await reader.next())["type"] == "ready"
    async with httpx.AsyncClient(base_url=app_server.base, headers={"X-Rejoinder-Client": "node-a-poster-0001"}) as a:
        for i in range(5):
            await apost(a, thread["id"], f"from node A {i}")
    got = [await reader.next() for _ in range(5)]
    assert [m["comment"]["html"] for m in got] == [f"<p>from node A {i}</p>" for i in range(5)]
    await reader.close()


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
async def test_reader_that_stops_reading_is_cut_off_while_others_keep_up(app_server, redis_server, thread) -> None:
    node = AppServer(redis_server.url, env={"REJOINDER_LIVE_QUEUE": "8"}).start()
    try:
        tid = thread["id"]
        stalled = await connect(node.ws_base, tid, origin=app_server.page_origin, rcvbuf=2048)
        healthy = await connect(node.ws_base, tid, origin=app_server.page_origin)
        await stalled.next(), await healthy.next()
        # ~9 KB per event, 800 events: more than the kernel's loopback buffers hold (~4-6 MB).
        long_text = "A long comment that fills buffers quickly. " * 200
        posts = 800
        latencies: list[float] = []
        async with httpx.AsyncClient(base_url=node.base, headers={"X-Rejoinder-Client": "flood-poster-00001"}) as c:
            for i in range(posts):
                sent = time.monotonic()
                await apost(c, tid, f"{i} {long_text}")
                try:
                    message = await healthy.next(5)
                except TimeoutError:
                    raise AssertionError(f"healthy reader stuck after {i} posts:\n{node.output()}")
                latencies.append(time.monotonic() - sent)
                assert message["seq"] == i + 1
        # The healthy reader got every event promptly, never held back by the stalled one.
        assert max(latencies) < 1.0, max(latencies)
        # The stalled reader was cut off with the "resume" code once it fell behind.
        code, read = None, 0
        try:
            while True:
                await stalled.next(10)
                read += 1
        except websockets.exceptions.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        assert code == 4000
        assert read < posts, "the stalled reader was never cut off"
        await healthy.close()
    finally:
        node.stop()


async def test_readers_survive_a_redis_restart(tmp_path: Path) -> None:
    """Kill the database (SIGKILL) with readers connected and start it again: the readers
    stay connected, and everything posted after Redis is back reaches them."""
    db = EmbeddedRedis(tmp_path / "db", password="pw").start()
    node = AppServer(db.url).start()
    client = redis_sync.Redis.from_url(db.url, decode_responses=True)
    try:
        client.config_set("appendfsync", "always")
        register_site(client, SITE, [node.page_origin])
        async with httpx.AsyncClient(base_url=node.base, headers={"X-Rejoinder-Client": "restart-poster-001"}) as c:
            tid = (await c.get("/api/threads", params={"site": SITE, "page": "restart"})).json()["thread"]["id"]
            reader = await connect(node.ws_base, tid, origin=node.page_origin)
            await reader.next()
            await apost(c, tid, "before the crash")
            assert (await reader.next())["seq"] == 1
            db.kill()
            r = await c.post(f"/api/threads/{tid}/comments", json={"text": "while down", "name": "A"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
            db = EmbeddedRedis(tmp_path / "db", port=db.port, password="pw").start()
            for i in range(3):
                await apost(c, tid, f"after {i}")
            got = [await reader.next(10) for _ in range(3)]
            assert [m["seq"] for m in got] == [2, 3, 4]
            assert [m["comment"]["html"] for m in got] == [f"<p>after {i}</p>" for i in range(3)]
            await reader.close()
    finally:
        node.stop()
        db.stop()


async def test_sigterm_closes_sockets_with_1001_and_readers_fail_over(app_server, redis_server, thread) -> None:
    doomed = AppServer(redis_server.url).start()
    tid = thread["id"]
    try:
        reader = await connect(doomed.ws_base, tid, origin=app_server.page_origin)
        await reader.next()
        started = time.monotonic()
        doomed.signal(15)
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await reader.next(5)
        assert closed.value.rcvd.code == 1001
        # uvicorn re-raises the signal once its graceful shutdown is done.
        assert doomed.proc.wait(10) in (0, -15)
        assert time.monotonic() - started < 5
    finally:
        doomed.stop()
    # The reader resumes on the surviving node and misses nothing posted meanwhile.
    async with httpx.AsyncClient(base_url=app_server.base, headers={"X-Rejoinder-Client": "failover-poster-01"}) as c:
        await apost(c, tid, "posted during failover")
        again = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=0, epoch=thread["epoch"])
        message = await again.next()
        assert message["comment"]["html"] == "<p>posted during failover</p>"
        assert (await again.next())["type"] == "ready"
        await again.close()
