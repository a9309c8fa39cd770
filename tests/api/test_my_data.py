"""A signed-in reader downloads what is held about them and deletes their account and comments, from
the comments frame; a session the blog page holds, another site's, or a guest can do neither."""

from __future__ import annotations

import httpx

from ..admin.conftest import make_session
from ..conftest import SITE, new_client_id
from ..support.api import error_of, post
from ..support.invariants import thread_problems

OTHER = "other-blog"


def as_reader(app_server, token: str) -> httpx.Client:
    return httpx.Client(base_url=app_server.base, timeout=10,
                        headers={"Authorization": f"Bearer {token}", "X-Rejoinder-Client": new_client_id()})


def test_a_reader_downloads_their_data_then_deletes_their_account_and_comments(
        app_server, redis_client, api, thread) -> None:
    token = make_session(redis_client, "github:777", "Rae Reader", audience="reader", site=SITE,
                         email="rae@example.com")
    tid = thread["id"]
    with as_reader(app_server, token) as rae:
        first = post(rae, tid, "Rae's first thought")["comment"]
        post(api, tid, "A reply to Rae", parent=first["id"])
        post(rae, tid, "Rae's second thought")
        other = post(api, tid, "Someone else's words")["comment"]
        assert rae.put(f"/api/threads/{tid}/comments/{other['id']}/like").status_code == 200
        assert rae.put(f"/api/threads/{tid}/comments/{other['id']}/reactions", params={"emoji": "👍"}).status_code == 200

        r = rae.get("/api/auth/me/data", params={"site": SITE})
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        data = r.json()
        assert data["account"]["name"] == "Rae Reader" and data["account"]["email"] == "rae@example.com"
        assert data["account"]["identity"] == "u:github:777"
        [t] = data["threads"]
        assert [c["text"] for c in t["comments"]] == ["Rae's first thought", "Rae's second thought"]
        assert "Someone else's words" not in r.text and "A reply to Rae" not in r.text
        assert data["likes"] == {tid: [str(other["id"])]} and data["reactions"] == {tid: [f"{other['id']}|👍"]}

        assert error_of(rae.request("DELETE", "/api/auth/me", params={"site": SITE}, json={}))["field"] == "confirm"
        r = rae.request("DELETE", "/api/auth/me", params={"site": SITE}, json={"confirm": True})
        assert r.status_code == 200, r.text
        assert r.json()["deleted"] == {"comments": 2, "placeholders": 1, "likes": 1, "sessions": 1}
        # Signed out everywhere, and the account is gone.
        assert error_of(rae.get("/api/auth/me", params={"site": SITE}))["code"] == "invalid_session"
    page = api.get(f"/api/threads/{tid}").json()
    texts = [c["html"] for c in page["comments"]]
    assert "<p>Rae's first thought</p>" not in texts and "<p>Rae's second thought</p>" not in texts
    assert [c["status"] for c in page["comments"]][0] == "deleted"  # a placeholder keeps the reply in place
    assert "<p>A reply to Rae</p>" in texts and page["comments"][-1]["likes"] == 0
    assert "Rae" not in str(redis_client.hvals(f"rj:{{t:{tid}}}:comments")).replace("A reply to Rae", "")
    assert thread_problems(redis_client, tid) == []


def test_only_the_readers_own_frame_session_of_the_site(app_server, redis_client, api) -> None:
    # A guest has no account to download or delete.
    assert error_of(api.get("/api/auth/me/data", params={"site": SITE}))["code"] == "auth_required"
    # A session the blog page holds (its scripts can read it) does neither.
    page_token = make_session(redis_client, "github:778", "Pat", audience="reader", site=SITE, kept="page")
    with as_reader(app_server, page_token) as pat:
        assert pat.get("/api/auth/me/data", params={"site": SITE}).status_code == 403
        assert pat.request("DELETE", "/api/auth/me", params={"site": SITE}, json={"confirm": True}).status_code == 403
    # Another site's session opens nothing here, and a blog page's scripts cannot use a session at all.
    other_token = make_session(redis_client, "github:779", "Ola", audience="reader", site=OTHER)
    with as_reader(app_server, other_token) as ola:
        assert error_of(ola.get("/api/auth/me/data", params={"site": SITE}))["code"] == "invalid_session"
    token = make_session(redis_client, "github:780", "Quin", audience="reader", site=SITE)
    with as_reader(app_server, token) as quin:
        r = quin.get("/api/auth/me/data", params={"site": SITE}, headers={"Origin": app_server.page_origin})
        assert error_of(r)["code"] == "origin_not_allowed"
