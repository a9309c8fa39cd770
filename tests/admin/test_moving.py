"""Moving a blog through real HTTP: remap threads to new pages (dry run, collisions, idempotence, a
pattern, readers following live), merge two threads of one page, and a move cut short then run again."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from rejoinder.store import keys
from rejoinder.store.moving import MovingStore

from ..conftest import SITE, register_site
from ..support.api import all_comments, error_of, post
from ..support.invariants import thread_problems
from ..support.live import connect
from .conftest import policy

BASE = f"/api/admin/sites/{SITE}"
NEW_ORIGIN = "https://new-blog.example"


def open_page(client: httpx.Client, page: str, title: str = "") -> dict:
    r = client.get("/api/threads", params={"site": SITE, "page": page, **({"title": title} if title else {})})
    assert r.status_code == 200, r.text
    return r.json()


def shape(client: httpx.Client, tid: str) -> list[tuple]:
    """What a reader sees of a thread: each comment's id, parent, status, text, likes and own like."""
    return [(c["id"], c["parent"], c["status"], c["html"], c["likes"], c["liked"]) for c in all_comments(client, tid)]


def like(client: httpx.Client, tid: str, cid: int | None = None) -> None:
    path = f"/api/threads/{tid}/like" if cid is None else f"/api/threads/{tid}/comments/{cid}/like"
    assert client.put(path).status_code == 200


def seed_thread(api: httpx.Client, other: httpx.Client, page: str, title: str, words: str) -> dict:
    """A thread with a reply chain, a deleted comment that keeps its place, likes of comments and
    of the post, as readers make them."""
    tid = open_page(api, page, title)["thread"]["id"]
    first = post(api, tid, f"{words}: the first")["comment"]
    reply = post(other, tid, f"{words}: a reply", name="Bo", parent=first["id"])["comment"]
    post(api, tid, f"{words}: a reply to the reply", parent=reply["id"])
    gone = post(other, tid, f"{words}: soon deleted", name="Bo")
    post(api, tid, f"{words}: under the deleted one", parent=gone["comment"]["id"])
    assert other.delete(f"/api/threads/{tid}/comments/{gone['comment']['id']}",
                        headers={"X-Rejoinder-Edit-Token": gone["edit_token"]}).status_code == 200
    like(other, tid, first["id"])
    like(api, tid, first["id"])
    like(other, tid)
    assert other.put(f"/api/threads/{tid}/comments/{reply['id']}/reactions", params={"emoji": "😮"}).status_code == 200
    return {"id": tid, "first": first["id"]}


def remap(admin: httpx.Client, rules: list[dict], *, dry_run: bool, merge: bool = False,
          expect: int = 200) -> dict:
    r = admin.post(f"{BASE}/remap", json={"rules": rules, "dry_run": dry_run, "merge": merge})
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def pages(app_server) -> str:
    return app_server.page_origin


