"""Replies to a post's Bluesky post come into its thread, through the public AppView's XRPC queries."""

from __future__ import annotations

import time

import pytest

from ..support.api import all_comments
from .conftest import Bluesky, wait_for
from .test_mastodon import BASE, open_page, own_accounts, remote_comments


def conversation(bluesky: Bluesky) -> tuple[dict, dict, dict]:
    root = bluesky.post("owner.bsky.social", "New post on the blog", likes=12, reposts=3)
    first = bluesky.post("alice.bsky.social", "Great read, see example.com/lo…", display_name="Alice B.",
                         reply_to=root["uri"],
                         facets=[{"index": {"byteStart": 16, "byteEnd": 33},
                                  "features": [{"$type": "app.bsky.richtext.facet#link",
                                                "uri": "https://example.com/longer/path"}]}])
    second = bluesky.post("bob.bsky.social", "Thanks Alice", reply_to=first["uri"])
    return root, first, second


def test_replies_arrive_nested_with_author_source_and_counts(api, redis_client, bluesky) -> None:
    own_accounts(redis_client, "owner.bsky.social")
    root, first, second = conversation(bluesky)
    # The post's page on bsky.app, with the author's handle: resolved to a DID before the thread is asked for.
    thread = open_page(api, bluesky=root["url"])
    alice, bob = wait_for(lambda: len(remote_comments(api, thread["id"])) == 2 and remote_comments(api, thread["id"]),
                          what="two Bluesky replies")
    assert alice["parent"] is None and bob["parent"] == alice["id"]
    assert alice["author"]["name"] == "Alice B." and alice["author"]["provider"] == "bluesky"
    assert alice["author"]["profile"] == "https://bsky.app/profile/alice.bsky.social"
    assert alice["remote"]["via"] == "bluesky"
    assert alice["remote"]["url"] == f"https://bsky.app/profile/alice.bsky.social/post/{first['uri'].rsplit('/', 1)[1]}"
    # The link's full address, not the shortened text the post shows.
    assert 'href="https://example.com/longer/path"' in alice["html"]
    assert alice["author"]["avatar"].startswith("/api/avatars/u/")
    counts = wait_for(lambda: api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"], what="counts")
    assert counts["bluesky"]["likes"] == 12 and counts["bluesky"]["reposts"] == 3
    # The handle is resolved once; later looks ask for the thread by the DID they learnt.
    wait_for(lambda: sum(r["path"] == "/xrpc/app.bsky.feed.getPostThread" for r in bluesky.requests()) >= 3,
             what="three looks")
    paths = [r["path"] for r in bluesky.requests()]
    assert paths[0] == "/xrpc/com.atproto.identity.resolveHandle"
    assert paths.count("/xrpc/com.atproto.identity.resolveHandle") == 1


def test_deletions_are_confirmed_then_followed(api, redis_client, bluesky) -> None:
    own_accounts(redis_client, "owner.bsky.social")
    root, first, second = conversation(bluesky)
    thread = open_page(api, bluesky=root["uri"])  # an at:// URI works as well
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2, what="the replies")
    bluesky.delete(second["uri"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 1, what="the deletion")
    # A post gone from the thread's answer was asked for alone (getPosts) before it was taken away.
    assert any(r["path"] == "/xrpc/app.bsky.feed.getPosts" for r in bluesky.requests())
    bluesky.edit(first["uri"], handle="alice.bsky.social", text="Edited on Bluesky", facets=[])
    wait_for(lambda: "Edited on Bluesky" in remote_comments(api, thread["id"])[0]["html"], what="the edit")


def test_a_deleted_post_stops_its_counts_and_says_why(api, admin, redis_client, bluesky) -> None:
    own_accounts(redis_client, "owner.bsky.social")
    root, _, _ = conversation(bluesky)
    thread = open_page(api, bluesky=root["uri"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2, what="the replies")
    bluesky.delete(root["uri"])
    wait_for(lambda: admin.patch(f"{BASE}/threads/{thread['id']}", json={}).json()["thread"]["remote"]["bluesky"]
             ["error"] == "not_found", what="not_found")
    # What came in stays: the conversation happened, and an admin decides what to keep.
    assert len(remote_comments(api, thread["id"])) == 2
    wait_for(lambda: api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"] is None, what="no counts")


def test_a_strangers_post_is_not_followed(api, redis_client, bluesky) -> None:
    own_accounts(redis_client, "owner.bsky.social")
    spam = bluesky.post("mallory.bsky.social", "Buy followers")
    bluesky.post("bot.bsky.social", "Cheap pills", reply_to=spam["uri"])
    thread = open_page(api, bluesky=spam["uri"])
    wait_for(lambda: any(r["path"].endswith("getPostThread") for r in bluesky.requests()), what="the first look")
    time.sleep(2)
    assert sum(r["path"].endswith("getPostThread") for r in bluesky.requests()) == 1
    assert all_comments(api, thread["id"]) == []


def test_mastodon_and_bluesky_replies_share_one_thread(api, redis_client, bluesky, mastodon) -> None:
    own_accounts(redis_client, mastodon.profile("owner"), "owner.bsky.social")
    toot = mastodon.post("owner", "Post")
    mastodon.post("alice", "From the fediverse", in_reply_to_id=toot["id"])
    skeet = bluesky.post("owner.bsky.social", "Post")
    bluesky.post("carol.bsky.social", "From Bluesky", reply_to=skeet["uri"])
    thread = open_page(api, mastodon=toot["url"], bluesky=skeet["uri"])
    found = wait_for(lambda: len(remote_comments(api, thread["id"])) == 2 and remote_comments(api, thread["id"]),
                     what="both networks")
    assert sorted(c["remote"]["via"] for c in found) == ["bluesky", "mastodon"]
    counts = wait_for(lambda: (api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"] or {}).keys()
                      == {"mastodon", "bluesky"}, what="both counts")
    assert counts


@pytest.mark.parametrize("mode,category", [("wrong_shape", "garbage"), ("fail", "http_error"),
                                           ("rate_limited", "rate_limited")])
@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_a_misbehaving_appview_takes_nothing_down(api, admin, redis_client, bluesky, mode, category) -> None:
    own_accounts(redis_client, "owner.bsky.social")
    root, _, _ = conversation(bluesky)
    thread = open_page(api, bluesky=root["uri"])
    wait_for(lambda: len(remote_comments(api, thread["id"])) == 2, what="the replies")
    bluesky.mode(mode)
    wait_for(lambda: admin.patch(f"{BASE}/threads/{thread['id']}", json={}).json()["thread"]["remote"]["bluesky"]
             ["error"] == category, timeout=30, what=f"the {category} error")
    assert len(remote_comments(api, thread["id"])) == 2
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["remote"]["bluesky"]["likes"] == 12
