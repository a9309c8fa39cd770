"""Spam that used to slip past the rules: edits after approval, links the renderer made, duplicates
judged across readers, and trust borrowed with someone else's typed address."""

from __future__ import annotations

import httpx
import orjson
import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import error_of, post
from ..support.live import connect
from .conftest import make_session, policy
from .test_moderation import act, queue

FARM = " ".join(f"https://farm{i}.example/buy" for i in range(6))


def edit(client: httpx.Client, tid: str, created: dict, text: str, expect: int = 200) -> dict:
    r = client.patch(f"/api/threads/{tid}/comments/{created['comment']['id']}", json={"text": text},
                     headers={"X-Rejoinder-Edit-Token": created.get("edit_token", "")})
    assert r.status_code == expect, r.text
    return r.json()


async def test_an_approved_comment_edited_into_a_link_farm_goes_back_to_the_queue(
        redis_client, app_server, admin, api, other_reader, thread) -> None:
    policy(redis_client, app_server, "hold_all")
    tid = thread["id"]
    created = post(api, tid, "Nice post!")
    act(admin, tid, created["comment"]["id"], "approve")
    assert other_reader.get(f"/api/threads/{tid}").json()["thread"]["count"] == 1
    reader = await connect(app_server.ws_base, tid, origin=app_server.page_origin, since=0)
    await reader.until(lambda m: m["type"] == "ready")

    edited = edit(api, tid, created, f"Nice post! {FARM}")
    assert edited["comment"]["status"] == "pending" and edited["thread"]["count"] == 0  # its author sees it held
    seen = other_reader.get(f"/api/threads/{tid}").json()
    assert seen["comments"] == [] and seen["thread"]["count"] == 0
    hidden = await reader.until(lambda m: m["type"] == "comment.hidden")
    assert hidden == {"type": "comment.hidden", "seq": hidden["seq"], "id": created["comment"]["id"], "count": 0}
    await reader.close()
    assert [c["id"] for c in queue(admin, "pending") + queue(admin, "spam")] == [created["comment"]["id"]]


def test_an_edit_goes_through_the_same_rules_as_a_new_comment(redis_client, app_server, api, other_reader,
                                                             thread) -> None:
    tid = thread["id"]
    created = post(api, tid, "An honest opinion.")
    assert created["comment"]["status"] == "approved"
    edited = edit(api, tid, created, f"Actually: {FARM}")  # too many links: spam, which looks pending to them
    assert edited["comment"]["status"] == "pending"
    stored = orjson.loads(redis_client.hget(keys.comments(tid), str(created["comment"]["id"])))
    assert stored["status"] == "spam" and "too_many_links" in stored["spam_reasons"]
    assert other_reader.get(f"/api/threads/{tid}").json()["comments"] == []
    # Blocked words too.
    register_site(redis_client, SITE, [app_server.page_origin], blocklist=["casino"])
    second = post(api, tid, "Another honest opinion.")
    edit(api, tid, second, "Try the casino")
    assert other_reader.get(f"/api/threads/{tid}").json()["comments"] == []


def test_signed_in_readers_edit_within_the_window_too(redis_client, app_server, thread) -> None:
    token = make_session(redis_client, "x:5150", "Wendy Window", audience="reader", site=SITE)
    with httpx.Client(base_url=app_server.base, timeout=10, headers={"Authorization": f"Bearer {token}"}) as user:
        tid = thread["id"]
        created = post(user, tid, "Fresh words.")
        assert created["comment"]["editable_until"] is not None
        assert edit(user, tid, created, "Fresh words, fixed.")["comment"]["text"] == "Fresh words, fixed."
        # Two hours later (the window is 15 minutes): the text is fixed for good; deleting stays possible.
        key, cid = keys.comments(tid), str(created["comment"]["id"])
        doc = orjson.loads(redis_client.hget(key, cid))
        redis_client.hset(key, cid, orjson.dumps({**doc, "created": doc["created"] - 2 * 3600 * 1000}))
        r = user.patch(f"/api/threads/{tid}/comments/{cid}", json={"text": "rewritten weeks later"})
        assert r.status_code == 403 and error_of(r)["code"] == "edit_window_closed"
        assert user.delete(f"/api/threads/{tid}/comments/{cid}").status_code == 200


LINKS_A_RENDERER_MAKES = "evil.com/x and //evil.net and a@b.org and www.evil.org and evil.co.uk/y and evil.io evil.dev"


def test_links_are_counted_as_readers_click_them(redis_client, app_server, api, other_reader, thread) -> None:
    """Seven links with no http:// were published under hold_links with a limit of 3."""
    policy(redis_client, app_server, "hold_links")
    created = post(api, thread["id"], LINKS_A_RENDERER_MAKES)
    assert created["comment"]["html"].count("<a ") >= 4
    assert created["comment"]["status"] == "pending"
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["comments"] == []
    one = post(api, thread["id"], "see evil.com/x")  # one link the renderer made: held under hold_links
    assert one["comment"]["status"] == "pending"


@pytest.mark.parametrize("look_alike", ["аррӏе.com", "https://раураl.com/login", "gооgle.com/account"])
def test_look_alike_domain_names_show_as_punycode(api, thread, look_alike: str) -> None:
    host = look_alike.removeprefix("https://").split("/")[0]
    html = post(api, thread["id"], f"log in at {look_alike}")["comment"]["html"]
    assert f'{host.encode("idna").decode()}' in html.split('">', 1)[1]  # in the text readers see, not only the href
    assert not any(ord(ch) > 127 for ch in html)


def test_another_reader_may_say_the_same_thing(api, other_reader, thread) -> None:
    first = post(api, thread["id"], "Great post, thanks!")
    second = post(other_reader, thread["id"], "great post, thanks!")
    assert first["comment"]["status"] == second["comment"]["status"] == "approved"


def test_saying_the_same_thing_twice_is_refused_plainly(app_server, api, thread) -> None:
    post(api, thread["id"], "Great post, thanks!", email="ann@example.com")
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "Great post,  thanks!", "name": "Ann"})
    assert r.status_code == 409 and error_of(r) == {"code": "duplicate_comment", "message": "You already said that.",
                                                    "field": "text"}
    # The same address from another browser is the same author.
    with httpx.Client(base_url=app_server.base, timeout=10, headers={"X-Rejoinder-Client": "another-browser-0001"}) as c:
        r = c.post(f"/api/threads/{thread['id']}/comments",
                   json={"text": "Great post, thanks!", "name": "Ann", "email": "ann@example.com"})
        assert r.status_code == 409
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 1


def test_typing_a_known_guests_address_earns_no_trust_and_no_face(redis_client, app_server, admin, api,
                                                                 other_reader, thread) -> None:
    policy(redis_client, app_server, "hold_first_guests")
    tid = thread["id"]
    regular = post(api, tid, "My first comment here.", email="regular@example.com")
    act(admin, tid, regular["comment"]["id"], "approve")
    assert post(api, tid, "And my second.", email="regular@example.com")["comment"]["status"] == "approved"
    impostor = post(other_reader, tid, "Buy things!", name="Regular", email="regular@example.com")
    assert impostor["comment"]["status"] == "pending"
    assert impostor["comment"]["author"]["avatar"] != regular["comment"]["author"]["avatar"]
