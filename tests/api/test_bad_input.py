"""Input that used to reach a 500: URLs that break URL parsing, and digits that are not ASCII.
Each refusal is a JSON error with a stable code; nothing is stored."""

from __future__ import annotations

import httpx
import pytest

from ..admin.conftest import make_admin, make_session
from ..conftest import SITE
from ..support.api import error_of, post

BROKEN_WEBSITES = ["[x]", "http://[x", "http://[x]/", "http://a.example:99999/", "http://a.example:0/",
                   "http://user:pass@a.example/", "javascript:alert(1)", "http://exa mple.com/", "http://-bad-.com/",
                   "ftp://a.example/", "http://a..example/", "http://localhost/", "http://" + "a" * 64 + ".com/"]


@pytest.mark.parametrize("website", BROKEN_WEBSITES)
def test_a_broken_guest_website_is_a_clear_422(api: httpx.Client, thread: dict, website: str) -> None:
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "hi", "name": "Ann", "website": website})
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_url" and error_of(r)["field"] == "website"
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 0


def test_good_websites_are_kept_and_look_alike_names_show_as_punycode(api: httpx.Client, thread: dict) -> None:
    for given, kept in (("example.com", "https://example.com"), ("http://[2001:db8::1]/me", "http://[2001:db8::1]/me"),
                        ("https://аррӏе.com/", "https://xn--80ak6aa92e.com/")):
        comment = post(api, thread["id"], f"from {given}", website=given)["comment"]
        assert comment["author"]["website"] == kept


def test_a_broken_thread_url_is_a_clear_422(api: httpx.Client) -> None:
    for url in ("http://[x", "http://[x]/", "http://a.example:99999/"):
        r = api.get("/api/threads", params={"site": SITE, "page": "p-broken", "url": url})
        assert r.status_code == 422 and error_of(r)["field"] == "url", (url, r.text)


# Digits str.isdigit() accepts and int() refuses (superscripts) or reads (Arabic-Indic, fullwidth).
NOT_ASCII = ["¹²³", "١٢٣", "１２３"]


@pytest.mark.parametrize("digits", NOT_ASCII)
def test_unicode_digits_in_reader_routes_are_not_found_or_bad_cursors(api: httpx.Client, thread: dict,
                                                                     digits: str) -> None:
    tid = thread["id"]
    cid = post(api, tid, "a comment")["comment"]["id"]
    for method, path, code in (("GET", f"/api/threads/{tid}/comments/{digits}", "comment_not_found"),
                               ("PATCH", f"/api/threads/{tid}/comments/{digits}", "comment_not_found"),
                               ("DELETE", f"/api/threads/{tid}/comments/{digits}", "comment_not_found"),
                               ("PUT", f"/api/threads/{tid}/comments/{digits}/like", "comment_not_found"),
                               ("GET", f"/api/threads/{tid}/comments/{digits}/replies", "comment_not_found")):
        r = api.request(method, path, json={"text": "x"} if method == "PATCH" else None)
        assert r.status_code == 404 and error_of(r)["code"] == code, (method, path, r.text)
    for path, params in ((f"/api/threads/{tid}", {"cursor": "o" + digits}),
                         (f"/api/threads/{tid}/comments/{cid}/replies", {"cursor": "o" + digits})):
        r = api.get(path, params=params)
        assert r.status_code == 400 and error_of(r)["code"] == "invalid_cursor", (path, r.text)
    for params in ({"limit": digits}, {"limit": "-" + digits}):
        r = api.get(f"/api/threads/{tid}", params=params)
        assert r.status_code == 422 and error_of(r)["field"] == "limit", r.text


@pytest.mark.parametrize("digits", NOT_ASCII)
def test_unicode_digits_in_admin_routes_are_refused_cleanly(app_server, api: httpx.Client, redis_client,
                                                            thread: dict, digits: str) -> None:
    make_admin(redis_client, SITE, "github:8080")
    tid = thread["id"]
    cid = post(api, tid, "a comment")["comment"]["id"]
    base = f"/api/admin/sites/{SITE}"
    with httpx.Client(base_url=app_server.base, timeout=10,
                      headers={"Authorization": f"Bearer {make_session(redis_client, 'github:8080')}"}) as admin:
        r = admin.post(f"{base}/comments/{tid}/{digits}/approve")
        assert r.status_code == 404 and error_of(r)["code"] == "comment_not_found", r.text
        r = admin.post(f"{base}/bulk", json={"action": "approve", "items": [{"tid": tid, "cid": digits}]})
        assert r.status_code == 200 and r.json()["results"][0]["error"]["code"] == "comment_not_found"
        r = admin.patch(f"{base}/threads/{tid}", json={"pinned": digits})
        assert r.status_code == 404 and error_of(r)["code"] == "comment_not_found", r.text
        for cursor in (f"{digits}~{tid}:{cid}", f"123~{tid}:{digits}"):
            r = admin.get(f"{base}/comments", params={"list": "recent", "cursor": cursor})
            assert r.status_code == 400 and error_of(r)["code"] == "invalid_cursor", r.text
        assert admin.patch(f"{base}/threads/{tid}", json={"pinned": cid}).status_code == 200


def test_an_empty_or_unknown_choice_is_422_not_the_default(app_server, api: httpx.Client, redis_client,
                                                           thread: dict) -> None:
    """`export?format=` used to answer 200 with the default format: a value given is checked."""
    make_admin(redis_client, SITE, "github:8181")
    base = f"/api/admin/sites/{SITE}"
    with httpx.Client(base_url=app_server.base, timeout=10,
                      headers={"Authorization": f"Bearer {make_session(redis_client, 'github:8181')}"}) as admin:
        for path, name in ((f"{base}/export", "format"), (f"{base}/comments", "list")):
            for value in ("", "JSON", "nope"):
                r = admin.get(path, params={name: value})
                assert r.status_code == 422 and error_of(r)["field"] == name, (path, value, r.text)
        assert admin.get(f"{base}/export").status_code == 200
        r = admin.post(f"{base}/import", params={"threads": ""}, content=b"<rss/>")
        assert r.status_code == 422 and error_of(r)["field"] == "threads"
    for value in ("", "Oldest"):
        r = api.get(f"/api/threads/{thread['id']}", params={"order": value})
        assert r.status_code == 422 and error_of(r)["field"] == "order"


def test_the_api_description_lists_what_each_route_answers(api: httpx.Client) -> None:
    """Each operation's error statuses come from its handler's error codes: a few known ones, checked."""
    paths = api.get("/api/openapi.json").json()["paths"]
    assert {"401", "403"} <= set(paths["/api/auth/me"]["get"]["responses"])
    assert {"401", "403"} <= set(paths["/api/auth/logout"]["post"]["responses"])
    assert "422" in paths["/api/threads/{tid}/comments/{cid}/replies"]["get"]["responses"]
    assert "400" in paths["/api/threads/{tid}"]["get"]["responses"]
    for ops in paths.values():
        for method, op in ops.items():
            assert "503" in op["responses"] or op["summary"] == "This document", (method, op["summary"])
