"""Threads by page, paging through big threads, comment counts, and the OpenAPI document."""

from __future__ import annotations

import concurrent.futures
import re

import httpx
import pytest

from rejoinder.pages import page_key

from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import all_comments, error_of, post


@pytest.mark.parametrize("given,key", [
    ("HTTPS://Blog.Example:443/Post?utm_source=x&b=2#comments", "https://blog.example/Post?b=2"),
    ("http://blog.example:80/a/?fbclid=123", "http://blog.example/a/"),
    ("http://blog.example:8080/a", "http://blog.example:8080/a"),
    ("https://blog.example", "https://blog.example/"),
    ("my-post-42", "my-post-42"),
])
def test_page_urls_are_normalised(given: str, key: str) -> None:
    assert page_key(given) == key


def test_same_page_under_different_urls_is_one_thread(api: httpx.Client) -> None:
    a = api.get("/api/threads", params={"site": SITE, "page": "https://blog.example/p?utm_medium=mail#x"}).json()
    b = api.get("/api/threads", params={"site": SITE, "page": "HTTPS://BLOG.EXAMPLE:443/p"}).json()
    assert a["thread"]["id"] == b["thread"]["id"]


def test_thread_title_is_stored_and_changes_from_its_page_once_a_day(api: httpx.Client, redis_client) -> None:
    params = {"site": SITE, "page": "post-7", "title": "First title"}
    tid = api.get("/api/threads", params=params).json()["thread"]["id"]
    assert api.get(f"/api/threads/{tid}").json()["thread"]["title"] == "First title"
    api.get("/api/threads", params={**params, "title": "Better title"})
    assert api.get(f"/api/threads/{tid}").json()["thread"]["title"] == "First title"  # not within the day
    redis_client.delete(keys.retitled(tid))  # a day later
    api.get("/api/threads", params={**params, "title": "Better title"})
    assert api.get(f"/api/threads/{tid}").json()["thread"]["title"] == "Better title"
    api.get("/api/threads", params={**params, "title": "Third title"})
    assert api.get(f"/api/threads/{tid}").json()["thread"]["title"] == "Better title"
    api.get("/api/threads", params={"site": SITE, "page": "post-7"})  # no title: keep it
    assert api.get(f"/api/threads/{tid}").json()["thread"]["title"] == "Better title"


