"""Replies to a post's Mastodon status come into its thread: nested as they were, with their authors
and a link to the original, edited and deleted as at the source, through the site's rules, and never at
the cost of anything local when the remote server misbehaves."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest
import redis as redis_sync

from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import all_comments, error_of, post
from .conftest import Mastodon, wait_for

BASE = f"/api/admin/sites/{SITE}"
PAGE = "https://blog.example/remote-post"


def own_accounts(redis_client: redis_sync.Redis, *accounts: str) -> None:
    """The site names its own accounts, as `PATCH /api/admin/sites/{site}` stores them."""
    redis_client.hset(keys.site(SITE), "remote_authors", orjson.dumps(list(accounts)).decode())


def open_page(api: httpx.Client, page: str = PAGE, **params: str) -> dict:
    r = api.get("/api/threads", params={"site": SITE, "page": page, "title": "A post", **params})
    assert r.status_code == 200, r.text
    return r.json()["thread"]


def remote_comments(api: httpx.Client, tid: str) -> list[dict]:
    return [c for c in all_comments(api, tid) if c.get("remote")]


def conversation(mastodon: Mastodon) -> tuple[dict, dict, dict]:
    """The owner's status, a reply to it, and a reply to that reply."""
    root = mastodon.post("owner", "New post on the blog", favourites=7, reblogs=2)
    first = mastodon.post("alice", "Loved this, especially the part about caching.", mention="owner",
                          in_reply_to_id=root["id"], display_name="Alice A.")
    second = mastodon.post("bob", "Agreed with Alice.", mention="alice", in_reply_to_id=first["id"])
    return root, first, second


