"""Live effects of moderation: readers see approvals and removals at once; the dashboard hears of new comments."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets


from ..conftest import SITE
from ..support.live import connect
from .conftest import end_session, policy

BASE = f"/api/admin/sites/{SITE}"


@pytest.fixture
async def aadmin(app_server, admin_token):
    async with httpx.AsyncClient(base_url=app_server.base, timeout=10,
                                 headers={"Authorization": f"Bearer {admin_token}"}) as client:
        yield client


@pytest.fixture
async def author(app_server):
    async with httpx.AsyncClient(base_url=app_server.base, timeout=10,
                                 headers={"X-Rejoinder-Client": "author-client-00001"}) as client:
        yield client


async def apost(client: httpx.AsyncClient, tid: str, text: str) -> dict:
    r = await client.post(f"/api/threads/{tid}/comments", json={"text": text, "name": "Ann"})
    assert r.status_code == 201, r.text
    return r.json()["comment"]


async def test_approving_a_held_comment_shows_it_to_live_readers(
        redis_client, app_server, aadmin, author, thread) -> None:
    policy(redis_client, app_server, "hold_all")
    reader = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin)
    writer = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin,
                           client="author-client-00001")
    assert (await reader.next())["type"] == "ready" and (await writer.next())["type"] == "ready"
    held = await apost(author, thread["id"], "wait for me")
    assert (await writer.next())["comment"]["status"] == "pending"  # only its author hears of it
    r = await aadmin.post(f"{BASE}/comments/{thread['id']}/{held['id']}/approve")
    assert r.status_code == 200, r.text
    event = await reader.next()
    assert event["type"] == "comment.approved" and event["count"] == 1
    assert event["comment"]["id"] == held["id"] and event["comment"]["html"] == "<p>wait for me</p>"
    assert "email" not in event["comment"] and "identity" not in event["comment"]
    assert reader.seen[1:] == [event]  # the held comment itself never reached this reader
    mine = await writer.next()
    assert mine["type"] == "comment.approved" and mine["comment"]["mine"] is True
    await reader.close()
    await writer.close()


async def test_marking_spam_removes_it_for_live_readers_and_the_author_sees_it_pending(
        app_server, aadmin, author, thread) -> None:
    reader = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin)
    writer = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin,
                           client="author-client-00001")
    assert (await reader.next())["type"] == "ready" and (await writer.next())["type"] == "ready"
    comment = await apost(author, thread["id"], "buy my stuff")
    assert (await reader.next())["type"] == "comment.created"
    await writer.next()
    r = await aadmin.post(f"{BASE}/comments/{thread['id']}/{comment['id']}/spam")
    assert r.status_code == 200
    gone = await reader.next()
    assert gone == {"type": "comment.hidden", "seq": gone["seq"], "id": comment["id"], "count": 0}
    own = await writer.next()
    assert own["type"] == "comment.hidden" and own["comment"]["status"] == "pending"
    # A new reader replaying the log learns the same, and never that it was spam.
    late = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin, since=0)
    replay = [await late.next() for _ in range(3)]
    assert [m["type"] for m in replay] == ["comment.created", "comment.hidden", "ready"]
    assert b"spam" not in orjson.dumps(replay)
    for ws in (reader, writer, late):
        await ws.close()


async def test_lock_reaches_live_readers(app_server, aadmin, thread) -> None:
    reader = await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin)
    assert (await reader.next())["type"] == "ready"
    await aadmin.patch(f"{BASE}/threads/{thread['id']}", json={"locked": True})
    assert (await reader.next())["locked"] is True
    await aadmin.patch(f"{BASE}/threads/{thread['id']}", json={"locked": False})
    event = await reader.next()
    assert event["type"] == "thread.locked" and event["locked"] is False
    await reader.close()


async def test_the_dashboard_socket_hears_of_each_new_comment(
        redis_client, app_server, admin_token, author, thread) -> None:
    policy(redis_client, app_server, "hold_all")
    ws = await websockets.connect(f"{app_server.ws_base}/api/admin/sites/{SITE}/live", origin=app_server.base,
                                  subprotocols=["rejoinder.admin", "bearer." + admin_token], open_timeout=5)
    assert orjson.loads(await ws.recv()) == {"type": "ready"}
    await apost(author, thread["id"], "held for review")
    changed = orjson.loads(await ws.recv())
    assert changed == {"type": "changed", "events": [{"tid": thread["id"], "type": "comment.created"}]}
    # Its session revoked, the dashboard's socket closes at the next wake-up.
    end_session(redis_client, admin_token)
    await apost(author, thread["id"], "another one")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == 4401
