"""The routes this stop added, tried from where an attacker stands: a hostile page (another origin), a
session of another blog, a reader's session on admin routes, another site's admin."""

from __future__ import annotations

import httpx

from ..conftest import SITE
from ..support.api import error_of, post
from .conftest import OTHER, make_session

EVIL = "https://evil.example"


def test_a_hostile_page_cannot_report_react_type_or_read_reactions_and_nothing_is_stored(
        redis_client, api, thread) -> None:
    tid = thread["id"]
    cid = post(api, tid, "A comment")["comment"]["id"]
    before = sorted(redis_client.keys("rj:*"))
    attempts = [
        ("POST", f"/api/threads/{tid}/comments/{cid}/report", {"reason": "spam"}),
        ("PUT", f"/api/threads/{tid}/comments/{cid}/reactions?emoji=%F0%9F%91%8D", None),
        ("POST", f"/api/threads/{tid}/typing", None),
        ("GET", f"/api/threads/{tid}/reactions", None),
    ]
    for method, path, body in attempts:
        r = api.request(method, path, json=body, headers={"Origin": EVIL})
        assert (r.status_code, error_of(r)["code"]) == (403, "origin_not_allowed"), path
    assert sorted(redis_client.keys("rj:*")) == before


def test_another_blogs_session_opens_none_of_them(app_server, redis_client, api, thread, other_site) -> None:
    tid = thread["id"]
    cid = post(api, tid, "A comment")["comment"]["id"]
    token = make_session(redis_client, "github:4242", "Other Reader", audience="reader", site=OTHER)
    with httpx.Client(base_url=app_server.base, headers={"Authorization": f"Bearer {token}"}) as stolen:
        for method, path, body in [("POST", f"/api/threads/{tid}/comments/{cid}/report", {"reason": "spam"}),
                                   ("PUT", f"/api/threads/{tid}/comments/{cid}/reactions?emoji=%F0%9F%91%8D", None),
                                   ("DELETE", f"/api/auth/me?site={SITE}", {"confirm": True})]:
            r = stolen.request(method, path, json=body)
            assert (r.status_code, error_of(r)["code"]) == (401, "invalid_session"), path


def test_admin_routes_refuse_readers_and_other_sites_admins(admin, other_admin, signed_in_reader) -> None:
    base = f"/api/admin/sites/{SITE}"
    routes = [("GET", "/overview", None), ("GET", "/sso", None), ("PUT", "/sso", None), ("DELETE", "/sso", None),
              ("POST", "/remap", {"rules": [{"from": "a", "to": "b"}]}), ("POST", "/merge", {"from": "a", "into": "b"})]
    for method, path, body in routes:
        assert other_admin.request(method, base + path, json=body).status_code == 403, path
        assert signed_in_reader.request(method, base + path, json=body).status_code in (401, 403), path
    # And the site's own admin gets the secret once, never again.
    secret = admin.put(base + "/sso").json()["sso"]["secret"]
    assert secret and secret not in admin.get(base + "/sso").text
