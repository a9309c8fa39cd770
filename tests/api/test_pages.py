"""Pages opened at random fill nothing, and a stranger's request cannot rename a thread or plant a link.

Before: every GET of a new page stored a thread record for good, with no limit; any GET with title= rewrote
the title (it goes into mail and exports); whoever opened a page first chose its URL."""

from __future__ import annotations

import secrets

import httpx

from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import in_one_window, post
from ..support.servers import AppServer


def open_page(api: httpx.Client, page: str, **params: str) -> httpx.Response:
    return api.get("/api/threads", params={"site": SITE, "page": page, **params})


def test_a_page_only_read_leaves_a_record_that_expires_and_a_comment_keeps_it(api, redis_client) -> None:
    tid = open_page(api, "https://blog.example/read-only", title="Read only").json()["thread"]["id"]
    assert 0 < redis_client.ttl(keys.thread_meta(tid)) <= 24 * 3600
    post(api, tid, "now it is a conversation")
    assert redis_client.ttl(keys.thread_meta(tid)) == -1
    liked = open_page(api, "https://blog.example/liked").json()["thread"]["id"]
    api.put(f"/api/threads/{liked}/like")
    assert redis_client.ttl(keys.thread_meta(liked)) == -1


def test_opening_pages_at_random_is_limited(redis_server, redis_client) -> None:
    server = AppServer(redis_server.url, env={"REJOINDER_RATE_IP_THREADS": "30"}).start()
    try:
        with httpx.Client(base_url=server.base, timeout=10) as c:
            in_one_window()
            statuses = [open_page(c, f"https://blog.example/{secrets.token_hex(6)}").status_code for _ in range(35)]
            assert statuses[:30] == [200] * 30 and set(statuses[30:]) == {429}
            made = len(list(redis_client.scan_iter(match="rj:{t:*}:meta")))
            assert made == 30
            # Pages already there still open.
            known = [k for k in redis_client.scan_iter(match="rj:{t:*}:meta")][0]
            page = redis_client.hget(known, "page")
            assert open_page(c, page).status_code == 200
    finally:
        server.stop()


def test_a_strangers_request_cannot_rename_a_thread(api, other_reader, redis_client) -> None:
    tid = open_page(api, "https://blog.example/named", title="The real title").json()["thread"]["id"]
    seen = open_page(other_reader, "https://blog.example/named", title="URGENT: verify your account").json()
    assert seen["thread"]["title"] == "The real title"
    assert redis_client.hget(keys.thread_meta(tid), "title") == "The real title"


def test_the_first_visitor_cannot_plant_a_link_to_elsewhere(api, redis_client) -> None:
    tid = open_page(api, "my-post-id", url="https://evil.example/phish").json()["thread"]["id"]
    assert redis_client.hget(keys.thread_meta(tid), "url") == ""
    ok = open_page(api, "my-other-post", url="https://blog.example/2026/my-other-post").json()["thread"]["id"]
    assert redis_client.hget(keys.thread_meta(ok), "url") == "https://blog.example/2026/my-other-post"


def test_sign_in_starts_are_limited(redis_server, redis_client) -> None:
    from ..support.login import FROM_FRAME, secret_pair
    from ..support.oauth_provider import app_env

    server = AppServer(redis_server.url, env={**app_env("http://127.0.0.1:9"), "REJOINDER_RATE_IP_LOGINS": "20"}).start()
    try:
        # Counted in one window with nothing before it (earlier tests signed in from this address too).
        in_one_window()
        for key in list(redis_client.scan_iter(match=keys.rate(SITE, "login:ip", "*", "*"))):  # type: ignore[arg-type]
            redis_client.delete(key)
        statuses = [httpx.get(f"{server.base}/auth/github/start", params={"site": SITE, "h": secret_pair()[1]},
                              headers=FROM_FRAME).status_code for _ in range(22)]
        assert statuses[:20] == [302] * 20 and statuses[20:] == [429, 429]
    finally:
        server.stop()
