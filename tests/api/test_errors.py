"""Every refusal is a JSON error with a stable code and a fitting status, and changes nothing."""

from __future__ import annotations

import re

import httpx
import pytest

from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import error_of, post
from ..support.cli import WORKER_STATE
from ..support.servers import SCRAPE

RATE_COUNTER = re.compile(r"^rj:\{s:[^}]+\}:rl:")


def snapshot(redis_client) -> dict[str, object]:
    """Everything stored except rate-limit counters (a refused write still counts as an
    attempt) and the mail/webhook worker's own state (its lease, cursors, outbox and
    batches: it follows earlier, accepted writes in the background, at its own pace)."""
    out: dict[str, object] = {}
    for key in sorted(redis_client.keys("*")):
        if RATE_COUNTER.search(key) or WORKER_STATE.search(key):
            continue
        kind = redis_client.type(key)
        if kind == "hash":
            out[key] = redis_client.hgetall(key)
        elif kind == "set":
            out[key] = sorted(redis_client.smembers(key))
        elif kind == "zset":
            out[key] = redis_client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            out[key] = redis_client.xrange(key)
        else:
            out[key] = redis_client.get(key)
    return out


@pytest.fixture
def before(redis_client, api: httpx.Client, thread: dict):
    post(api, thread["id"], "an existing comment")
    return snapshot(redis_client)


@pytest.mark.parametrize("body,ctype,status,code", [
    (b"{not json", "application/json", 400, "malformed_json"),
    (b"[1, 2]", "application/json", 400, "malformed_json"),
    (b"text=hello", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'{"text": "hi", "name": "A"}', "text/plain", 415, "unsupported_media_type"),
    (b'{"name": "A"}', "application/json", 422, "comment_empty"),
    (b'{"text": "   ", "name": "A"}', "application/json", 422, "comment_empty"),
    (b'{"text": 5, "name": "A"}', "application/json", 422, "invalid_field"),
    (b'{"text": "hi"}', "application/json", 422, "missing_field"),
    (b'{"text": "hi", "name": "A", "email": "not-an-email"}', "application/json", 422, "invalid_email"),
    (b'{"text": "hi", "name": "A", "website": "javascript:alert(1)"}', "application/json", 422, "invalid_url"),
    (b'{"text": "hi", "name": "A", "parent": "1"}', "application/json", 422, "invalid_field"),
    (b'{"text": "hi", "name": "A", "parent": 999}', "application/json", 404, "parent_not_found"),
])
def test_bad_comment_is_refused_and_nothing_changes(redis_client, api, thread, before, body, ctype, status, code) -> None:
    r = api.post(f"/api/threads/{thread['id']}/comments", content=body, headers={"content-type": ctype})
    assert r.status_code == status, r.text
    assert error_of(r)["code"] == code
    assert snapshot(redis_client) == before


def test_invalid_field_names_the_field(api, thread) -> None:
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "hi", "name": "A", "email": "nope"})
    assert error_of(r) == {"code": "invalid_email", "message": "This email address is not valid.", "field": "email"}


def test_too_long_comment(redis_client, api, thread, before) -> None:
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "x" * 10_001, "name": "A"})
    assert r.status_code == 422 and error_of(r)["code"] == "comment_too_long"
    assert snapshot(redis_client) == before


def test_body_over_limit_is_413(redis_client, api, thread, before) -> None:
    r = api.post(f"/api/threads/{thread['id']}/comments", content=b'{"text": "' + b"x" * 70_000 + b'"}',
                 headers={"content-type": "application/json"})
    assert r.status_code == 413 and error_of(r)["code"] == "body_too_large"
    assert snapshot(redis_client) == before


