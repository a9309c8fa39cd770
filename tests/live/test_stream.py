"""Live events over Server-Sent Events, for networks that break websockets: the same messages in
the same order, resumable, refused to pages the site did not register."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from ..conftest import SITE, register_site
from .test_socket import aapi, apost  # noqa: F401 - aapi is a fixture


class Events:
    """An open stream, read message by message."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.ids: list[int] = []
        self.presence: list[int] = []

    async def next(self, timeout: float = 5.0, presence: bool = False) -> dict[str, Any]:
        """The next message; "N reading now" notices are kept aside in self.presence unless asked for."""
        async def one() -> dict[str, Any]:
            data: list[str] = []
            async for line in self.lines:
                if line.startswith("id: "):
                    self.ids.append(int(line[4:]))
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and data:
                    message = orjson.loads("\n".join(data))
                    data = []
                    if message.get("type") == "presence" and not presence:
                        self.presence.append(message["readers"])
                        continue
                    return message
            raise EOFError("the stream ended")

        return await asyncio.wait_for(one(), timeout)


@contextlib.asynccontextmanager
async def stream(base: str, tid: str, *, origin: str | None, since: int = 0, epoch: str | None = None,
                 client: str = "stream-reader-00001", token: str | None = None) -> AsyncIterator[Events]:
    headers = {"X-Rejoinder-Client": client}
    if origin:
        headers["Origin"] = origin
    if token:
        headers["Authorization"] = f"Bearer {token}"
    params: dict[str, Any] = {"since": since}
    if epoch:
        params["epoch"] = epoch
    async with httpx.AsyncClient(base_url=base, timeout=10) as c:
        async with c.stream("GET", f"/api/threads/{tid}/stream", params=params, headers=headers) as r:
            assert r.status_code == 200, (await r.aread()).decode()
            assert r.headers["content-type"].startswith("text/event-stream")
            yield Events(r)


async def test_a_stream_replays_then_delivers_live_events_in_order(app_server, aapi, thread) -> None:
    tid = thread["id"]
    await apost(aapi, tid, "before")
    async with stream(app_server.base, tid, origin=app_server.page_origin) as events:
        assert (await events.next())["comment"]["html"] == "<p>before</p>"
        assert await events.next() == {"type": "ready", "head": 1}
        for i in range(3):
            await apost(aapi, tid, f"live {i}")
        got = [await events.next() for _ in range(3)]
        assert [m["comment"]["html"] for m in got] == [f"<p>live {i}</p>" for i in range(3)]
        assert [m["seq"] for m in got] == [2, 3, 4]
        assert events.ids == [1, 2, 3, 4]


async def test_a_stream_resumes_from_the_last_event_seen(app_server, aapi, thread) -> None:
    tid = thread["id"]
    for i in range(5):
        await apost(aapi, tid, f"missed {i}")
    async with stream(app_server.base, tid, origin=app_server.page_origin, since=2, epoch=thread["epoch"]) as events:
        got = [await events.next() for _ in range(4)]
    assert [m.get("seq") for m in got[:3]] == [3, 4, 5]
    assert got[3] == {"type": "ready", "head": 5}


async def test_a_stream_from_another_history_is_told_to_resync(app_server, aapi, thread) -> None:
    tid = thread["id"]
    await apost(aapi, tid, "one")
    async with stream(app_server.base, tid, origin=app_server.page_origin, since=1, epoch="an-old-epoch") as events:
        assert await events.next() == {"type": "resync"}
    async with stream(app_server.base, tid, origin=app_server.page_origin, since=99, epoch=thread["epoch"]) as events:
        assert await events.next() == {"type": "resync"}


async def test_a_held_comment_streams_only_to_its_author(app_server, redis_client, aapi, thread) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    tid = thread["id"]
    async with stream(app_server.base, tid, origin=app_server.page_origin, client="poster-client-0001") as mine, \
            stream(app_server.base, tid, origin=app_server.page_origin, client="other-client-00001") as other:
        await mine.next(), await other.next()
        await apost(aapi, tid, "held for review")
        own = await mine.next()
        assert own["comment"]["status"] == "pending" and own["comment"]["mine"] is True
        await aapi.put(f"/api/threads/{tid}/like")
        assert (await other.next())["type"] == "like.changed"
        # Told how many read the thread, over the stream as over a socket.
        while 2 not in mine.presence:
            message = await mine.next(timeout=8, presence=True)
            if message["type"] == "presence":
                mine.presence.append(message["readers"])


