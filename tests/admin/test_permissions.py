"""Every admin endpoint: 401 without a session, 403 for a reader and for the admin of another site."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from ..conftest import SITE
from ..support.api import error_of, post
from .conftest import OTHER, ClientFactory

TID = "0" * 24
# (method, path, body): every route under /api/admin/sites/{site}.
SITE_ROUTES = [
    ("GET", "/api/admin/sites/{site}", None),
    ("PATCH", "/api/admin/sites/{site}", {"moderation": "hold_all"}),
    ("GET", "/api/admin/sites/{site}/comments", None),
    ("POST", "/api/admin/sites/{site}/comments/{tid}/1/approve", None),
    ("POST", "/api/admin/sites/{site}/bulk", {"action": "approve", "items": [{"tid": TID, "cid": 1}]}),
    ("PATCH", "/api/admin/sites/{site}/threads/{tid}", {"locked": True}),
    ("GET", "/api/admin/sites/{site}/bans", None),
    ("POST", "/api/admin/sites/{site}/bans", {"kind": "ip", "value": "a" * 24}),
    ("DELETE", "/api/admin/sites/{site}/bans/ip/" + "a" * 24, None),
    ("GET", "/api/admin/sites/{site}/webhook", None),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": "https://example.com/hook"}),
    ("DELETE", "/api/admin/sites/{site}/webhook", None),
    ("GET", "/api/admin/sites/{site}/export", None),
    ("POST", "/api/admin/sites/{site}/import", None),
]


def test_the_route_list_covers_every_admin_route() -> None:
    from rejoinder.api import admin, admin_porting, admin_webhook

    routes = [*admin.routes, *admin_webhook.routes, *admin_porting.routes]
    listed = {(m, p.split("{tid}")[0].split("/bans/")[0]) for m, p, _ in SITE_ROUTES}
    for route in routes:
        if route.path.startswith("/api/admin/sites/"):
            for method in route.methods - {"HEAD"}:
                assert any(m == method and route.path.startswith(prefix.rstrip("/")) for m, prefix in listed), \
                    (method, route.path)


def call(client: httpx.Client, method: str, path: str, body: dict | None, site: str, tid: str) -> httpx.Response:
    return client.request(method, path.format(site=site, tid=tid), json=body)


@pytest.mark.parametrize("method,path,body", SITE_ROUTES, ids=[f"{m} {p}" for m, p, _ in SITE_ROUTES])
def test_strangers_readers_and_other_admins_are_refused(
        clients: ClientFactory, signed_in_reader, other_admin, admin, thread, method, path, body) -> None:
    anonymous = clients()
    r = call(anonymous, method, path, body, SITE, thread["id"])
    assert r.status_code == 401 and error_of(r)["code"] == "auth_required"
    r = call(clients("not-a-session-token"), method, path, body, SITE, thread["id"])
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"
    # A reader's session (the comments frame's) never opens the admin API.
    r = call(signed_in_reader, method, path, body, SITE, thread["id"])
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session", r.text
    r = call(other_admin, method, path, body, SITE, thread["id"])
    assert r.status_code == 403 and error_of(r)["code"] == "not_site_admin", r.text
    # A site that does not exist looks the same as one you do not administer.
    r = call(admin, method, path, body, "no-such-site", thread["id"])
    assert r.status_code == 403 and error_of(r)["code"] == "not_site_admin"
    # From a page on another origin, even the right admin's token is refused.
    r = admin.request(method, path.format(site=SITE, tid=thread["id"]), json=body,
                      headers={"Origin": "http://127.0.0.1:9"})
    assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"


def test_an_admin_cannot_reach_another_sites_comments_through_their_own_site(
        redis_client, app_server, other_admin, api, thread) -> None:
    """The admin of OTHER names a demo thread under their own site: not found, nothing changes."""
    cid = post(api, thread["id"], "demo's comment")["comment"]["id"]
    base = f"/api/admin/sites/{OTHER}"
    r = other_admin.post(f"{base}/comments/{thread['id']}/{cid}/spam")
    assert r.status_code == 404 and error_of(r)["code"] == "thread_not_found"
    r = other_admin.post(f"{base}/bulk", json={"action": "delete", "items": [{"tid": thread["id"], "cid": cid}]})
    assert r.json()["results"][0]["error"]["code"] == "thread_not_found"
    r = other_admin.patch(f"{base}/threads/{thread['id']}", json={"locked": True})
    assert r.status_code == 404
    assert other_admin.get(f"{base}/comments", params={"list": "recent"}).json()["comments"] == []
    assert api.get(f"/api/threads/{thread['id']}").json()["comments"][0]["status"] == "approved"
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["locked"] is False


def test_me_needs_a_session(clients: ClientFactory) -> None:
    r = clients().get("/api/admin/me")
    assert r.status_code == 401 and error_of(r)["code"] == "auth_required"


async def test_admin_socket_is_refused_before_accepting(app_server, admin_token, signed_in_reader, other_admin) -> None:
    import websockets

    url = f"{app_server.ws_base}/api/admin/sites/{SITE}/live"
    origin = app_server.base
    reader_token = signed_in_reader.headers["Authorization"].split()[1]
    other_token = other_admin.headers["Authorization"].split()[1]
    for protocols, from_origin, status in [
        (["rejoinder.admin"], origin, 401),
        (["rejoinder.admin", "bearer.nonsense"], origin, 401),
        (["rejoinder.admin", "bearer." + reader_token], origin, 401),
        (["rejoinder.admin", "bearer." + other_token], origin, 403),
        (["rejoinder.admin", "bearer." + admin_token], app_server.page_origin, 403),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url, origin=from_origin, subprotocols=protocols, open_timeout=5)
        assert refused.value.response.status_code == status
    ws = await websockets.connect(url, origin=origin, subprotocols=["rejoinder.admin", "bearer." + admin_token],
                                  open_timeout=5)
    assert ws.subprotocol == "rejoinder.admin"
    await ws.close()


@pytest.mark.parametrize("method,path,body", [
    ("PATCH", "/api/admin/sites/{site}/threads/{tid}", {"pinned": 10 ** 30}),
    ("PATCH", "/api/admin/sites/{site}/threads/{tid}", {"pinned": "x"}),
    ("PATCH", "/api/admin/sites/{site}/threads/{tid}", [1, 2]),
    ("POST", "/api/admin/sites/{site}/bulk", {"action": "spam", "items": [{"tid": ["x"], "cid": 1.5}]}),
    ("POST", "/api/admin/sites/{site}/bulk", {"action": "spam", "items": [{"tid": "{tid}", "cid": 10 ** 30}]}),
    ("POST", "/api/admin/sites/{site}/comments/{tid}/99999999999999999999/approve", None),
    ("GET", "/api/admin/sites/{site}/comments?limit=abc", None),
    ("GET", "/api/admin/sites/{site}/comments?q=%00%01", None),
    ("PATCH", "/api/admin/sites/{site}", {"blocklist": [1, 2]}),
    ("PATCH", "/api/admin/sites/{site}", {"blocklist": ["x" * 500]}),
    ("POST", "/api/admin/sites/{site}/bans", {"kind": "email", "email": 5}),
    ("DELETE", "/api/admin/sites/{site}/bans/ip/%00", None),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": "javascript:alert(1)"}),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": "http://[::1"}),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": "http://example.com:99999/"}),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": ["https://example.com"]}),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": "https://exa\u0000mple.com/"}),
    ("PUT", "/api/admin/sites/{site}/webhook", {"url": "https://example.com/", "secret": "mine"}),
    ("PUT", "/api/admin/sites/{site}/webhook", [1]),
    ("GET", "/api/admin/sites/{site}/webhook?limit=0", None),
    ("GET", "/api/admin/sites/{site}/export?format=pdf", None),
    ("POST", "/api/admin/sites/{site}/import?format=zip", None),
    ("POST", "/api/admin/sites/{site}/import?threads=title", None),
    ("POST", "/api/admin/sites/{site}/import", {"not": "xml"}),
])
def test_odd_input_from_an_admin_is_refused_never_a_crash(admin, thread, method, path, body) -> None:
    url = path.format(site=SITE, tid=thread["id"])
    if isinstance(body, dict) and "items" in body:
        body = {**body, "items": [{k: (thread["id"] if v == "{tid}" else v) for k, v in i.items()}
                                  for i in body["items"]]}
    r = admin.request(method, url, json=body)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/json")
    if r.status_code >= 400:
        assert error_of(r)["code"]