def test_a_remap_lists_first_then_moves_every_comment_like_and_reply_to_the_new_pages(
        redis_client, app_server, admin, api, other_reader, pages) -> None:
    register_site(redis_client, SITE, [pages])
    alpha = seed_thread(api, other_reader, f"{pages}/2019/01/alpha", "Alpha", "alpha")
    beta = seed_thread(api, other_reader, f"{pages}/2019/01/beta", "Beta", "beta")
    taken = open_page(api, f"{pages}/blog/beta")["thread"]["id"]  # the new page has comments of its own
    post(api, taken, "Said on the new page already")
    before = {"alpha": shape(api, alpha["id"]), "beta": shape(api, beta["id"])}
    reactions = other_reader.get(f"/api/threads/{alpha['id']}/reactions").json()
    assert reactions["reactions"] == {"2": {"😮": 1}} and reactions["mine"] == ["2|😮"]
    rule = [{"from": f"{pages}/2019/01/", "to": f"{pages}/blog/"}]

    dry = remap(admin, rule, dry_run=True)
    by_page = {t["page"]: t for t in dry["threads"]}
    assert dry["summary"] == {"move": 1, "merge": 0, "url": 0, "collision": 1, "refused": 0}
    assert (by_page[f"{pages}/2019/01/alpha"]["action"], by_page[f"{pages}/2019/01/alpha"]["to_page"]) == (
        "move", f"{pages}/blog/alpha")
    assert (by_page[f"{pages}/2019/01/beta"]["action"], by_page[f"{pages}/2019/01/beta"]["reason"]) == (
        "collision", "target_has_comments")
    # A dry run changes nothing.
    assert shape(api, alpha["id"]) == before["alpha"]
    assert open_page(api, f"{pages}/blog/alpha")["comments"] == []

    done = remap(admin, rule, dry_run=False)
    assert done["summary"]["move"] == 1 and done["summary"]["collision"] == 1
    moved = open_page(api, f"{pages}/blog/alpha")
    new_tid = moved["thread"]["id"]
    assert new_tid == keys.thread_id(SITE, f"{pages}/blog/alpha") != alpha["id"]
    # The same comments with the same ids (links to #c1 still work), replies, placeholders and likes,
    # and the reader's own likes still theirs.
    assert shape(api, new_tid) == before["alpha"]
    assert moved["thread"]["count"] == 4 and moved["thread"]["likes"] == 1 and moved["thread"]["title"] == "Alpha"
    assert moved["thread"]["url"] == f"{pages}/blog/alpha"
    assert open_page(other_reader, f"{pages}/blog/alpha")["thread"]["liked"] is True
    assert other_reader.get(f"/api/threads/{new_tid}/reactions").json() == reactions
    assert thread_problems(redis_client, new_tid) == []
    # The old page leads there, and its counts too.
    assert open_page(api, f"{pages}/2019/01/alpha")["thread"]["id"] == new_tid
    counts = api.get("/api/counts", params={"site": SITE, "page": [f"{pages}/2019/01/alpha", f"{pages}/blog/alpha"]})
    assert list(counts.json()["counts"].values()) == [4, 4]
    # What a stale widget sends to the old thread is refused, not lost in a pointer.
    assert error_of(api.post(f"/api/threads/{alpha['id']}/comments", json={"text": "late", "name": "Ann"})
                    )["code"] == "thread_locked"
    # The colliding thread stayed where it was.
    assert shape(api, beta["id"]) == before["beta"]

    again = remap(admin, rule, dry_run=False)
    assert again["summary"] == {"move": 0, "merge": 0, "url": 0, "collision": 1, "refused": 0}
    assert shape(api, new_tid) == before["alpha"]

    # Asked to, the collision merges: both threads' comments under the new page, none lost.
    merged = remap(admin, rule, dry_run=False, merge=True)
    assert merged["summary"]["merge"] == 1 and merged["threads"][0]["result"] == "done"
    new_beta = keys.thread_id(SITE, f"{pages}/blog/beta")
    texts = [c[3] for c in shape(api, new_beta)]
    assert texts[0] == "<p>Said on the new page already</p>"
    assert sorted(texts[1:]) == sorted(c[3] for c in before["beta"])
    assert thread_problems(redis_client, new_beta) == []
    assert open_page(api, f"{pages}/blog/beta")["thread"]["count"] == 5


