"""Export and import from the dashboard's API: downloads without emails, the importer's report and its refusals,
and a body cap raised for the import route alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import httpx
import orjson
import pytest
from defusedxml.ElementTree import fromstring

from rejoinder.store import keys

from ..conftest import SITE, new_client_id
from ..support.api import error_of, post
from ..support.servers import AppServer

FIXTURES = Path(__file__).parents[1] / "porting" / "fixtures"
RIVER = "https://blog.example/2024/03/hello-river/"
BASE = f"/api/admin/sites/{SITE}"
# Small enough to test both sides of cheaply, and well over the 64 KB body cap of every other route.
IMPORT_MAX = 150_000


@pytest.fixture(scope="module")
def import_server(redis_server) -> Iterator[AppServer]:
    server = AppServer(redis_server.url, env={"REJOINDER_IMPORT_MAX_BYTES": str(IMPORT_MAX)}).start()
    yield server
    server.stop()


@pytest.fixture
def uploader(import_server: AppServer, admin_token: str) -> Iterator[httpx.Client]:
    """The demo site's admin, on the server with the small import limit."""
    with httpx.Client(base_url=import_server.base, timeout=30,
                      headers={"Authorization": f"Bearer {admin_token}"}) as client:
        yield client


@pytest.fixture
def visitor(import_server: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=import_server.base, timeout=10,
                      headers={"X-Rejoinder-Client": new_client_id()}) as client:
        yield client


def upload(client: httpx.Client, data: bytes, **params: str) -> httpx.Response:
    return client.post(f"{BASE}/import", params=params, content=data,
                       headers={"Content-Type": "application/xml"})


def wxr(comments: int, words: int = 30) -> bytes:
    """A WordPress export of one post with `comments` top-level comments (as Tools > Export writes them)."""
    body = " ".join(["walking"] * words)
    items = "".join(
        f"<wp:comment><wp:comment_id>{i}</wp:comment_id><wp:comment_author><![CDATA[Walker {i}]]>"
        f"</wp:comment_author><wp:comment_author_email><![CDATA[w{i}@walkers.example]]></wp:comment_author_email>"
        f"<wp:comment_date_gmt><![CDATA[2024-03-01 10:{i % 60:02d}:00]]></wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[Comment {i}: {body}]]></wp:comment_content>"
        "<wp:comment_approved><![CDATA[1]]></wp:comment_approved><wp:comment_type><![CDATA[comment]]>"
        "</wp:comment_type><wp:comment_parent>0</wp:comment_parent></wp:comment>\n"
        for i in range(1, comments + 1))
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">'
            "<channel><title>Big</title><link>https://blog.example</link><wp:wxr_version>1.2</wp:wxr_version>"
            "<item><title><![CDATA[A long walk]]></title><link>https://blog.example/long-walk/</link>"
            "<wp:post_id>7</wp:post_id><wp:status><![CDATA[publish]]></wp:status>"
            "<wp:post_type><![CDATA[post]]></wp:post_type>"
            f"{items}</item></channel></rss>\n").encode()


def site_threads(redis_client) -> int:
    return redis_client.zcard(keys.site_threads(SITE))


# --- export --------------------------------------------------------------------------


def test_export_downloads_the_sites_comments_as_json_without_emails(admin, api, thread) -> None:
    first = post(api, thread["id"], "Worth **keeping**.", name="Ann", email="ann@example.com")["comment"]
    post(api, thread["id"], "A reply to keep.", name="Bo", email="bo@example.com", parent=first["id"])
    for params in ({"format": "json"}, {}):
        r = admin.get(f"{BASE}/export", params=params)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        assert re.fullmatch(r'attachment; filename="demo-comments-\d{4}-\d{2}-\d{2}\.json"',
                            r.headers["content-disposition"])
        assert r.headers["cache-control"] == "no-store"
        doc = orjson.loads(r.content)
        assert doc["format"] == "rejoinder-export" and doc["site"]["id"] == SITE and doc["emails_included"] is False
        [t] = doc["threads"]
        assert t["id"] == thread["id"] and t["count"] == 2
        assert [c["text"] for c in t["comments"]] == ["Worth **keeping**.", "A reply to keep."]
        assert t["comments"][1]["parent"] == first["id"]
        assert "ann@example.com" not in r.text and "bo@example.com" not in r.text and '"email"' not in r.text