def test_chunked_body_over_limit_is_413(redis_client, api, thread, before) -> None:
    def chunks():
        yield b'{"text": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}'
    r = api.post(f"/api/threads/{thread['id']}/comments", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and error_of(r)["code"] == "body_too_large"
    assert snapshot(redis_client) == before


@pytest.mark.parametrize("path", [
    "/api/threads/0123456789abcdef01234567",
    "/api/threads/not-a-thread-id",
    "/api/threads/0123456789abcdef01234567/comments/1",
])
def test_unknown_thread_is_404(api, path) -> None:
    r = api.get(path)
    assert r.status_code == 404 and error_of(r)["code"] == "thread_not_found"


def test_unknown_comment_is_404(api, thread) -> None:
    for cid in ("12345", "abc", "-1"):
        r = api.get(f"/api/threads/{thread['id']}/comments/{cid}")
        assert r.status_code == 404 and error_of(r)["code"] == "comment_not_found"


def test_unknown_site_is_404(api, redis_client) -> None:
    before = snapshot(redis_client)
    for site in ("nosuchsite", "UPPER", "../etc", ""):
        r = api.get("/api/threads", params={"site": site, "page": "p"})
        assert r.status_code == 404 and error_of(r)["code"] == "site_not_found"
    assert snapshot(redis_client) == before


def test_unknown_route_and_method(api) -> None:
    r = api.get("/api/nothing-here")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = api.post("/api/counts/x")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = api.put("/api/openapi.json")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, HEAD"


def test_a_405_names_the_methods_the_path_takes(api, thread) -> None:
    r = api.post(f"/api/threads/{thread['id']}")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    r = api.put(f"/api/threads/{thread['id']}/comments/1")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, HEAD, PATCH"


def test_foreign_origin_is_refused(redis_client, api, thread, before) -> None:
    evil = {"Origin": "https://evil.example"}
    r = api.get("/api/threads", params={"site": SITE, "page": "https://blog.example/post-1"}, headers=evil)
    assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "x", "name": "A"}, headers=evil)
    assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"
    r = api.put(f"/api/threads/{thread['id']}/like", headers=evil)
    assert r.status_code == 403
    assert snapshot(redis_client) == before


def test_registered_origin_and_own_origin_are_allowed(app_server, api, thread) -> None:
    for origin in (app_server.page_origin, app_server.base):
        r = api.get(f"/api/threads/{thread['id']}", headers={"Origin": origin})
        assert r.status_code == 200