def test_big_thread_is_paged_and_complete(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    roots = [post(api, tid, f"root {i}")["comment"]["id"] for i in range(7)]
    replies = [post(api, tid, f"reply {i}", parent=roots[0])["comment"]["id"] for i in range(5)]
    first = api.get(f"/api/threads/{tid}", params={"limit": 3}).json()
    assert [c["id"] for c in first["comments"] if c["parent"] is None] == roots[:3]
    assert first["next"]
    seen = all_comments(api, tid, limit=3)
    assert sorted(c["id"] for c in seen) == sorted(roots + replies)
    assert len(seen) == len({c["id"] for c in seen})


def test_many_replies_are_paged_under_their_root(app_server, redis_server, api: httpx.Client, thread: dict) -> None:
    from ..support.servers import AppServer
    small = AppServer(redis_server.url, env={"REJOINDER_INLINE_REPLIES": "4"}).start()
    try:
        with httpx.Client(base_url=small.base, headers=dict(api.headers)) as client:
            tid = thread["id"]
            root = post(client, tid, "root")["comment"]["id"]
            replies = [post(client, tid, f"r{i}", parent=root)["comment"]["id"] for i in range(10)]
            body = client.get(f"/api/threads/{tid}").json()
            assert [c["id"] for c in body["comments"]] == [root] + replies[:4]
            assert body["replies"][str(root)]["left"] == 6
            everything = all_comments(client, tid)
            assert [c["id"] for c in everything] == [root] + replies
    finally:
        small.stop()


def test_paging_is_stable_while_comments_are_added(api: httpx.Client, other_reader: httpx.Client, thread: dict) -> None:
    """A reader paging oldest-first while others post sees every comment once, none skipped."""
    tid = thread["id"]
    existing = [post(api, tid, f"old {i}")["comment"]["id"] for i in range(20)]
    seen: list[int] = []
    body = api.get(f"/api/threads/{tid}", params={"limit": 4}).json()
    added: list[int] = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        while True:
            seen.extend(c["id"] for c in body["comments"])
            # Between every page, two new comments land at the end and one reply at the top.
            futures = [pool.submit(post, other_reader, tid) for _ in range(2)]  # each a text of its own
            futures.append(pool.submit(post, other_reader, tid, parent=existing[0]))
            added.extend(f.result()["comment"]["id"] for f in futures[:2])
            if not body["next"]:
                break
            body = api.get(f"/api/threads/{tid}", params={"limit": 4, "cursor": body["next"]}).json()
    roots_seen = [i for i in seen if i in set(existing) | set(added)]
    assert len(roots_seen) == len(set(roots_seen)), "a comment was shown twice"
    assert set(existing) <= set(roots_seen), "a comment was skipped"


def test_newest_first_paging_is_stable(api: httpx.Client, thread: dict) -> None:
    tid = thread["id"]
    ids = [post(api, tid, f"c{i}")["comment"]["id"] for i in range(9)]
    page = api.get(f"/api/threads/{tid}", params={"limit": 4, "order": "newest"}).json()
    post(api, tid, "lands on top, not in the next page")
    page2 = api.get(f"/api/threads/{tid}", params={"limit": 4, "order": "newest", "cursor": page["next"]}).json()
    assert [c["id"] for c in page["comments"] + page2["comments"]] == ids[::-1][:8]


def test_best_first_puts_the_most_liked_first_with_replies_under_their_parents(
        api: httpx.Client, other_reader: httpx.Client, thread: dict, redis_client) -> None:
    tid = thread["id"]
    ids = [post(api, tid, f"root {i}")["comment"]["id"] for i in range(7)]
    reply = post(other_reader, tid, "a reply to root 5", name="Bo", parent=ids[5])["comment"]
    likes = {ids[5]: 3, ids[2]: 1, ids[6]: 1}
    for cid, n in likes.items():
        for i in range(n):
            with httpx.Client(base_url=str(api.base_url), headers={"X-Rejoinder-Client": f"liker-{cid}-{i}-0000000"}) as c:
                assert c.put(f"/api/threads/{tid}/comments/{cid}/like").status_code == 200
    # Liking the reply does not lift its parent: a top-level comment ranks by its own likes.
    with httpx.Client(base_url=str(api.base_url), headers={"X-Rejoinder-Client": "reply-liker-00000000"}) as c:
        assert c.put(f"/api/threads/{tid}/comments/{reply['id']}/like").status_code == 200
    best = [ids[5], ids[2], ids[6], ids[0], ids[1], ids[3], ids[4]]
    page = api.get(f"/api/threads/{tid}", params={"limit": 3, "order": "best"}).json()
    assert [c["id"] for c in page["comments"]] == [ids[5], reply["id"], ids[2], ids[6]]
    assert page["next"] == "b3"
    seen = [c["id"] for c in page["comments"] if c["parent"] is None]
    while page["next"]:
        page = api.get(f"/api/threads/{tid}", params={"limit": 3, "order": "best", "cursor": page["next"]}).json()
        seen += [c["id"] for c in page["comments"] if c["parent"] is None]
    assert seen == best
    # A pinned comment leads the first page, and is counted in no page after it.
    redis_client.hset(keys.thread_meta(tid), "pinned", ids[4])
    first = api.get(f"/api/threads/{tid}", params={"limit": 3, "order": "best"}).json()
    assert [c["id"] for c in first["comments"] if c["parent"] is None] == [ids[4], ids[5], ids[2], ids[6]]
    second = api.get(f"/api/threads/{tid}", params={"limit": 3, "order": "best", "cursor": first["next"]}).json()
    assert [c["id"] for c in second["comments"]] == [ids[0], ids[1], ids[3]] and second["next"] is None
    assert error_of(api.get(f"/api/threads/{tid}", params={"order": "best", "cursor": "o3"}))["code"] == "invalid_cursor"
    assert error_of(api.get(f"/api/threads/{tid}", params={"order": "hot"}))["code"] == "invalid_field"


def test_counts_batch(api: httpx.Client, app_server) -> None:
    pages = [f"https://blog.example/p{i}" for i in range(5)]
    for i, page in enumerate(pages[:3]):
        tid = api.get("/api/threads", params={"site": SITE, "page": page}).json()["thread"]["id"]
        for n in range(i + 1):
            post(api, tid, f"comment {n} on page {i}")
    r = api.get("/api/counts", params=[("site", SITE), *[("page", p) for p in pages]],
                headers={"Origin": app_server.page_origin})
    assert r.json()["counts"] == {pages[0]: 1, pages[1]: 2, pages[2]: 3, pages[3]: 0, pages[4]: 0}
    assert r.headers["access-control-allow-origin"] == app_server.page_origin
    r = api.post("/api/counts", json={"site": SITE, "pages": [pages[1] + "?utm_source=x", "never-seen"]})
    assert r.json()["counts"] == {pages[1] + "?utm_source=x": 2, "never-seen": 0}


def test_counts_batch_is_capped_at_100(api: httpx.Client) -> None:
    r = api.post("/api/counts", json={"site": SITE, "pages": [f"p{i}" for i in range(101)]})
    assert r.status_code == 422 and error_of(r)["field"] == "pages"
    assert len(api.post("/api/counts", json={"site": SITE, "pages": [f"p{i}" for i in range(100)]}).json()["counts"]) == 100


def test_openapi_document_matches_the_routes(api: httpx.Client, app_server) -> None:
    from rejoinder.app import create_app
    from rejoinder.settings import Settings
    from starlette.routing import Route

    app = create_app(Settings())
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/") and route.name != "api:missing":
            for method in route.methods or ():
                if method != "HEAD":
                    served.add((route.path, method.lower()))
    doc = api.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == served
    for path, ops in doc["paths"].items():
        for op in ops.values():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == set(re.findall(r"{(\w+)}", path)), path


def test_avatar_is_an_svg_without_script(api: httpx.Client, thread: dict) -> None:
    avatar = post(api, thread["id"], email="someone@example.com")["comment"]["author"]["avatar"]
    r = api.get(avatar)
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert "script" not in r.text and "default-src 'none'" in r.headers["content-security-policy"]
    assert "someone" not in avatar
    assert api.get("/api/avatars/../../etc.svg").status_code == 404


def test_frame_carries_a_strict_csp(api: httpx.Client, app_server) -> None:
    r = api.get("/frame", params={"site": SITE})
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert f"frame-ancestors {app_server.page_origin}" in csp
    assert api.get("/frame", params={"site": "nope"}).status_code == 404


def test_every_response_has_security_headers(api: httpx.Client, thread: dict) -> None:
    for path in (f"/api/threads/{thread['id']}", "/api/nothing", "/frame?site=demo"):
        r = api.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"]
    assert api.get(f"/api/threads/{thread['id']}").headers["cache-control"] == "no-store"
