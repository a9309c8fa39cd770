"""The iframe document: its CSP, and the thread's first page it carries for the widget."""

from __future__ import annotations

import re

import httpx
import orjson
import redis as redis_sync

from .conftest import SITE, register_site
from .support.servers import AppServer

PAGE = "https://blog.example/post-1"
JSON_BLOCK = re.compile(r'<script type="application/json" id="rj-thread">(.*?)</script>', re.S)


def frame(client: httpx.Client, **params: str) -> httpx.Response:
    return client.get("/frame", params={"site": SITE, "page": PAGE, "url": PAGE, "title": "Post one",
                                        "theme": "auto", **params})


def embedded(r: httpx.Response) -> dict:
    found = JSON_BLOCK.findall(r.text)
    assert len(found) == 1, r.text[:500]
    return orjson.loads(found[0])


def test_frame_carries_the_first_page_as_anyone_sees_it(api: httpx.Client, other_reader: httpx.Client,
                                                       redis_client: redis_sync.Redis, app_server: AppServer) -> None:
    tid = api.get("/api/threads", params={"site": SITE, "page": PAGE, "title": "Post one"}).json()["thread"]["id"]
    mine = api.post(f"/api/threads/{tid}/comments", json={"text": "Mine, *with* markup", "name": "Ada",
                                                          "email": "ada@example.com"}).json()["comment"]
    api.put(f"/api/threads/{tid}/comments/{mine['id']}/like")
    api.put(f"/api/threads/{tid}/like")
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    held = api.post(f"/api/threads/{tid}/comments", json={"text": "Awaiting a moderator", "name": "Ada"})
    assert held.json()["comment"]["status"] == "pending"

    # Asked by the very reader who wrote, liked and is waiting: a navigation carries
    # no identity, and the document must not either, whatever headers come along.
    r = frame(api)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    page = embedded(r)
    public = other_reader.get("/api/threads", params={"site": SITE, "page": PAGE, "title": "Post one"}).json()
    assert page["comments"] == public["comments"]
    assert [c["id"] for c in page["comments"]] == [mine["id"]]
    shown = page["comments"][0]
    assert shown["liked"] is False and shown["likes"] == 1
    assert not {"mine", "email", "text", "editable_until"} & shown.keys()
    assert page["me"] == {"kind": "guest"}
    assert page["thread"]["liked"] is False and page["thread"]["likes"] == 1
    assert page["site"]["id"] == SITE
    assert "ada@example.com" not in r.text


def test_comment_text_cannot_close_the_data_block(api: httpx.Client) -> None:
    """The data is inert JSON inside the document: no name or text may end the
    element and start markup of its own (the CSP would stop a script; this stops the markup)."""
    tid = api.get("/api/threads", params={"site": SITE, "page": PAGE}).json()["thread"]["id"]
    evil = '</script><script src="/x.js"></script><!--'
    api.post(f"/api/threads/{tid}/comments", json={"text": evil, "name": evil[:60]}).raise_for_status()
    r = frame(api)
    block = JSON_BLOCK.findall(r.text)[0]
    assert "<" not in block and ">" not in block
    assert r.text.count("<script") == 2  # frame.js and the data block, nothing else
    assert embedded(r)["comments"][0]["author"]["name"] == evil[:60]


def test_frame_without_a_usable_page_carries_no_thread(api: httpx.Client) -> None:
    """The widget then asks the API itself and shows the API's error, as before."""
    bare = api.get("/frame", params={"site": SITE})
    assert bare.status_code == 200 and "rj-thread" not in bare.text
    bad = frame(api, url="javascript:alert(1)")
    assert bad.status_code == 200 and "rj-thread" not in bad.text


def test_frame_is_gzipped_for_browsers_that_take_it(app_server: AppServer, api: httpx.Client) -> None:
    tid = api.get("/api/threads", params={"site": SITE, "page": PAGE}).json()["thread"]["id"]
    for i in range(5):
        api.post(f"/api/threads/{tid}/comments", json={"text": f"Comment {i} " * 20, "name": "Ada"}).raise_for_status()
    with httpx.Client(base_url=app_server.base, timeout=10) as raw:
        r = raw.get("/frame", params={"site": SITE, "page": PAGE}, headers={"Accept-Encoding": "gzip"})
        # httpx decodes for us; the header says what travelled.
        assert r.headers["content-encoding"] == "gzip"
        assert "rj-thread" in r.text
        plain = raw.get("/frame", params={"site": SITE, "page": PAGE}, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert JSON_BLOCK.findall(plain.text) == JSON_BLOCK.findall(r.text)
