"""Reactions through real HTTP and the live socket: the site's emoji, one of each per reader, counts
that follow moves, and what is refused."""

from __future__ import annotations

import asyncio
import urllib.parse

import httpx

from ..conftest import SITE, new_client_id
from ..support.api import error_of, post
from ..support.live import connect


def react(client: httpx.Client, tid: str, cid: int, emoji: str, on: bool = True, expect: int = 200) -> dict:
    url = f"/api/threads/{tid}/comments/{cid}/reactions?emoji={urllib.parse.quote(emoji)}"
    r = client.put(url) if on else client.delete(url)
    assert r.status_code == expect, r.text
    return r.json()


def reader(api: httpx.Client) -> httpx.Client:
    return httpx.Client(base_url=str(api.base_url), timeout=10, headers={"X-Rejoinder-Client": new_client_id()})


def test_one_of_each_emoji_per_reader_and_the_counts_everyone_sees(api, thread) -> None:
    tid = thread["id"]
    cid = post(api, tid, "React to me")["comment"]["id"]
    other = post(api, tid, "Or to me")["comment"]["id"]
    with reader(api) as bo, reader(api) as cy:
        assert react(bo, tid, cid, "👍") == {"target": cid, "emoji": "👍", "count": 1, "reacted": True}
        assert react(bo, tid, cid, "👍")["count"] == 1  # once per reader
        assert react(cy, tid, cid, "👍")["count"] == 2
        assert react(cy, tid, cid, "❤️")["count"] == 1
        assert react(bo, tid, other, "😂")["count"] == 1
        assert react(cy, tid, cid, "👍", on=False) == {"target": cid, "emoji": "👍", "count": 1, "reacted": False}
        assert react(cy, tid, cid, "👍", on=False)["count"] == 1  # taking back twice takes one
        mine = bo.get(f"/api/threads/{tid}/reactions").json()
        assert mine == {"reactions": {str(cid): {"👍": 1, "❤️": 1}, str(other): {"😂": 1}},
                        "mine": [f"{cid}|👍", f"{other}|😂"]}
        assert api.get(f"/api/threads/{tid}/reactions").json()["mine"] == []
        # A like is still a like: "Liked by" counts likes only.
        assert api.get(f"/api/threads/{tid}").json()["comments"][0]["likes"] == 0


def test_only_the_sites_emoji_on_published_comments(app_server, admin, api, other_reader, thread) -> None:
    tid = thread["id"]
    cid = post(api, tid, "Here")["comment"]["id"]
    for emoji in ("🦄", "x", "", "👍|1"):
        assert error_of(api.put(f"/api/threads/{tid}/comments/{cid}/reactions",
                                params={"emoji": emoji}))["field"] == "emoji"
    assert error_of(api.put(f"/api/threads/{tid}/comments/999/reactions", params={"emoji": "👍"}))["code"] == \
        "comment_not_found"
    held = post(other_reader, tid, "spam", name="Bot", hp="http://spam.example")["comment"]
    assert error_of(api.put(f"/api/threads/{tid}/comments/{held['id']}/reactions",
                            params={"emoji": "👍"}))["code"] == "comment_not_found"
    # The site chooses its own set; the widget learns it with the thread.
    assert admin.patch(f"/api/admin/sites/{SITE}", json={"reactions": ["🦄", "🌈"]}).status_code == 200
    assert api.get("/api/threads", params={"site": SITE, "page": "post-one"}).json()["site"]["reactions"] == ["🦄", "🌈"]
    assert react(api, tid, cid, "🦄")["count"] == 1
    assert error_of(api.put(f"/api/threads/{tid}/comments/{cid}/reactions", params={"emoji": "👍"}))["field"] == "emoji"
    for bad in (["a"], ["👍"] * 11, "👍", [1]):
        r = admin.patch(f"/api/admin/sites/{SITE}", json={"reactions": bad})
        assert (r.status_code, error_of(r)["field"]) == (422, "reactions"), bad


def test_reactions_reach_live_readers(app_server, api, thread) -> None:
    tid = thread["id"]
    cid = post(api, tid, "Live")["comment"]["id"]

    async def run() -> dict:
        live = await connect(app_server.ws_base, tid, origin=app_server.page_origin)
        await live.until(lambda m: m["type"] == "ready")
        await asyncio.to_thread(react, api, tid, cid, "😮")
        message = await live.until(lambda m: m["type"] == "reaction.changed")
        await live.close()
        return message
    message = asyncio.run(run())
    assert (message["target"], message["emoji"], message["count"]) == (cid, "😮", 1)