def test_replies_arrive_nested_with_author_source_and_counts(api, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    root, first, second = conversation(mastodon)
    thread = open_page(api, mastodon=root["url"])
    found = wait_for(lambda: len(remote_comments(api, thread["id"])) == 2 and remote_comments(api, thread["id"]),
                     what="two Mastodon replies")
    alice, bob = found
    assert alice["parent"] is None and bob["parent"] == alice["id"]
    assert alice["author"]["name"] == "Alice A." and alice["author"]["provider"] == "mastodon"
    assert alice["author"]["profile"] == mastodon.profile("alice")
    assert alice["remote"] == {"via": "mastodon", "url": first["url"]}
    # The mention it opens with is the thread's to show, not the text's; the text is the reply's own.
    assert "Loved this, especially the part about caching." in alice["html"] and "@owner" not in alice["html"]
    # The picture was copied here: a reader's browser never asks the Mastodon server.
    assert alice["author"]["avatar"].startswith("/api/avatars/u/")
    assert api.get(alice["author"]["avatar"]).headers["content-type"] == "image/png"
    shown = wait_for(lambda: api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"],
                     what="the post's counts")
    assert shown["mastodon"] == {"likes": 7, "boosts": 2, "replies": 1, "url": root["url"]}
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 2


def test_edits_and_deletions_at_the_source_follow(api, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    root, first, second = conversation(mastodon)
    thread = open_page(api, mastodon=root["url"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2, what="the replies")
    mastodon.edit(first["id"], content="Edited: the part about caching was the best.")
    mastodon.delete(second["id"])
    mastodon.edit(root["id"], favourites=9)
    wait_for(lambda: any("Edited: the part" in c["html"] for c in remote_comments(api, thread["id"])),
             what="the edit")
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 1, what="the deletion")
    [left] = remote_comments(api, thread["id"])
    assert left["edited"] is not None
    wait_for(lambda: api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"]["mastodon"]["likes"] == 9,
             what="the new like count")
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 1


def test_a_page_cannot_bring_in_a_strangers_conversation(api, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    spam = mastodon.post("mallory", "Buy followers")
    mastodon.post("bot", "Cheap pills here", in_reply_to_id=spam["id"])
    thread = open_page(api, mastodon=spam["url"])
    wait_for(lambda: len(mastodon.requests()) >= 2, what="the first look")
    time.sleep(2)  # four more chances to poll: a refused post is not looked at again
    assert len(mastodon.requests()) == 2
    assert all_comments(api, thread["id"]) == []
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"] is None


def test_without_accounts_of_its_own_a_site_follows_nothing_a_page_names(api, mastodon) -> None:
    root, _, _ = conversation(mastodon)
    thread = open_page(api, mastodon=root["url"])
    time.sleep(1.5)
    assert mastodon.requests() == [] and all_comments(api, thread["id"]) == []


@pytest.mark.parametrize("value", ["javascript:alert(1)", "https://mastodon.example/about", "not a url",
                                   "https://u:p@mastodon.example/@a/1", "x" * 600])
def test_a_post_that_is_not_a_status_is_refused_plainly(api, value) -> None:
    r = api.get("/api/threads", params={"site": SITE, "page": PAGE, "mastodon": value})
    assert r.status_code == 422 and error_of(r)["field"] == "mastodon", r.text


def test_an_admin_follows_any_post_and_hides_a_reply_for_good(api, admin, redis_client, mastodon) -> None:
    root, first, second = conversation(mastodon)  # the site names no accounts: only an admin can link
    thread = open_page(api)
    r = admin.patch(f"{BASE}/threads/{thread['id']}", json={"mastodon": root["url"]})
    assert r.status_code == 200, r.text
    assert r.json()["thread"]["remote"]["mastodon"]["by"] == "admin"
    alice, bob = wait_for(lambda: len(remote_comments(api, thread["id"])) == 2 and remote_comments(api, thread["id"]),
                          what="the replies")
    r = admin.post(f"{BASE}/comments/{thread['id']}/{bob['id']}/reject")
    assert r.status_code == 200, r.text
    mastodon.post("carol", "A third voice", in_reply_to_id=root["id"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2
             and any("third voice" in c["html"] for c in remote_comments(api, thread["id"])), what="Carol's reply")
    # Bob's reply was looked at again with Carol's and stays hidden.
    assert [c["id"] for c in remote_comments(api, thread["id"]) if "Agreed" in c["html"]] == []
    # A page cannot take an admin's link away or change it.
    other = mastodon.post("owner", "Another post")
    open_page(api, mastodon=other["url"])
    assert redis_client.hget(keys.thread_meta(thread["id"]), "mastodon") == root["url"]
    # Null stops following it.
    r = admin.patch(f"{BASE}/threads/{thread['id']}", json={"mastodon": None})
    assert r.status_code == 200 and r.json()["thread"]["remote"] == {}


def test_remote_replies_pass_the_sites_rules(api, admin, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    r = admin.patch(BASE, json={"moderation": "hold_all", "blocklist": ["casino"]})
    assert r.status_code == 200, r.text
    root = mastodon.post("owner", "Post")
    mastodon.post("alice", "A thoughtful reply", in_reply_to_id=root["id"])
    mastodon.post("spammer", "Best casino bonus", in_reply_to_id=root["id"])
    thread = open_page(api, mastodon=root["url"])
    held = wait_for(lambda: [c for c in admin.get(f"{BASE}/comments", params={"list": "pending"}).json()["comments"]
                             if c["tid"] == thread["id"]], what="the held reply")
    assert [c["author"]["name"] for c in held] == ["alice"] and held[0]["author"]["kind"] == "remote"
    spam = wait_for(lambda: admin.get(f"{BASE}/comments", params={"list": "spam"}).json()["comments"], what="spam")
    assert spam[0]["reasons"][0] == "blocked_word" and spam[0]["author"]["name"] == "spammer"
    assert all_comments(api, thread["id"]) == []  # neither is public


def test_a_banned_remote_account_goes_to_spam(api, admin, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    root = mastodon.post("owner", "Post")
    mastodon.post("troll", "First troll", in_reply_to_id=root["id"])
    thread = open_page(api, mastodon=root["url"])
    [first] = wait_for(lambda: remote_comments(api, thread["id"]), what="the troll's reply")
    identity = admin.get(f"{BASE}/comments", params={"list": "recent"}).json()["comments"][0]["identity"]
    r = admin.post(f"{BASE}/bans", json={"kind": "identity", "value": identity})
    assert r.status_code in (200, 201), r.text
    mastodon.post("troll", "Second troll", in_reply_to_id=root["id"])
    wait_for(lambda: admin.get(f"{BASE}/comments", params={"list": "spam"}).json()["comments"], what="the ban")
    assert [c["id"] for c in remote_comments(api, thread["id"])] == [first["id"]]


@pytest.mark.parametrize("mode,category", [("garbage", "garbage"), ("fail", "http_error"), ("huge", "too_large"),
                                           ("wrong_shape", "garbage"), ("slow", "timeout")])
@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_a_misbehaving_server_takes_nothing_down(api, admin, redis_client, mastodon, mode, category) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    root, _, _ = conversation(mastodon)
    thread = open_page(api, mastodon=root["url"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2, what="the replies")
    mastodon.mode(mode)
    wait_for(lambda: admin.patch(f"{BASE}/threads/{thread['id']}", json={}).json()["thread"]["remote"]["mastodon"]
             ["error"] == category, timeout=30, what=f"the {category} error")
    # The thread keeps what it had, its readers read and write as before, and the counts stay.
    assert len(remote_comments(api, thread["id"])) == 2
    assert post(api, thread["id"], "Still here")["comment"]["status"] == "approved"
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"]["mastodon"]["likes"] == 7
    mastodon.mode("ok")
    mastodon.post("carol", "Back again", in_reply_to_id=root["id"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 3, timeout=30, what="the reply after recovery")


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_the_servers_rate_limit_is_kept(api, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    root, _, _ = conversation(mastodon)
    # Three requests in a window of 20 s: the first look spends two and leaves one, which is kept back.
    mastodon.mode("ok", limit=3, window=20)
    thread = open_page(api, mastodon=root["url"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2, what="the first look")
    asked = len(mastodon.requests())
    time.sleep(3)  # six polls' worth at the tests' half-second pace
    assert len(mastodon.requests()) == asked == 2


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_a_429_is_waited_out(api, redis_client, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"))
    root, _, _ = conversation(mastodon)
    mastodon.mode("rate_limited", limit=0, window=30)
    open_page(api, mastodon=root["url"])
    wait_for(lambda: mastodon.requests(), what="the first try")
    time.sleep(3)
    assert len(mastodon.requests()) == 1
