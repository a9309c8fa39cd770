"""Live updates over real websockets: ordered, resumable, lossless, and protected."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from ..conftest import SITE
from ..support.api import post
from ..support.live import connect
from ..support.servers import SCRAPE, metric


async def apost(client: httpx.AsyncClient, tid: str, text: str, **fields) -> dict:
    r = await client.post(f"/api/threads/{tid}/comments", json={"text": text, "name": "Ann", **fields})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
async def aapi(app_server):
    async with httpx.AsyncClient(base_url=app_server.base, timeout=10,
                                 headers={"X-Rejoinder-Client": "poster-client-0001"}) as client:
        yield client


async def test_new_comment_reaches_a_reader(app_server, aapi, thread) -> None:
    reader = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin)
    assert (await reader.next())["type"] == "ready"
    created = await apost(aapi, thread["id"], "hello live")
    event = await reader.next()
    assert event["type"] == "comment.created"
    assert event["seq"] == 1 and event["count"] == 1
    assert event["comment"]["id"] == created["comment"]["id"]
    assert event["comment"]["html"] == "<p>hello live</p>"
    # Exactly as the REST API shows it to other readers: no private fields.
    public = (await aapi.get(f"/api/threads/{thread['id']}/comments/{created['comment']['id']}",
                             headers={"X-Rejoinder-Client": "someone-else-000001"})).json()["comment"]
    assert event["comment"] == public
    await reader.close()


async def test_edits_deletes_and_likes_arrive_in_order(app_server, aapi, thread) -> None:
    tid = thread["id"]
    reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin)
    await reader.next()
    created = await apost(aapi, tid, "v1")
    cid, token = created["comment"]["id"], created["edit_token"]
    await aapi.put(f"/api/threads/{tid}/comments/{cid}/like")
    await aapi.put(f"/api/threads/{tid}/like")
    await aapi.patch(f"/api/threads/{tid}/comments/{cid}", json={"text": "v2"}, headers={"X-Rejoinder-Edit-Token": token})
    await aapi.delete(f"/api/threads/{tid}/comments/{cid}", headers={"X-Rejoinder-Edit-Token": token})
    got = [await reader.next() for _ in range(5)]
    assert [m["type"] for m in got] == ["comment.created", "like.changed", "like.changed", "comment.edited",
                                        "comment.deleted"]
    assert [m["seq"] for m in got] == [1, 2, 3, 4, 5]
    assert got[1] == {"type": "like.changed", "seq": 2, "target": str(cid), "likes": 1}
    assert got[2]["target"] == "post"
    assert got[3]["comment"]["html"] == "<p>v2</p>" and got[3]["comment"]["likes"] == 1
    assert got[4]["comment"]["status"] == "deleted" and got[4]["count"] == 0
    await reader.close()


async def test_pending_comment_goes_only_to_its_author(app_server, redis_client, aapi, thread) -> None:
    from ..conftest import register_site
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    tid = thread["id"]
    author = await connect(app_server.ws_base, tid, origin=app_server.page_origin, client="poster-client-0001")
    other = await connect(app_server.ws_base, tid, origin=app_server.page_origin, client="other-client-00001")
    await author.next(), await other.next()
    await apost(aapi, tid, "held for review")
    mine = await author.next()
    assert mine["comment"]["status"] == "pending" and mine["comment"]["mine"] is True
    await aapi.put(f"/api/threads/{tid}/like")
    # The other reader never sees the held comment; its next event is the like.
    assert (await other.next())["type"] == "like.changed"
    await author.close(), await other.close()


async def test_resume_after_disconnect_misses_nothing(app_server, aapi, thread) -> None:
    tid = thread["id"]
    reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin)
    await reader.next()
    await apost(aapi, tid, "before")
    last = (await reader.next())["seq"]
    await reader.close()
    for i in range(20):
        await apost(aapi, tid, f"while away {i}")
    back = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=last,
                         epoch=thread["epoch"])
    replayed = [await back.next() for _ in range(21)]
    assert [m["seq"] for m in replayed[:20]] == list(range(last + 1, last + 21))
    assert [m["comment"]["html"] for m in replayed[:20]] == [f"<p>while away {i}</p>" for i in range(20)]
    assert replayed[20] == {"type": "ready", "head": last + 20}
    await back.close()


async def test_resume_at_the_seam_while_posts_keep_arriving(app_server, thread) -> None:
    """Reconnect over and over while a poster never stops: the reader's sequence
    numbers are exactly 1..N, no duplicate and no gap at any seam."""
    tid = thread["id"]
    total = 120
    async with httpx.AsyncClient(base_url=app_server.base, headers={"X-Rejoinder-Client": "poster-client-0002"}) as c:
        async def poster() -> None:
            for i in range(total):
                await apost(c, tid, f"stream {i}")
                await asyncio.sleep(0.002)

        task = asyncio.create_task(poster())
        seqs: list[int] = []
        last = 0
        while len(seqs) < total:
            reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=last)
            for _ in range(7):  # read a few, then drop the connection mid-stream
                message = await reader.next(10)
                if message["type"] == "comment.created":
                    seqs.append(message["seq"])
                    last = message["seq"]
                if len(seqs) == total:
                    break
            await reader.close()
        await task
    assert seqs == list(range(1, total + 1))


async def test_resync_when_the_log_was_trimmed(app_server, redis_client, aapi, thread) -> None:
    tid = thread["id"]
    for i in range(5):
        await apost(aapi, tid, f"c{i}")
    redis_client.xtrim(f"rj:{{t:{tid}}}:events", minid="4-1", approximate=False)
    reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=1, epoch=thread["epoch"])
    assert await reader.next() == {"type": "resync"}
    # From the trimmed point on, resuming still works.
    ok = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=3, epoch=thread["epoch"])
    assert [(await ok.next())["seq"] for _ in range(2)] == [4, 5]
    await ok.close()


async def test_resync_when_the_epoch_changed(app_server, redis_client, aapi, thread) -> None:
    tid = thread["id"]
    await apost(aapi, tid, "one")
    reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=1, epoch="an-old-epoch")
    assert await reader.next() == {"type": "resync"}
    ahead = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=99, epoch=thread["epoch"])
    assert await ahead.next() == {"type": "resync"}


async def test_foreign_origin_is_refused(app_server, thread) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await connect(app_server.ws_base, thread["id"], origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert b"origin_not_allowed" in refused.value.response.body


async def test_own_origin_is_accepted(app_server, thread) -> None:
    reader = await connect(app_server.ws_base, thread["id"], origin=app_server.base)
    assert (await reader.next())["type"] == "ready"
    await reader.close()


async def test_unknown_thread_is_refused(app_server) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await connect(app_server.ws_base, "0123456789abcdef01234567", origin=app_server.page_origin)
    assert refused.value.response.status_code == 404


async def test_oversize_frame_is_closed_with_1009(app_server, thread) -> None:
    reader = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin)
    await reader.next()
    await reader.ws.send("x" * 5000)
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        await reader.next()
    assert closed.value.rcvd.code == 1009


async def test_connections_per_ip_are_capped(app_server, redis_server, thread) -> None:
    from ..support.servers import AppServer
    capped = AppServer(redis_server.url, env={"REJOINDER_LIVE_PER_IP": "3"}).start()
    try:
        readers = [await connect(capped.ws_base, thread["id"], origin=app_server.page_origin) for _ in range(3)]
        for r in readers:
            await r.next()
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await connect(capped.ws_base, thread["id"], origin=app_server.page_origin)
        assert refused.value.response.status_code == 429
        await readers[0].close()
        await asyncio.sleep(0.2)
        again = await connect(capped.ws_base, thread["id"], origin=app_server.page_origin)
        assert (await again.next())["type"] == "ready"
        for r in readers[1:] + [again]:
            await r.close()
    finally:
        capped.stop()


async def test_silent_socket_is_closed(app_server, redis_server, thread) -> None:
    from ..support.servers import AppServer
    quick = AppServer(redis_server.url, env={"REJOINDER_LIVE_HELLO_SECONDS": "0.3"}).start()
    try:
        reader = await connect(quick.ws_base, thread["id"], origin=app_server.page_origin, hello=False)
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await reader.next(3)
        assert closed.value.rcvd.code == 4408
    finally:
        quick.stop()


async def test_events_go_out_as_one_shared_frame_written_straight_to_each_socket(app_server, aapi, thread) -> None:
    """The fan-out's fast path (live/wire.py) is what `rejoinder serve` runs: if an
    upgrade of uvicorn or websockets disabled it, every send would fall back to the
    slow path and this count would stay flat while readers still got their events."""
    before = (await aapi.get("/metrics", headers=SCRAPE)).text
    readers = [await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin) for _ in range(3)]
    for reader in readers:
        assert (await reader.next())["type"] == "ready"
    for text in ("first", "second"):
        await apost(aapi, thread["id"], text)
    for reader in readers:
        got = [await reader.next() for _ in range(2)]
        assert [m["comment"]["html"] for m in got] == ["<p>first</p>", "<p>second</p>"]
        await reader.close()
    after = (await aapi.get("/metrics", headers=SCRAPE)).text
    delivered = metric(after, "rejoinder_events_delivered_total") - metric(before, "rejoinder_events_delivered_total")
    direct = (metric(after, "rejoinder_events_written_directly_total")
              - metric(before, "rejoinder_events_written_directly_total"))
    assert delivered >= 6
    assert direct == delivered