def test_cors_only_for_registered_origins(app_server, api) -> None:
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    r = api.options("/api/counts", headers={"Origin": app_server.page_origin, **pre})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == app_server.page_origin
    r = api.options("/api/counts", headers={"Origin": "https://evil.example", **pre})
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers
    r = api.get("/api/counts", params={"site": SITE, "page": "p"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def _count(api, method: str, status: int) -> float:
    """This server's count of `method` requests answered `status` before routing."""
    line = f'rejoinder_http_requests_total{{method="{method}",route="unmatched",status="{status}"}} '
    return next((float(row[len(line):]) for row in api.get("/metrics", headers=SCRAPE).text.splitlines() if row.startswith(line)), 0.0)


def test_answers_made_before_the_app_carry_the_same_headers_and_are_counted(app_server, api, thread) -> None:
    page = {"Origin": app_server.page_origin}
    counted = _count(api, "POST", 413), _count(api, "OPTIONS", 204), _count(api, "OPTIONS", 403)
    # A 413 by Content-Length never reaches the app; the widget can still read it.
    r = api.post(f"/api/threads/{thread['id']}/comments", content=b"x" * 70_000,
                 headers={**page, "content-type": "application/json", "X-Request-Id": "edge-413"})
    assert r.status_code == 413 and error_of(r)["code"] == "body_too_large"
    assert r.headers["access-control-allow-origin"] == app_server.page_origin
    assert r.headers["vary"] == "Origin" and r.headers["x-request-id"] == "edge-413"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    # A preflight's answer too.
    pre = {"Access-Control-Request-Method": "POST"}
    r = api.options("/api/counts", headers={**page, **pre, "X-Request-Id": "edge-preflight"})
    assert r.status_code == 204 and r.headers["access-control-max-age"] == "600"
    assert "POST" in r.headers["access-control-allow-methods"] and r.headers["vary"] == "Origin"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"]
    assert r.headers["cache-control"] == "no-store" and r.headers["x-request-id"] == "edge-preflight"
    r = api.options("/api/counts", headers={"Origin": "https://evil.example", **pre})
    assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers and r.headers["x-content-type-options"] == "nosniff"
    assert (_count(api, "POST", 413), _count(api, "OPTIONS", 204), _count(api, "OPTIONS", 403)) == tuple(
        n + 1 for n in counted)
    # A client's request id is kept only if short and plain.
    for bad in ("x" * 65, "<b>", "naïve"):
        rid = api.get("/healthz", headers={"X-Request-Id": bad.encode("latin-1")}).headers["x-request-id"]
        assert rid != bad and len(rid) == 16 and rid.isalnum(), bad
    assert api.get("/healthz", headers={"X-Request-Id": "a-" + "b" * 62}).headers["x-request-id"] == "a-" + "b" * 62
    # Static files keep their own Vary and get no CORS or no-store.
    r = api.get("/frame.js", headers={**page, "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding" and r.headers["cache-control"] != "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_crash_answers_500_with_the_request_id_of_its_log_line(redis_client, api) -> None:
    # Not something a browser can cause: a site record damaged in Redis (a string, not a hash).
    redis_client.set(keys.site("damaged"), "not a hash")
    r = api.get("/api/threads", params={"site": "damaged", "page": "p"}, headers={"X-Request-Id": "crash-1"})
    assert r.status_code == 500 and error_of(r)["code"] == "internal"
    assert r.headers["x-request-id"] == "crash-1"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"


def test_bad_paging_parameters(api, thread) -> None:
    tid = thread["id"]
    for params, code in [({"cursor": "zzz"}, "invalid_cursor"), ({"cursor": "n5"}, "invalid_cursor"),
                         ({"limit": "0"}, "invalid_field"), ({"limit": "1000"}, "invalid_field"),
                         ({"limit": "ten"}, "invalid_field"), ({"order": "random"}, "invalid_field")]:
        r = api.get(f"/api/threads/{tid}", params=params)
        assert r.status_code in (400, 422) and error_of(r)["code"] == code, (params, r.text)


def test_bad_page_identity(api) -> None:
    for page in ("", "x" * 2000, "ftp://example.com/a", "http://[::1"):
        r = api.get("/api/threads", params={"site": SITE, "page": page})
        assert r.status_code == 422 and error_of(r)["field"] == "page", page


def test_bad_session_token_is_401(api, thread) -> None:
    for auth in ("Bearer nope", "Basic abc", "Bearer"):
        r = api.get(f"/api/threads/{thread['id']}", headers={"Authorization": auth})
        assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"


def test_rate_limit_answers_429_with_retry_after(app_server, redis_server, redis_client, thread) -> None:
    from ..support.servers import AppServer
    strict = AppServer(redis_server.url, env={"REJOINDER_RATE_IP_WRITES": "3"}).start()
    try:
        with httpx.Client(base_url=strict.base, headers={"X-Rejoinder-Client": "c" * 20}) as client:
            for i in range(3):
                post(client, thread["id"], f"quick {i}")
            before = snapshot(redis_client)
            r = client.post(f"/api/threads/{thread['id']}/comments", json={"text": "one too many", "name": "A"})
            assert r.status_code == 429 and error_of(r)["code"] == "rate_limited"
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert snapshot(redis_client) == before
    finally:
        strict.stop()


@pytest.mark.parametrize("body", [
    b"\xff\xfe\x00garbage", b'{"text": "\\ud800", "name": "A"}', b'{"text": {"$gt": ""}, "name": "A"}',
    b'{"text": "hi", "name": ["A"]}', b'{"text": "hi", "name": "A", "parent": 1e400}', b"null", b'"str"',
    b'{"text": "hi", "name": "A", "parent": true}', b'{"text": "hi", "name": "\\u0000\\u0001"}',
])
def test_garbage_never_causes_a_server_error(api, thread, body) -> None:
    r = api.post(f"/api/threads/{thread['id']}/comments", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert "code" in error_of(r)