def test_a_domain_change_by_pattern_and_urls_off_the_site_are_refused(
        redis_client, app_server, admin, api, pages) -> None:
    register_site(redis_client, SITE, [pages, NEW_ORIGIN])
    tid = open_page(api, f"{pages}/2020/05/gamma", "Gamma")["thread"]["id"]
    post(api, tid, "Gamma's only comment")
    rule = [{"pattern": r"^http://127\.0\.0\.1:\d+/\d{4}/\d{2}/([a-z]+)$", "replace": NEW_ORIGIN + r"/posts/\1/"}]
    dry = remap(admin, rule, dry_run=True)
    assert [(t["action"], t["to_page"]) for t in dry["threads"]] == [("move", f"{NEW_ORIGIN}/posts/gamma/")]
    remap(admin, rule, dry_run=False)
    r = api.get("/api/threads", params={"site": SITE, "page": f"{NEW_ORIGIN}/posts/gamma/"})
    assert [c["html"] for c in r.json()["comments"]] == ["<p>Gamma's only comment</p>"]

    # One page by its address (Disqus's URL mapper, pair by pair), matched as the widget matches pages.
    one = remap(admin, [{"page": f"{NEW_ORIGIN}/posts/gamma/?utm_source=feed", "to": f"{NEW_ORIGIN}/gamma"},
                        {"page": f"{NEW_ORIGIN}/posts/gamm", "to": f"{NEW_ORIGIN}/never"}], dry_run=False)
    assert [(t["page"], t["to_page"], t["result"]) for t in one["threads"]] == [
        (f"{NEW_ORIGIN}/posts/gamma/", f"{NEW_ORIGIN}/gamma", "done")]
    r = api.get("/api/threads", params={"site": SITE, "page": f"{NEW_ORIGIN}/gamma"})
    assert [c["html"] for c in r.json()["comments"]] == ["<p>Gamma's only comment</p>"]

    # A URL on no origin of the site is never planted on a thread (mail and exports link to it).
    other = remap(admin, [{"from": f"{NEW_ORIGIN}/", "to": "https://elsewhere.example/"}], dry_run=True)
    assert len(other["threads"]) == 1
    assert [(t["action"], t["reason"]) for t in other["threads"]] == [("refused", "url_not_on_site")]
    for bad in ([], [{"from": "x"}], [{"pattern": "(", "replace": ""}], [{"from": "a\nb", "to": ""}], "rules",
                [{"from": "a", "to": "b", "pattern": "c"}], [{"page": "", "to": "b"}], [{"page": "a", "to": ""}]):
        r = admin.post(f"{BASE}/remap", json={"rules": bad})
        assert (r.status_code, error_of(r)["field"]) == (422, "rules"), bad


def test_live_readers_of_a_moved_thread_are_told_where_it_went(redis_client, app_server, admin, api, pages) -> None:
    register_site(redis_client, SITE, [pages])
    tid = open_page(api, f"{pages}/old/delta", "Delta")["thread"]["id"]
    post(api, tid, "Delta")

    async def run() -> dict:
        reader = await connect(app_server.ws_base, tid, origin=pages)
        await reader.until(lambda m: m["type"] == "ready")
        await asyncio.to_thread(remap, admin, [{"from": f"{pages}/old/", "to": f"{pages}/new/"}], dry_run=False)
        message = await reader.until(lambda m: m["type"] == "thread.moved", timeout=10)
        await reader.close()
        return message
    message = asyncio.run(run())
    assert message["to"] == keys.thread_id(SITE, f"{pages}/new/delta") and message["url"] == f"{pages}/new/delta"


def test_merging_a_page_with_and_without_its_trailing_slash_keeps_everything(
        redis_client, app_server, admin, api, other_reader, pages) -> None:
    register_site(redis_client, SITE, [pages])
    policy(redis_client, app_server, "hold_links")
    register_site(redis_client, SITE, [pages], moderation="hold_links")
    bare = seed_thread(api, other_reader, f"{pages}/post", "The post", "bare")
    slash = seed_thread(other_reader, api, f"{pages}/post/", "The post", "slash")
    held = post(other_reader, bare["id"], "Held, see https://example.com")["comment"]
    like(other_reader, slash["id"])  # this reader likes both posts; the other reader only the second
    both = {"bare": shape(api, bare["id"]), "slash": shape(api, slash["id"])}

    dry = admin.post(f"{BASE}/merge", json={"from": f"{pages}/post", "into": f"{pages}/post/", "dry_run": True})
    assert dry.status_code == 200 and dry.json()["moved_comments"] == 6
    assert shape(api, bare["id"]) == both["bare"]

    r = admin.post(f"{BASE}/merge", json={"from": f"{pages}/post", "into": f"{pages}/post/"})
    assert r.status_code == 200, r.text
    assert r.json()["moved_comments"] == 6 and r.json()["into"]["count"] == 8
    merged = shape(api, slash["id"])
    # The target's comments first, as they were; then the others, with new ids, under their own parents.
    assert merged[:5] == both["slash"]
    old_to_new = {}
    for old, new in zip(both["bare"], merged[5:]):
        old_to_new[old[0]] = new[0]
        assert (new[2], new[3], new[4], new[5]) == (old[2], old[3], old[4], old[5])
        assert new[1] == (old_to_new[old[1]] if old[1] else None)
    # Reactions follow their comments to their new ids, and stay the reader's own.
    moved_reply = old_to_new[2]
    assert api.get(f"/api/threads/{slash['id']}/reactions").json() == {
        "reactions": {"2": {"😮": 1}, str(moved_reply): {"😮": 1}}, "mine": ["2|😮"]}
    # Likes of the post: each reader's once. The same reader liked both posts: counted once.
    assert open_page(other_reader, f"{pages}/post/")["thread"]["likes"] == 2
    assert thread_problems(redis_client, slash["id"]) == []
    # The held comment waits in the queue under its new place.
    queue = admin.get(f"{BASE}/comments", params={"list": "pending"}).json()["comments"]
    assert [c["tid"] for c in queue] == [slash["id"]] and "Held, see" in queue[0]["html"]
    # Its author still sees it as theirs, pending, at the id the queue names.
    [(held_id, status)] = [(c[0], c[2]) for c in shape(other_reader, slash["id"]) if c[3] == queue[0]["html"]]
    assert (queue[0]["id"], status) == (held_id, "pending") and held_id > max(c[0] for c in both["slash"])
    assert held["status"] == "pending"
    assert open_page(api, f"{pages}/post")["thread"]["id"] == slash["id"]

    assert error_of(admin.post(f"{BASE}/merge", json={"from": f"{pages}/post", "into": f"{pages}/post/"})
                    )["code"] == "same_thread"  # the first page leads to the second now
    assert error_of(admin.post(f"{BASE}/merge", json={"from": f"{pages}/nothing-here", "into": f"{pages}/post/"})
                    )["code"] == "thread_not_found"
    assert error_of(admin.post(f"{BASE}/merge", json={"from": 3, "into": f"{pages}/post/"}))["field"] == "from"


