"""Posting, replying, listing, editing, deleting and liking comments through the HTTP API."""

from __future__ import annotations

import time

import httpx

from ..conftest import SITE
from ..support.api import all_comments, error_of, post


def test_guest_comment_is_stored_and_listed(api: httpx.Client, thread: dict) -> None:
    created = post(api, thread["id"], "Hello **there**", name="Ann", website="ann.example")
    comment = created["comment"]
    assert comment["html"] == "<p>Hello <strong>there</strong></p>"
    assert comment["author"]["name"] == "Ann"
    assert comment["author"]["website"] == "https://ann.example"
    assert comment["author"]["avatar"].startswith("/api/avatars/")
    assert created["thread"]["count"] == 1
    assert created["edit_token"]

    listed = api.get(f"/api/threads/{thread['id']}").json()
    assert listed["thread"]["count"] == 1
    assert listed["thread"]["title"] == "Post one"
    assert [c["id"] for c in listed["comments"]] == [comment["id"]]


def test_replies_nest_under_their_parents(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    root = post(api, tid, "root")["comment"]
    reply = post(api, tid, "reply", parent=root["id"])["comment"]
    nested = post(api, tid, "reply to reply", parent=reply["id"])["comment"]
    other_root = post(api, tid, "second root")["comment"]
    assert (reply["parent"], reply["depth"]) == (root["id"], 1)
    assert (nested["parent"], nested["depth"]) == (reply["id"], 2)

    listed = api.get(f"/api/threads/{tid}").json()["comments"]
    # Each top-level comment is followed by its own replies.
    assert [c["id"] for c in listed] == [root["id"], reply["id"], nested["id"], other_root["id"]]
    assert listed[0]["parent"] is None and listed[3]["parent"] is None


def test_replies_past_the_depth_cap_attach_to_deepest_allowed_ancestor(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    chain = [post(api, tid, "level 0")["comment"]]
    for depth in range(1, 6):  # the default cap is 5
        chain.append(post(api, tid, f"level {depth}", parent=chain[-1]["id"])["comment"])
    assert chain[-1]["depth"] == 5
    too_deep = post(api, tid, "level 6?", parent=chain[-1]["id"])["comment"]
    assert too_deep["depth"] == 5
    assert too_deep["parent"] == chain[4]["id"]
    assert too_deep["reply_to"] == chain[5]["id"]


def test_newest_first_order_is_offered(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    ids = [post(api, tid, f"c{i}")["comment"]["id"] for i in range(3)]
    newest = api.get(f"/api/threads/{tid}", params={"order": "newest"}).json()["comments"]
    assert [c["id"] for c in newest] == ids[::-1]


def test_email_is_never_sent_back_not_even_to_its_author(api: httpx.Client, other_reader: httpx.Client,
                                                          thread: dict) -> None:
    """A guest is known by an id that the blog page may hold for the frame: that page's
    scripts must not read the address the guest typed through it."""
    tid = thread["id"]
    created = post(api, tid, "mail me", email="ann@example.com")
    assert created["comment"]["mine"] is True and "ann@example.com" not in str(created)
    assert "ann@example.com" not in api.get(f"/api/threads/{tid}").text
    assert "ann@example.com" not in other_reader.get(f"/api/threads/{tid}").text
    assert "ann@example.com" not in other_reader.get(f"/api/threads/{tid}/comments/{created['comment']['id']}").text
    assert "ann@example.com" not in httpx.get(f"{api.base_url}/api/threads/{tid}").text
    assert "ann@example.com" not in other_reader.get("/api/threads", params={"site": SITE, "page": "https://blog.example/post-1"}).text


def test_guest_edits_and_deletes_with_edit_token(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    created = post(api, tid, "first version")
    cid, token = created["comment"]["id"], created["edit_token"]
    r = api.patch(f"/api/threads/{tid}/comments/{cid}", json={"text": "second _version_"},
                  headers={"X-Rejoinder-Edit-Token": token})
    assert r.status_code == 200, r.text
    assert r.json()["comment"]["html"] == "<p>second <em>version</em></p>"
    assert r.json()["comment"]["edited"]
    r = api.delete(f"/api/threads/{tid}/comments/{cid}", headers={"X-Rejoinder-Edit-Token": token})
    assert r.status_code == 200
    listed = api.get(f"/api/threads/{tid}").json()
    assert listed["comments"] == [] and listed["thread"]["count"] == 0


def test_edit_with_wrong_token_is_refused_and_changes_nothing(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    cid = post(api, tid, "original")["comment"]["id"]
    r = api.patch(f"/api/threads/{tid}/comments/{cid}", json={"text": "hijacked"},
                  headers={"X-Rejoinder-Edit-Token": "not-the-token"})
    assert r.status_code == 403 and error_of(r)["code"] == "not_your_comment"
    r = api.delete(f"/api/threads/{tid}/comments/{cid}")
    assert r.status_code == 403 and error_of(r)["code"] == "not_your_comment"
    assert api.get(f"/api/threads/{tid}/comments/{cid}").json()["comment"]["html"] == "<p>original</p>"


def test_deleted_comment_with_replies_stays_as_placeholder(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    created = post(api, tid, "parent to delete", email="p@example.com")
    cid, token = created["comment"]["id"], created["edit_token"]
    reply = post(api, tid, "a reply", parent=cid)["comment"]
    assert api.delete(f"/api/threads/{tid}/comments/{cid}", headers={"X-Rejoinder-Edit-Token": token}).status_code == 200
    listed = api.get(f"/api/threads/{tid}").json()
    placeholder, kept = listed["comments"]
    assert placeholder == {**placeholder, "id": cid, "status": "deleted", "html": "", "author": None}
    assert kept["id"] == reply["id"] and kept["parent"] == cid
    assert listed["thread"]["count"] == 1
    # Nothing can be done to a deleted comment.
    r = api.patch(f"/api/threads/{tid}/comments/{cid}", json={"text": "x"}, headers={"X-Rejoinder-Edit-Token": token})
    assert r.status_code == 409 and error_of(r)["code"] == "comment_deleted"
    r = api.post(f"/api/threads/{tid}/comments", json={"text": "x", "name": "B", "parent": cid})
    assert r.status_code == 409 and error_of(r)["code"] == "comment_deleted"


def test_placeholder_goes_when_its_last_reply_is_deleted(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    parent = post(api, tid, "parent")
    reply = post(api, tid, "reply", parent=parent["comment"]["id"])
    for created in (parent, reply):
        r = api.delete(f"/api/threads/{tid}/comments/{created['comment']['id']}",
                       headers={"X-Rejoinder-Edit-Token": created["edit_token"]})
        assert r.status_code == 200
    assert api.get(f"/api/threads/{tid}").json()["comments"] == []


def test_guest_edit_window_expires(app_server, redis_client, api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    created = post(api, tid, "edit me later")
    cid = created["comment"]["id"]
    # Age the stored comment past the 15-minute window rather than waiting.
    from rejoinder.store import keys
    import orjson
    doc = orjson.loads(redis_client.hget(keys.comments(tid), str(cid)))
    doc["created"] -= 16 * 60 * 1000
    redis_client.hset(keys.comments(tid), str(cid), orjson.dumps(doc))
    r = api.patch(f"/api/threads/{tid}/comments/{cid}", json={"text": "too late"},
                  headers={"X-Rejoinder-Edit-Token": created["edit_token"]})
    assert r.status_code == 403 and error_of(r)["code"] == "edit_window_closed"
    r = api.delete(f"/api/threads/{tid}/comments/{cid}", headers={"X-Rejoinder-Edit-Token": created["edit_token"]})
    assert r.status_code == 403 and error_of(r)["code"] == "edit_window_closed"


def test_likes_count_once_per_reader(api: httpx.Client, other_reader: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    cid = post(api, tid, "likeable")["comment"]["id"]
    for _ in range(2):
        r = api.put(f"/api/threads/{tid}/comments/{cid}/like")
        assert r.json() == {"target": str(cid), "likes": 1, "liked": True}
    assert other_reader.put(f"/api/threads/{tid}/comments/{cid}/like").json()["likes"] == 2
    mine = api.get(f"/api/threads/{tid}").json()["comments"][0]
    assert (mine["likes"], mine["liked"]) == (2, True)
    assert api.delete(f"/api/threads/{tid}/comments/{cid}/like").json() == {"target": str(cid), "likes": 1, "liked": False}
    assert api.delete(f"/api/threads/{tid}/comments/{cid}/like").json()["likes"] == 1
    theirs = other_reader.get(f"/api/threads/{tid}").json()["comments"][0]
    assert (theirs["likes"], theirs["liked"]) == (1, True)


def test_post_likes(api: httpx.Client, other_reader: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    assert api.put(f"/api/threads/{tid}/like").json()["likes"] == 1
    assert api.put(f"/api/threads/{tid}/like").json()["likes"] == 1
    assert other_reader.put(f"/api/threads/{tid}/like").json()["likes"] == 2
    assert api.get(f"/api/threads/{tid}").json()["thread"]["likes"] == 2


def test_likes_need_an_identity(app_server, thread: dict) -> None:
    r = httpx.put(f"{app_server.base}/api/threads/{thread['id']}/like")
    assert r.status_code == 422 and error_of(r)["field"] == "X-Rejoinder-Client"


def test_idempotent_retry_returns_first_comment(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    headers = {"Idempotency-Key": "retry-123"}
    first = api.post(f"/api/threads/{tid}/comments", json={"text": "only once", "name": "Ann"}, headers=headers)
    again = api.post(f"/api/threads/{tid}/comments", json={"text": "only once", "name": "Ann"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["comment"]["id"] == first.json()["comment"]["id"]
    assert api.get(f"/api/threads/{tid}").json()["thread"]["count"] == 1
    other = api.post(f"/api/threads/{tid}/comments", json={"text": "something else", "name": "Ann"}, headers=headers)
    assert other.status_code == 409 and error_of(other)["code"] == "idempotency_conflict"


def test_pending_comments_are_listed_only_to_their_author(redis_client, api: httpx.Client,
                                                          other_reader: httpx.Client, thread: dict) -> None:
    from ..conftest import register_site
    register_site(redis_client, SITE, ["http://127.0.0.1:9"], moderation="hold_all")
    created = post(api, thread["id"], "please approve me")
    assert created["comment"]["status"] == "pending"
    assert created["thread"]["count"] == 0
    mine = api.get(f"/api/threads/{thread['id']}").json()["comments"]
    assert [c["status"] for c in mine] == ["pending"]
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["comments"] == []
    r = other_reader.get(f"/api/threads/{thread['id']}/comments/{created['comment']['id']}")
    assert r.status_code == 404


def test_created_times_are_iso_utc(api: httpx.Client, thread: dict) -> None:
    before = time.time()
    created = post(api, thread["id"])["comment"]["created"]
    assert created.endswith("Z")
    from datetime import datetime
    stamp = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    assert before - 1 <= stamp <= time.time() + 1


def test_thread_says_whether_this_reader_liked_the_post(api, other_reader, thread) -> None:
    api.put(f"/api/threads/{thread['id']}/like")
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["liked"] is True
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["thread"]["liked"] is False
    opened = api.get("/api/threads", params={"site": SITE, "page": "https://blog.example/post-1"}).json()
    assert opened["thread"]["liked"] is True and opened["site"]["id"] == SITE
