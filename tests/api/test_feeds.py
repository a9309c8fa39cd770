"""Atom feeds read back by a feed parser, their caching, and the sidebar's recent comments page."""

from __future__ import annotations

import time

import feedparser
import httpx

from ..conftest import SITE, register_site
from ..support.api import error_of, post


def feed(client: httpx.Client, path: str, **headers: str) -> tuple[httpx.Response, feedparser.FeedParserDict]:
    r = client.get(path, headers=headers)
    return r, feedparser.parse(r.content) if r.status_code == 200 else None


def open_page(api: httpx.Client, page: str, title: str, url: str) -> str:
    return api.get("/api/threads", params={"site": SITE, "page": page, "title": title, "url": url}).json()["thread"]["id"]


def test_a_threads_feed_has_its_published_comments_newest_first(redis_client, app_server, api, other_reader) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_links")
    url = f"{app_server.page_origin}/posts/feeds"
    tid = open_page(api, url, "Feeds & <friends>", url)
    first = post(api, tid, "The **first** word", email="ann@example.com", website="https://ann.example")["comment"]
    post(other_reader, tid, "Held: https://example.com/link", name="Held")
    post(other_reader, tid, "Caught", name="Spammer", hp="http://spam.example")
    second = post(other_reader, tid, "A reply <script>alert(1)</script>", name="Bo <b>", parent=first["id"])["comment"]

    r, parsed = feed(api, f"/api/feeds/threads/{tid}.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title == "Comments on “Feeds & <friends>”"
    assert [e.author for e in parsed.entries] == ["Bo <b>", "Ann"]
    assert parsed.entries[1].title == "Ann on “Feeds & <friends>”"
    assert parsed.entries[1].author_detail.href == "https://ann.example"
    assert parsed.entries[1].link == f"{url}#rj-c{first['id']}"
    assert parsed.entries[1].content[0].value == "<p>The <strong>first</strong> word</p>"
    assert "<script" not in parsed.entries[0].content[0].value and "alert(1)" in parsed.entries[0].content[0].value
    assert parsed.entries[0].id.endswith(f"/api/threads/{tid}/comments/{second['id']}")
    # Held and spam comments, and addresses, never reach a feed.
    assert b"Held" not in r.content and b"Spammer" not in r.content and b"ann@example.com" not in r.content


def test_a_feed_reader_asking_again_gets_304_until_something_changes(api, thread) -> None:
    tid = thread["id"]
    mine = post(api, tid, "Before")
    r, _ = feed(api, f"/api/feeds/threads/{tid}.atom")
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert "public" in r.headers["cache-control"]
    assert api.get(f"/api/feeds/threads/{tid}.atom", headers={"If-None-Match": etag}).status_code == 304
    assert api.get(f"/api/feeds/threads/{tid}.atom", headers={"If-Modified-Since": modified}).status_code == 304
    time.sleep(1.1)  # Last-Modified counts whole seconds
    r = api.patch(f"/api/threads/{tid}/comments/{mine['comment']['id']}", json={"text": "After, edited"},
                  headers={"X-Rejoinder-Edit-Token": mine["edit_token"]})
    assert r.status_code == 200, r.text
    again = api.get(f"/api/feeds/threads/{tid}.atom", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag and b"After, edited" in again.content
    assert api.get(f"/api/feeds/threads/{tid}.atom", headers={"If-Modified-Since": modified}).status_code == 200


def test_a_sites_feed_has_the_newest_comments_of_every_thread(redis_client, app_server, api) -> None:
    register_site(redis_client, SITE, [app_server.page_origin])
    one = open_page(api, "post-one", "One", f"{app_server.page_origin}/one")
    two = open_page(api, "post-two", "Two", f"{app_server.page_origin}/two")
    post(api, one, "On one")
    post(api, two, "On two")
    r, parsed = feed(api, f"/api/feeds/sites/{SITE}.atom")
    assert r.status_code == 200 and not parsed.bozo
    assert [(e.title, e.content[0].value) for e in parsed.entries] == [
        ("Ann on “Two”", "<p>On two</p>"), ("Ann on “One”", "<p>On one</p>")]
    assert error_of(api.get("/api/feeds/sites/no-such-site.atom"))["code"] == "site_not_found"
    assert error_of(api.get("/api/feeds/threads/0123456789abcdef01234567.atom"))["code"] == "thread_not_found"
    assert error_of(api.get("/api/feeds/threads/nothex.atom"))["code"] == "thread_not_found"


def test_the_recent_comments_page_for_a_sidebar(redis_client, app_server, api) -> None:
    register_site(redis_client, SITE, [app_server.page_origin])
    tid = open_page(api, "post-one", "One <i>", f"{app_server.page_origin}/one")
    for i in range(4):
        post(api, tid, f"Comment {i} " + "long " * (40 if i == 3 else 1), name=f"<b>Reader {i}</b>")
    r = httpx.get(f"{app_server.base}/recent/{SITE}", params={"count": 3})
    assert r.status_code == 200
    page = r.text
    assert page.count("<li>") == 3 and "Comment 3" in page and "Comment 0" not in page
    assert "&lt;b&gt;Reader 3&lt;/b&gt;" in page and "One &lt;i&gt;" in page and "…" in page
    assert f'href="{app_server.page_origin}/one#rj-c4" target="_top"' in page
    csp = r.headers["content-security-policy"]
    assert f"frame-ancestors {app_server.page_origin}" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp
    assert httpx.get(f"{app_server.base}/recent/nobody").status_code == 404


def test_characters_xml_forbids_never_break_a_feed(api, thread) -> None:
    tid = thread["id"]
    post(api, tid, "Form\x0cfeed, vertical\x0btab, and \ufffe", name="Odd\x0b Name")
    r, parsed = feed(api, f"/api/feeds/threads/{tid}.atom")
    assert r.status_code == 200 and not parsed.bozo, parsed.bozo_exception if parsed else r.text
    assert "vertical" in parsed.entries[0].content[0].value