async def test_a_page_the_site_did_not_register_cannot_open_a_stream(app_server, thread) -> None:
    async with httpx.AsyncClient(base_url=app_server.base, timeout=10) as c:
        for headers in ({"Origin": "https://evil.example"}, {}, {"Sec-Fetch-Site": "cross-site"}):
            r = await c.get(f"/api/threads/{thread['id']}/stream", headers=headers)
            assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed", (headers, r.text)
        r = await c.get("/api/threads/0123456789abcdef01234567/stream", headers={"Origin": app_server.page_origin})
        assert r.status_code == 404 and r.json()["error"]["code"] == "thread_not_found"
        # A session works only inside the comments frame, and only a real one.
        r = await c.get(f"/api/threads/{thread['id']}/stream",
                        headers={"Origin": app_server.page_origin, "Authorization": "Bearer not-a-session"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
        r = await c.get(f"/api/threads/{thread['id']}/stream",
                        headers={"Sec-Fetch-Site": "same-origin", "Authorization": "Bearer not-a-session"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_session"


async def test_the_comments_frame_opens_a_stream_by_fetch_metadata(app_server, thread) -> None:
    """The frame's own fetch is same-origin: browsers send Sec-Fetch-Site, not Origin, for a GET."""
    async with httpx.AsyncClient(base_url=app_server.base, timeout=10) as c:
        async with c.stream("GET", f"/api/threads/{thread['id']}/stream",
                            headers={"Sec-Fetch-Site": "same-origin", "X-Rejoinder-Client": "frame-reader-0001"}) as r:
            assert r.status_code == 200
            first = Events(r)
            assert (await first.next())["type"] == "ready"


async def test_streams_count_against_the_live_connection_cap_and_give_their_place_back(app_server, redis_server,
                                                                                       thread) -> None:
    from ..support.servers import AppServer
    node = AppServer(redis_server.url, env={"REJOINDER_LIVE_PER_IP": "2"}).start()
    try:
        tid = thread["id"]
        for _ in range(4):  # one after another: each closed stream gives its place back
            async with stream(node.base, tid, origin=app_server.page_origin) as events:
                assert (await events.next())["type"] == "ready"
        async with stream(node.base, tid, origin=app_server.page_origin) as one, \
                stream(node.base, tid, origin=app_server.page_origin) as two:
            await one.next(), await two.next()
            async with httpx.AsyncClient(base_url=node.base, timeout=10) as c:
                r = await c.get(f"/api/threads/{tid}/stream", headers={"Origin": app_server.page_origin})
                assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    finally:
        node.stop()


async def test_live_events_go_out_as_one_shared_chunk_written_straight_to_each_stream(app_server, aapi,
                                                                                      thread) -> None:
    """As for websockets (live/wire.py): if an upgrade of uvicorn disabled the direct write, every
    event would go through ASGI and this count would stay flat while readers still got them."""
    from ..support.servers import SCRAPE, metric
    tid = thread["id"]
    async with contextlib.AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(stream(app_server.base, tid, origin=app_server.page_origin,
                                                          client=f"stream-reader-{i:05d}")) for i in range(3)]
        for r in readers:
            assert (await r.next())["type"] == "ready"
        before = (await aapi.get("/metrics", headers=SCRAPE)).text
        for text in ("first", "second"):
            await apost(aapi, tid, text)
        for r in readers:
            got = [await r.next() for _ in range(2)]
            assert [m["comment"]["html"] for m in got] == ["<p>first</p>", "<p>second</p>"]
        after = (await aapi.get("/metrics", headers=SCRAPE)).text
    delivered = metric(after, "rejoinder_events_delivered_total") - metric(before, "rejoinder_events_delivered_total")
    direct = (metric(after, "rejoinder_events_written_directly_total")
              - metric(before, "rejoinder_events_written_directly_total"))
    assert delivered == 6 and direct == 6, (delivered, direct)
