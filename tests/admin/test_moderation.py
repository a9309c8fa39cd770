"""The moderation API through real HTTP: queues, every action, bulk, lock, pin, bans, policy, search."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import all_comments, error_of, post
from ..support.invariants import thread_problems
from .conftest import policy

BASE = f"/api/admin/sites/{SITE}"


def act(admin: httpx.Client, tid: str, cid: int, action: str, expect: int = 200) -> dict:
    r = admin.post(f"{BASE}/comments/{tid}/{cid}/{action}")
    assert r.status_code == expect, r.text
    return r.json()


def queue(admin: httpx.Client, name: str = "pending", **params) -> list[dict]:
    r = admin.get(f"{BASE}/comments", params={"list": name, **params})
    assert r.status_code == 200, r.text
    return r.json()["comments"]


def shown(reader: httpx.Client, tid: str) -> list[str]:
    return [c["html"] for c in all_comments(reader, tid) if c["status"] == "approved"]


def stored(redis_client, tid: str, cid: int) -> dict:
    return orjson.loads(redis_client.hget(keys.comments(tid), str(cid)))


def test_held_comment_waits_in_the_queue_and_approval_publishes_it(
        redis_client, app_server, admin, api, other_reader, thread) -> None:
    policy(redis_client, app_server, "hold_all")
    held = post(api, thread["id"], "Please let me in", email="ann@example.com")["comment"]
    assert held["status"] == "pending" and shown(other_reader, thread["id"]) == []
    [row] = queue(admin)
    assert (row["tid"], row["id"], row["status"], row["html"]) == (thread["id"], held["id"], "pending",
                                                                  "<p>Please let me in</p>")
    assert row["thread"]["title"] == "Post one" and row["author"]["name"] == "Ann"
    # Admins see a keyed hash of the address, never the address.
    assert "ann@example.com" not in admin.get(f"{BASE}/comments").text and len(row["email_hash"]) == 24
    assert admin.get(BASE).json()["counts"] == {"pending": 1, "spam": 0, "reported": 0}

    done = act(admin, thread["id"], held["id"], "approve")
    assert done["changed"] is True and done["comment"]["status"] == "approved"
    assert shown(other_reader, thread["id"]) == ["<p>Please let me in</p>"]
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 1
    assert queue(admin) == []
    # Again: nothing changes, and no second event is logged.
    seq = redis_client.hget(keys.thread_meta(thread["id"]), "seq")
    assert act(admin, thread["id"], held["id"], "approve")["changed"] is False
    assert redis_client.hget(keys.thread_meta(thread["id"]), "seq") == seq
    assert thread_problems(redis_client, thread["id"]) == []


def test_spam_and_reject_hide_a_published_comment_but_its_author_sees_it_pending(
        redis_client, admin, api, other_reader, thread) -> None:
    first = post(api, thread["id"], "Buy my thing")["comment"]
    second = post(api, thread["id"], "Off topic")["comment"]
    assert len(shown(other_reader, thread["id"])) == 2
    act(admin, thread["id"], first["id"], "spam")
    act(admin, thread["id"], second["id"], "reject")
    assert shown(other_reader, thread["id"]) == []
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 0
    mine = api.get(f"/api/threads/{thread['id']}/comments/{first['id']}").json()["comment"]
    assert mine["status"] == "pending"  # never "spam": a spammer is not told
    assert api.get(f"/api/threads/{thread['id']}/comments/{second['id']}").json()["comment"]["status"] == "pending"
    assert other_reader.get(f"/api/threads/{thread['id']}/comments/{first['id']}").status_code == 404
    assert [c["id"] for c in queue(admin, "spam")] == [first["id"]]
    assert {c["status"] for c in queue(admin, "recent")} == {"spam", "rejected"}
    # Not spam after all: back for everyone.
    act(admin, thread["id"], first["id"], "ham")
    assert shown(other_reader, thread["id"]) == ["<p>Buy my thing</p>"]
    assert queue(admin, "spam") == []
    assert thread_problems(redis_client, thread["id"]) == []


def test_delete_keeps_replies_in_place_and_restore_brings_the_text_back(
        redis_client, admin, api, other_reader, thread) -> None:
    root = post(api, thread["id"], "The root")["comment"]
    reply = post(other_reader, thread["id"], "A reply", parent=root["id"])["comment"]
    lone = post(api, thread["id"], "Alone")["comment"]
    act(admin, thread["id"], root["id"], "delete")
    act(admin, thread["id"], lone["id"], "delete")
    view = {c["id"]: c for c in all_comments(other_reader, thread["id"])}
    assert view[root["id"]]["status"] == "deleted" and view[root["id"]]["html"] == ""
    assert view[reply["id"]]["html"] == "<p>A reply</p>" and lone["id"] not in view
    assert thread_problems(redis_client, thread["id"]) == []
    # Deleting the reply too leaves nothing: the placeholder root goes with it.
    act(admin, thread["id"], reply["id"], "delete")
    assert all_comments(other_reader, thread["id"]) == []
    assert act(admin, thread["id"], reply["id"], "delete")["changed"] is False
    assert error_of(admin.post(f"{BASE}/comments/{thread['id']}/{reply['id']}/approve"))["code"] == "comment_deleted"

    # The admin can undo: the reply comes back under its root's placeholder, text intact.
    restored = act(admin, thread["id"], reply["id"], "restore")["comment"]
    assert restored["status"] == "approved" and restored["html"] == "<p>A reply</p>"
    view = {c["id"]: c for c in all_comments(other_reader, thread["id"])}
    assert view[root["id"]]["status"] == "deleted" and view[reply["id"]]["html"] == "<p>A reply</p>"
    act(admin, thread["id"], root["id"], "restore")
    act(admin, thread["id"], lone["id"], "restore")
    assert sorted(shown(other_reader, thread["id"])) == ["<p>A reply</p>", "<p>Alone</p>", "<p>The root</p>"]
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 3
    assert thread_problems(redis_client, thread["id"]) == []
    r = admin.post(f"{BASE}/comments/{thread['id']}/{lone['id']}/restore")
    assert r.status_code == 409 and error_of(r)["code"] == "not_deleted"


def test_a_comment_its_author_deleted_cannot_be_restored(admin, api, thread) -> None:
    created = post(api, thread["id"], "Regretted", name="Bo")
    cid = created["comment"]["id"]
    r = api.delete(f"/api/threads/{thread['id']}/comments/{cid}",
                   headers={"X-Rejoinder-Edit-Token": created["edit_token"]})
    assert r.status_code == 200
    r = admin.post(f"{BASE}/comments/{thread['id']}/{cid}/restore")
    assert r.status_code == 409 and error_of(r)["code"] == "nothing_to_restore"


def test_unknown_action_comment_and_thread_are_refused(admin, thread) -> None:
    assert error_of(admin.post(f"{BASE}/comments/{thread['id']}/1/bless"))["code"] == "not_found"
    assert error_of(admin.post(f"{BASE}/comments/{thread['id']}/99/approve"))["code"] == "comment_not_found"
    assert error_of(admin.post(f"{BASE}/comments/{'0' * 24}/1/approve"))["code"] == "thread_not_found"
    assert error_of(admin.post(f"{BASE}/comments/not-a-thread/1/approve"))["code"] == "thread_not_found"


def test_bulk_actions_report_each_item(redis_client, app_server, admin, api, other_reader, thread) -> None:
    policy(redis_client, app_server, "hold_all")
    ids = [post(api, thread["id"], f"held number {i}")["comment"]["id"] for i in range(3)]
    r = admin.post(f"{BASE}/bulk", json={"action": "approve", "items": [
        {"tid": thread["id"], "cid": ids[0]}, {"tid": thread["id"], "cid": ids[1]},
        {"tid": thread["id"], "cid": 999}, {"tid": "f" * 24, "cid": 1}]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, True, False, False]
    assert [x.get("error", {}).get("code") for x in results[2:]] == ["comment_not_found", "thread_not_found"]
    assert sorted(shown(other_reader, thread["id"])) == ["<p>held number 0</p>", "<p>held number 1</p>"]
    assert [c["id"] for c in queue(admin)] == [ids[2]]
    for body, field in [({"action": "approve", "items": []}, "items"),
                        ({"action": "bless", "items": [{"tid": thread["id"], "cid": 1}]}, "action"),
                        ({"action": "spam", "items": [{"tid": thread["id"], "cid": 1}] * 101}, "items"),
                        ({"action": "spam", "items": ["x"]}, "items")]:
        r = admin.post(f"{BASE}/bulk", json=body)
        assert r.status_code == 422 and error_of(r)["field"] == field
    assert thread_problems(redis_client, thread["id"]) == []


def test_lock_refuses_new_comments_until_unlocked(admin, api, thread) -> None:
    r = admin.patch(f"{BASE}/threads/{thread['id']}", json={"locked": True})
    assert r.status_code == 200 and r.json()["thread"]["locked"] is True
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["locked"] is True
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "let me in", "name": "Ann"})
    assert r.status_code == 403 and error_of(r)["code"] == "thread_locked"
    admin.patch(f"{BASE}/threads/{thread['id']}", json={"locked": False})
    post(api, thread["id"], "open again")
    r = admin.patch(f"{BASE}/threads/{thread['id']}", json={"locked": "yes"})
    assert r.status_code == 422 and error_of(r)["field"] == "locked"


def test_pinned_comment_leads_the_thread(redis_client, admin, api, other_reader, thread) -> None:
    ids = [post(api, thread["id"], f"comment {i}")["comment"]["id"] for i in range(4)]
    reply = post(api, thread["id"], "a reply", parent=ids[0])["comment"]
    r = admin.patch(f"{BASE}/threads/{thread['id']}", json={"pinned": ids[2]})
    assert r.status_code == 200 and r.json()["thread"]["pinned"] == ids[2]
    page = other_reader.get(f"/api/threads/{thread['id']}").json()
    assert page["thread"]["pinned"] == ids[2]
    assert [c["id"] for c in page["comments"] if c["parent"] is None] == [ids[2], ids[0], ids[1], ids[3]]
    # Paged, it is shown once, first.
    seen = []
    body = other_reader.get(f"/api/threads/{thread['id']}", params={"limit": 1}).json()
    while True:
        seen += [c["id"] for c in body["comments"] if c["parent"] is None]
        if not body["next"]:
            break
        body = other_reader.get(f"/api/threads/{thread['id']}", params={"limit": 1, "cursor": body["next"]}).json()
    assert seen == [ids[2], ids[0], ids[1], ids[3]]
    for target in (reply["id"],):
        r = admin.patch(f"{BASE}/threads/{thread['id']}", json={"pinned": target})
        assert r.status_code == 409 and error_of(r)["code"] == "pin_not_allowed"
    # A pinned comment marked spam is no longer pinned.
    act(admin, thread["id"], ids[2], "spam")
    page = other_reader.get(f"/api/threads/{thread['id']}").json()
    assert page["thread"]["pinned"] is None and ids[2] not in [c["id"] for c in page["comments"]]
    admin.patch(f"{BASE}/threads/{thread['id']}", json={"pinned": ids[3]})
    admin.patch(f"{BASE}/threads/{thread['id']}", json={"pinned": None})
    assert [c["id"] for c in other_reader.get(f"/api/threads/{thread['id']}").json()["comments"]
            if c["parent"] is None] == [ids[0], ids[1], ids[3]]


def test_policy_and_blocklist_editor(admin, api, thread) -> None:
    r = admin.patch(BASE, json={"moderation": "hold_links", "blocklist": ["Cheap Pills", " ", "casino"]})
    assert r.status_code == 200, r.text
    assert r.json()["site"]["moderation"] == "hold_links"
    assert r.json()["site"]["blocklist"] == ["Cheap Pills", "casino"]
    assert post(api, thread["id"], "see https://a.example")["comment"]["status"] == "pending"
    assert post(api, thread["id"], "no link here")["comment"]["status"] == "approved"
    blocked = post(api, thread["id"], "buy cheap pills now")["comment"]
    assert [c["id"] for c in queue(admin, "spam")] == [blocked["id"]]
    for body, field in [({"moderation": "everything"}, "moderation"), ({"blocklist": "casino"}, "blocklist"),
                        ({"colour": "red"}, "colour")]:
        r = admin.patch(BASE, json=body)
        assert r.status_code == 422 and error_of(r)["field"] == field
    assert admin.get(BASE).json()["site"]["moderation"] == "hold_links"


@pytest.mark.parametrize("kind", ["identity", "email", "ip"])
def test_banned_commenters_go_to_spam_silently(redis_client, admin, api, other_reader, thread, kind) -> None:
    first = post(api, thread["id"], "I was fine", email="troll@example.com")["comment"]
    [row] = queue(admin, "recent")
    if kind == "email":
        ban = {"kind": "email", "email": "Troll@Example.com", "note": "abusive"}
    else:
        ban = {"kind": kind, "value": row["identity"] if kind == "identity" else row["ip_hash"]}
    r = admin.post(f"{BASE}/bans", json=ban)
    assert r.status_code == 201, r.text
    value = r.json()["ban"]["value"]
    assert kind != "email" or value == row["email_hash"]
    again = post(api, thread["id"], "I am back", email="troll@example.com")["comment"]
    assert again["status"] == "pending"  # to them it looks held, nothing more
    assert stored(redis_client, thread["id"], again["id"])["status"] == "spam"
    assert shown(other_reader, thread["id"]) == ["<p>I was fine</p>"]  # earlier comments stay
    assert [c["id"] for c in queue(admin, "spam")] == [again["id"]]
    assert queue(admin, "spam")[0]["reasons"] == ["banned"]
    bans = admin.get(f"{BASE}/bans").json()["bans"]
    assert [(b["kind"], b["value"]) for b in bans] == [(kind, value)]
    if kind != "ip":  # everyone here shares 127.0.0.1
        assert post(other_reader, thread["id"], "unrelated")["comment"]["status"] == "approved"
    r = admin.delete(f"{BASE}/bans/{kind}/{value}")
    assert r.status_code == 200
    assert post(api, thread["id"], "forgiven", email="troll@example.com")["comment"]["status"] == "approved"
    assert admin.delete(f"{BASE}/bans/{kind}/{value}").status_code == 404
    assert first["status"] == "approved"


def test_bad_bans_are_refused(admin) -> None:
    for body, field in [({"kind": "face"}, "kind"), ({"kind": "ip", "value": "1.2.3.4"}, "value"),
                        ({"kind": "identity", "value": "root"}, "value"), ({"kind": "email", "email": "nope"}, "email")]:
        r = admin.post(f"{BASE}/bans", json=body)
        assert r.status_code == 422 and error_of(r)["field"] == field, r.text
    assert admin.get(f"{BASE}/bans").json()["bans"] == []


def test_search_by_text_and_author(admin, api, other_reader, thread) -> None:
    post(api, thread["id"], "Tomatoes grow well in pots", name="Gardener Gil")
    post(other_reader, thread["id"], "Potatoes prefer the ground", name="Farmer Fay")
    post(other_reader, thread["id"], "I like pots of tea", name="Farmer Fay")
    assert [c["author"]["name"] for c in queue(admin, "recent", q="POTS")] == ["Farmer Fay", "Gardener Gil"]
    by_fay = queue(admin, "recent", author="fay")
    assert [c["html"] for c in by_fay] == ["<p>I like pots of tea</p>", "<p>Potatoes prefer the ground</p>"]
    # "More by this commenter": their identity key matches exactly.
    assert len(queue(admin, "recent", author=by_fay[0]["identity"])) == 2
    assert queue(admin, "recent", q="pots", author="fay")[0]["html"] == "<p>I like pots of tea</p>"
    assert queue(admin, "recent", q="nothing like this") == []


def test_lists_page_newest_first_and_drop_stale_pointers(redis_client, app_server, admin, api, thread) -> None:
    policy(redis_client, app_server, "hold_all")
    made = [post(api, thread["id"], f"held {i}") for i in range(5)]
    ids = [m["comment"]["id"] for m in made]
    page1 = admin.get(f"{BASE}/comments", params={"list": "pending", "limit": 2}).json()
    page2 = admin.get(f"{BASE}/comments", params={"list": "pending", "limit": 2, "cursor": page1["next"]}).json()
    page3 = admin.get(f"{BASE}/comments", params={"list": "pending", "limit": 2, "cursor": page2["next"]}).json()
    assert [c["id"] for c in page1["comments"] + page2["comments"] + page3["comments"]] == ids[::-1]
    assert page3["next"] is None
    # The author withdraws one: its pointer is stale, dropped when next read.
    r = api.delete(f"/api/threads/{thread['id']}/comments/{ids[0]}",
                   headers={"X-Rejoinder-Edit-Token": made[0]["edit_token"]})
    assert r.status_code == 200
    assert [c["id"] for c in queue(admin)] == ids[:0:-1]
    assert redis_client.zcard(keys.mod_list(SITE, "pending")) == 4
    for cursor in ("x", "9" * 40 + "~" + thread["id"] + ":1", "1~nothread:1"):
        assert error_of(admin.get(f"{BASE}/comments", params={"cursor": cursor}))["code"] == "invalid_cursor"
    assert error_of(admin.get(f"{BASE}/comments", params={"list": "all"}))["field"] == "list"


def test_approving_a_first_time_guest_trusts_them_next_time(redis_client, app_server, admin, api, thread) -> None:
    policy(redis_client, app_server, "hold_first_guests")
    held = post(api, thread["id"], "first words", email="new@example.com")["comment"]
    assert held["status"] == "pending"
    act(admin, thread["id"], held["id"], "approve")
    assert post(api, thread["id"], "second words", email="new@example.com")["comment"]["status"] == "approved"


def test_me_lists_the_sites_an_admin_has(admin, other_admin, signed_in_reader) -> None:
    me = admin.get("/api/admin/me").json()
    assert me["me"]["identity"] == "u:github:1001" and me["sites"] == [{"id": SITE, "name": "Demo"}]
    assert other_admin.get("/api/admin/me").json()["sites"] == [{"id": "other-blog", "name": "Other-Blog"}]
    assert signed_in_reader.get("/api/admin/me").status_code == 401  # a reader's session is not the dashboard's