def test_only_the_sites_admins_move_its_threads(admin, other_admin, signed_in_reader, api, pages) -> None:
    body = {"rules": [{"from": "a", "to": "b"}]}
    assert other_admin.post(f"{BASE}/remap", json=body).status_code == 403
    assert signed_in_reader.post(f"{BASE}/remap", json=body).status_code in (401, 403)
    assert other_admin.post(f"{BASE}/merge", json={"from": "a", "into": "b"}).status_code == 403


def test_a_move_cut_short_after_the_copy_completes_when_run_again(redis_server, redis_client, app_server,
                                                                   admin, api, other_reader, pages) -> None:
    register_site(redis_client, SITE, [pages])
    src = seed_thread(api, other_reader, f"{pages}/cut/short", "Cut short", "cut")
    before = shape(api, src["id"])
    dst = keys.thread_id(SITE, f"{pages}/cut/whole")

    async def run() -> None:
        cluster = "cluster" in redis_server.url
        client = (aioredis.RedisCluster.from_url(redis_server.url.replace("+cluster", ""), decode_responses=True)
                  if cluster else aioredis.from_url(redis_server.url, decode_responses=True))
        try:
            store = MovingStore(client, events_maxlen=1000)
            # The copy went in, then the process died before the source became a pointer.
            record, taken = await store._read(src["id"])
            thread = {"site": SITE, "page": f"{pages}/cut/whole", "url": f"{pages}/cut/whole", "title": "Cut short",
                      "created": record["created"], "epoch": "e", "locked": "0", "from": src["id"]}
            await store._absorb(keys=[keys.thread_meta(dst), keys.comments(dst), keys.roots(dst), keys.events(dst),
                                      keys.like_counts(dst), keys.imported(dst), keys.subscribers(dst),
                                      keys.likers(dst)],
                                args=[keys.thread_prefix(dst), 1000, orjson.dumps(thread).decode(),
                                      orjson.dumps(taken).decode()])
        finally:
            # Every connection closed inside this loop: none is left for the garbage collector to find later.
            if cluster:
                await client.aclose()
            else:
                await client.aclose(close_connection_pool=True)
    asyncio.run(run())
    # Meanwhile the source got one more comment: it is still the thread of its page.
    post(api, src["id"], "cut: written before the move was run again")
    assert shape(api, src["id"])[:len(before)] == before
    result = remap(admin, [{"from": f"{pages}/cut/short", "to": f"{pages}/cut/whole"}], dry_run=False)
    assert [(t["action"], t["result"]) for t in result["threads"]] == [("move", "done")]
    after = shape(api, dst)
    assert [c[3] for c in after] == [c[3] for c in before] + ["<p>cut: written before the move was run again</p>"]
    assert thread_problems(redis_client, dst) == []