def test_export_as_wxr_is_a_wordpress_file_without_emails(admin, api, thread) -> None:
    post(api, thread["id"], "For WordPress & friends.", name="Cy", email="cy@example.com")
    r = admin.get(f"{BASE}/export", params={"format": "wxr"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/rss+xml")
    assert r.headers["content-disposition"].endswith('.xml"')
    root = fromstring(r.content)
    contents = [e.text for e in root.iter("{http://wordpress.org/export/1.2/}comment_content")]
    assert any("For WordPress &amp; friends." in (c or "") for c in contents), contents  # the HTML
    assert "cy@example.com" not in r.text


def test_export_refuses_an_unknown_format(admin) -> None:
    r = admin.get(f"{BASE}/export", params={"format": "csv"})
    assert r.status_code == 422 and error_of(r)["field"] == "format"


# --- import --------------------------------------------------------------------------


def test_import_from_the_dashboard_reports_and_a_second_run_adds_nothing(uploader, visitor) -> None:
    data = (FIXTURES / "wordpress.wxr.xml").read_bytes()
    r = upload(uploader, data)
    assert r.status_code == 200, r.text
    body = r.json()
    report = body["report"]
    assert report["format"] == "wxr" and report["site"] == SITE
    assert report["comments"]["imported"] == 18 and report["comments"]["already_imported"] == 0
    assert body["summary"].startswith("Imported 18 comments") and body["seconds"] >= 0
    assert "@" not in orjson.dumps(report).decode()  # the report names no commenter's address
    river = visitor.get("/api/threads", params={"site": SITE, "page": RIVER}).json()["thread"]
    assert river["title"] == "Hello, river" and river["count"] == 13

    again = upload(uploader, data, format="wxr").json()["report"]
    assert again["comments"]["imported"] == 0 and again["comments"]["already_imported"] == 18
    assert visitor.get("/api/threads", params={"site": SITE, "page": RIVER}).json()["thread"]["count"] == 13


def test_a_disqus_export_is_imported_too(uploader) -> None:
    r = upload(uploader, (FIXTURES / "disqus.xml").read_bytes(), format="disqus")
    assert r.status_code == 200, r.text
    assert r.json()["report"]["format"] == "disqus" and r.json()["report"]["comments"]["imported"] > 0


def test_the_import_route_takes_files_over_the_body_cap_and_no_other_route_does(
        uploader, visitor, redis_client) -> None:
    data = wxr(140)
    assert 64 * 1024 < len(data) < IMPORT_MAX
    r = upload(uploader, data)
    assert r.status_code == 200, r.text
    assert r.json()["report"]["comments"]["imported"] == 140
    # Every other route keeps the 64 KB cap, admin routes and look-alike paths included.
    tid = visitor.get("/api/threads", params={"site": SITE, "page": "https://blog.example/long-walk/"}
                      ).json()["thread"]["id"]
    for method, path in (("POST", f"/api/threads/{tid}/comments"), ("POST", f"{BASE}/bulk"),
                         ("POST", f"{BASE}/import/more"), ("PUT", f"{BASE}/import"),
                         ("POST", f"{BASE}/import".replace("/import", "/imports"))):
        r = uploader.request(method, path, content=data, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and error_of(r)["code"] == "body_too_large", (method, path, r.status_code)


def test_a_file_over_the_import_limit_is_413_and_imports_nothing(uploader, redis_client) -> None:
    data = wxr(800)
    assert len(data) > IMPORT_MAX
    r = upload(uploader, data)
    assert r.status_code == 413 and error_of(r)["code"] == "import_too_large"
    # Sent without a Content-Length (chunked), it is counted as it arrives.
    chunks = [data[i:i + 16384] for i in range(0, len(data), 16384)]
    r = uploader.post(f"{BASE}/import", content=iter(chunks), headers={"Content-Type": "application/xml"})
    assert r.status_code == 413 and error_of(r)["code"] == "import_too_large"
    assert site_threads(redis_client) == 0


@pytest.mark.parametrize("name,fmt,code", [
    ("not-an-export.xml", "", "import_invalid"),
    ("truncated.wxr.xml", "", "import_invalid"),
    ("empty.xml", "", "import_invalid"),
    ("billion-laughs.xml", "", "import_unsafe"),
    ("external-entity.xml", "", "import_unsafe"),
    ("wordpress.wxr.xml", "disqus", "import_invalid"),
])
def test_a_bad_file_gets_the_importers_error_and_imports_nothing(uploader, redis_client, name, fmt, code) -> None:
    r = upload(uploader, (FIXTURES / name).read_bytes(), **({"format": fmt} if fmt else {}))
    assert r.status_code == 422 and error_of(r)["code"] == code, r.text
    assert error_of(r)["message"]
    assert site_threads(redis_client) == 0


def test_one_import_at_a_time_per_site(uploader, redis_client) -> None:
    redis_client.set(keys.import_lock(SITE), "1", ex=60)
    r = upload(uploader, (FIXTURES / "wordpress.wxr.xml").read_bytes())
    assert r.status_code == 409 and error_of(r)["code"] == "import_running"
    assert site_threads(redis_client) == 0
    redis_client.delete(keys.import_lock(SITE))
    assert upload(uploader, (FIXTURES / "wordpress.wxr.xml").read_bytes()).status_code == 200
    assert redis_client.exists(keys.import_lock(SITE)) == 0  # let go after the import
    # ...and after a refused file too.
    assert upload(uploader, b"<nope/>").status_code == 422
    assert redis_client.exists(keys.import_lock(SITE)) == 0
