"""Readers that stop reading: queued as REJOINDER_LIVE_QUEUE says, then cut and counted.

A reader stops reading when its tab sleeps, its phone loses signal, or on purpose.
The server must hold up to the configured number of events for it (a short pause
loses nothing), cut it once more are waiting (it resumes from its last event), count
the cut, and hold only a small, bounded amount in the kernel meanwhile.
"""

from __future__ import annotations

import httpx
import pytest
import websockets

from ..support.live import Reader, connect
from ..support.servers import SCRAPE, AppServer, metric

# ~9 KB per event: the buffers between server and a stalled reader fill after a few dozen.
LONG_TEXT = "A long comment that fills buffers quickly. " * 200


async def _post(client: httpx.AsyncClient, tid: str, text: str) -> None:
    r = await client.post(f"/api/threads/{tid}/comments", json={"text": text, "name": "Ann"})
    assert r.status_code == 201, r.text


async def _stalled_and_healthy(node: AppServer, tid: str, origin: str) -> tuple[Reader, Reader]:
    """A reader with a tiny receive buffer that will stop reading, and one that keeps up; both live."""
    stalled = await connect(node.ws_base, tid, origin=origin, rcvbuf=2048)
    healthy = await connect(node.ws_base, tid, origin=origin)
    assert (await stalled.next())["type"] == "ready"
    assert (await healthy.next())["type"] == "ready"
    return stalled, healthy


async def _read_to_close(reader: Reader, timeout: float = 10) -> tuple[list[int], int | None]:
    """Everything the reader is still sent, then the close code (None: never closed)."""
    seqs: list[int] = []
    try:
        while True:
            message = await reader.next(timeout)
            if "seq" in message and message["type"] != "ready":
                seqs.append(message["seq"])
    except websockets.exceptions.ConnectionClosed as closed:
        return seqs, closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return seqs, None


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
async def test_a_reader_that_pauses_for_fewer_events_than_its_queue_gets_them_all(app_server, redis_server,
                                                                                   thread) -> None:
    """A stalled reader (its buffers full) with a queue larger than what arrives meanwhile
    is never cut: once it reads again it gets every event, in order."""
    node = AppServer(redis_server.url, env={"REJOINDER_LIVE_QUEUE": "100000"}).start()
    try:
        tid = thread["id"]
        paused, healthy = await _stalled_and_healthy(node, tid, app_server.page_origin)
        # 800 events of ~9 KB: more than the kernel's loopback buffers could ever hold (~4-6 MB),
        # so the server holds the rest for the paused reader.
        posts = 800
        async with httpx.AsyncClient(base_url=node.base, headers={"X-Rejoinder-Client": "poster-000000001"}) as c:
            for i in range(posts):
                await _post(c, tid, f"{i} {LONG_TEXT}")
                assert (await healthy.next(5))["seq"] == i + 1
            metrics = (await c.get("/metrics", headers=SCRAPE)).text
        seqs, code = await _read_to_close(paused, timeout=3)
        assert code is None, f"the paused reader was cut with {code} after {len(seqs)} of {posts} events"
        assert seqs == list(range(1, posts + 1))
        assert metric(metrics, "rejoinder_live_events_waiting") > 0, "the server never had to hold an event back"
        assert metric(metrics, "rejoinder_live_queue_drops_total") == 0
        await paused.close()
        await healthy.close()
    finally:
        node.stop()


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
async def test_a_reader_that_stays_away_is_cut_after_exactly_its_queue_and_counted(app_server, redis_server,
                                                                                  thread) -> None:
    """With REJOINDER_LIVE_QUEUE=16, a reader that stops reading is cut (4000: resume) when a
    17th event would wait for it: it loses exactly those 17, it is counted once in
    rejoinder_live_queue_drops_total, and until then the kernel held little for it."""
    queue = 16
    node = AppServer(redis_server.url, env={"REJOINDER_LIVE_QUEUE": str(queue)}).start()
    try:
        tid = thread["id"]
        stalled, healthy = await _stalled_and_healthy(node, tid, app_server.page_origin)
        async with httpx.AsyncClient(base_url=node.base, headers={"X-Rejoinder-Client": "poster-000000002"}) as c:
            before = metric((await c.get("/metrics", headers=SCRAPE)).text, "rejoinder_live_queue_drops_total")
            posted, drops = 0, before
            # Post one event at a time; once the healthy reader has it, the node has pushed it to
            # the stalled reader too (one hub, one loop), so the counter tells whether it was cut.
            while drops == before and posted < 800:
                await _post(c, tid, f"{posted} {LONG_TEXT}")
                posted += 1
                assert (await healthy.next(5))["seq"] == posted
                drops = metric((await c.get("/metrics", headers=SCRAPE)).text, "rejoinder_live_queue_drops_total")
        assert drops == before + 1, f"never cut after {posted} events"
        seqs, code = await _read_to_close(stalled)
        assert code == 4000
        assert seqs == list(range(1, len(seqs) + 1)), "what it was sent came in order, without gaps"
        # Cut when the 17th event would wait: the 16 waiting and that one are what it lost.
        assert posted - len(seqs) == queue + 1, (posted, len(seqs))
        # Before its queue started, only what fits in the socket buffers reached the wire.
        held = len(seqs) * len(LONG_TEXT)
        assert held < 512 * 1024, f"{held} bytes held in buffers for a reader that stopped reading"
        await healthy.close()
    finally:
        node.stop()
