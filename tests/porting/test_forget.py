"""`rejoinder forget`: everything of one commenter goes, the threads they spoke in keep their shape."""

from __future__ import annotations

import asyncio
from typing import Any

from rejoinder.auth.identity import guest_key, keyed_hash
from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import all_comments, post
from ..support.cli import SECRET, cli, cli_json, everything
from ..support.invariants import thread_problems
from ..support.live import connect
from .test_import import RIVER, SECOND, find, import_fixture, open_page


def traces(client: Any, *needles: str) -> list[str]:
    """Keys whose stored value still contains any of the needles (case-insensitive)."""
    found = []
    for key, value in everything(client).items():
        text = repr(value).lower()
        if any(n.lower() in text for n in needles):
            found.append(key)
    return found


def guest_identity(client: Any) -> str:
    return guest_key(SECRET, SITE, client.headers["X-Rejoinder-Client"])


def test_forget_by_email_keeps_placeholders_where_replies_hang_and_leaves_no_trace(redis_server, redis_client,
                                                                                 api) -> None:
    import_fixture(redis_server, "wordpress.wxr.xml")
    # Ann also commented here, with the same address (written differently), on a page without replies.
    native = open_page(api, "https://blog.example/about/")["id"]
    post(api, native, "Ann again, posted here", name="Ann Walker", email="Ann@Walkers.Example",
         website="https://ann.example")
    river, second = open_page(api, RIVER), open_page(api, SECOND)
    assert (river["count"], second["count"]) == (13, 2)
    assert traces(redis_client, "walkers.example")  # the test would prove nothing otherwise

    report = cli_json(redis_server.url, "forget", SITE, "--email", "ann@walkers.example")
    assert {k: report[k] for k in ("comments", "threads", "placeholders", "removed")} == \
        {"comments": 3, "threads": 3, "placeholders": 2, "removed": 1}

    assert open_page(api, RIVER)["count"] == 12 and open_page(api, SECOND)["count"] == 1
    assert open_page(api, "https://blog.example/about/")["count"] == 0
    assert all_comments(api, native) == []  # no replies: nothing left to show
    comments = all_comments(api, river["id"])
    bob = find(comments, "old stone one")
    [placeholder] = [c for c in comments if c["id"] == bob["parent"]]
    assert placeholder["status"] == "deleted" and placeholder["author"] is None and placeholder["html"] == ""
    assert find(all_comments(api, second["id"]), "Worth it")["parent"] is not None

    # Nothing of Ann is stored anywhere: not in comments, not in the event logs.
    avatar = keyed_hash(SECRET, "avatar:ann@walkers.example", 20)
    assert traces(redis_client, "walkers.example", "Ann Walker", "ann.example", "Lovely walk", "Steep!", avatar,
                  keyed_hash(SECRET, "ip:203.0.113.7")) == []
    for tid in (river["id"], second["id"], native):
        assert thread_problems(redis_client, tid) == []

    # Asking again changes nothing; importing the old file again does not bring her back.
    assert cli_json(redis_server.url, "forget", SITE, "--email", "ann@walkers.example")["comments"] == 0
    again = cli_json(redis_server.url, "import", SITE, "tests/porting/fixtures/wordpress.wxr.xml")
    assert again["comments"]["imported"] == 0
    assert traces(redis_client, "walkers.example", "Ann Walker") == []


def test_forget_by_identity_takes_their_comments_and_likes(redis_server, redis_client, api, other_reader) -> None:
    tid = open_page(api, "https://blog.example/likes/")["id"]
    first = post(api, tid, "Zed's first word", name="Zed Zebra")["comment"]
    post(api, tid, "Zed's second word", name="Zed Zebra")
    answer = post(other_reader, tid, "A kind answer", name="Yan", parent=first["id"])["comment"]
    api.put(f"/api/threads/{tid}/comments/{answer['id']}/like")
    api.put(f"/api/threads/{tid}/like")
    other_reader.put(f"/api/threads/{tid}/like")
    for client in (api, other_reader):
        r = client.put(f"/api/threads/{tid}/comments/{answer['id']}/reactions", params={"emoji": "❤️"})
        assert r.status_code == 200

    report = cli_json(redis_server.url, "forget", SITE, "--identity", guest_identity(api))
    assert {k: report[k] for k in ("comments", "placeholders", "removed", "likes")} == \
        {"comments": 2, "placeholders": 1, "removed": 1, "likes": 2}
    thread = open_page(api, "https://blog.example/likes/")
    assert thread["count"] == 1 and thread["likes"] == 1  # Yan's like of the post stays
    comments = all_comments(other_reader, tid)
    assert [c["status"] for c in comments] == ["deleted", "approved"]
    assert comments[1]["likes"] == 0 and comments[1]["parent"] == comments[0]["id"]
    assert traces(redis_client, "Zed") == []  # name and words
    assert not redis_client.exists(keys.liked_by(tid, guest_identity(api)))
    # Their reaction goes too; Yan's own stays.
    assert not redis_client.exists(keys.reacted(tid, guest_identity(api)))
    assert other_reader.get(f"/api/threads/{tid}/reactions").json() == {
        "reactions": {str(answer["id"]): {"❤️": 1}}, "mine": [f"{answer['id']}|❤️"]}
    assert thread_problems(redis_client, tid) == []


def test_the_commenter_to_forget_must_be_named_well(redis_server) -> None:
    for args in (["--email", "not-an-address"], ["--identity", "ann"]):
        result = cli(redis_server.url, "forget", SITE, *args)
        assert result.returncode == 2 and result.stderr
    result = cli(redis_server.url, "forget", "nosuchsite", "--email", "ann@walkers.example")
    assert result.returncode == 1 and "no site nosuchsite" in result.stderr


async def test_live_readers_see_the_deletions(redis_server, app_server, api, other_reader) -> None:
    tid = open_page(api, "https://blog.example/live/")["id"]
    mine = post(api, tid, "Soon forgotten", name="Xia")["comment"]
    post(other_reader, tid, "Reply that stays", name="Wes", parent=mine["id"])
    alone = post(api, tid, "Also forgotten", name="Xia")["comment"]
    api.put(f"/api/threads/{tid}/like")
    head = open_page(api, "https://blog.example/live/")["head"]

    reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=head)
    assert (await reader.next())["type"] == "ready"
    await asyncio.to_thread(cli_json, redis_server.url, "forget", SITE, "--identity", guest_identity(api))
    got = [await reader.next() for _ in range(3)]
    assert [m["type"] for m in got] == ["comment.deleted", "comment.deleted", "like.changed"]
    deleted = {m["comment"]["id"]: m for m in got[:2]}
    assert set(deleted) == {mine["id"], alone["id"]}
    assert all(m["comment"]["author"] is None and m["comment"]["html"] == "" for m in got[:2])
    assert got[-1] == {"type": "like.changed", "seq": got[-1]["seq"], "target": "post", "likes": 0}
    assert [m["count"] for m in got[:2]][-1] == 1
    await reader.close()

    # A reader who was away since before the forgetting cannot replay the old events
    # (they held Xia's words): it is told to refetch the thread.
    late = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=1)
    assert (await late.next())["type"] == "resync"
    await late.close()
