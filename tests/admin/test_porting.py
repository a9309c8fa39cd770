"""Export and import from the dashboard's API: downloads without emails, the importer's report and its refusals,
and a body cap raised for the import route alone."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import orjson
import pytest
from defusedxml.ElementTree import fromstring

from rejoinder.store import keys

from ..conftest import SITE, new_client_id
from ..support.api import error_of, post
from ..support.cli import cli
from ..support.exports import wxr
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


def import_status(client: httpx.Client) -> dict:
    r = client.get(f"{BASE}/import")
    assert r.status_code == 200, r.text
    return r.json()


def test_an_upload_under_way_shows_as_a_running_import_and_holds_off_a_second(
        import_server: AppServer, admin_token: str, uploader: httpx.Client) -> None:
    """Another tab of the dashboard sees the import while its file is still arriving, and
    cannot start a second one; when it ends, nothing says it is running."""
    data = wxr(20)
    arrived = threading.Event()
    answer: dict[str, httpx.Response] = {}

    def body() -> Iterator[bytes]:
        yield data[:1000]
        arrived.wait(10)  # the rest only once the test has looked
        yield data[1000:]

    def send() -> None:
        with httpx.Client(base_url=import_server.base, timeout=30,
                          headers={"Authorization": f"Bearer {admin_token}"}) as client:
            answer["r"] = client.post(f"{BASE}/import", content=body(), headers={"Content-Type": "application/xml"})

    sender = threading.Thread(target=send)
    sender.start()
    try:
        deadline = time.monotonic() + 10
        while not (status := import_status(uploader))["progress"] and time.monotonic() < deadline:
            time.sleep(0.02)  # the lock is taken a moment before the first progress is published
        assert status["running"] and status["progress"]["phase"] == "receiving", status
        second = upload(uploader, data)
        assert second.status_code == 409 and error_of(second)["code"] == "import_running"
    finally:
        arrived.set()
        sender.join(30)
    assert answer["r"].status_code == 200, answer["r"].text
    assert answer["r"].json()["report"]["comments"]["imported"] == 20
    assert import_status(uploader) == {"running": False, "progress": None}


def test_the_dashboard_follows_an_import_run_from_the_command_line(redis_server, uploader: httpx.Client,
                                                                   tmp_path: Path) -> None:
    """`rejoinder import` holds the same lock and publishes the same progress: threads and
    comments written out of the totals, only ever going up, until it is over."""
    export = tmp_path / "big.xml"
    export.write_bytes(wxr(2, words=3, posts=1500))
    finished = threading.Event()
    result = {}

    def run() -> None:
        result["cli"] = cli(redis_server.url, "import", SITE, str(export))
        finished.set()

    seen = []
    runner = threading.Thread(target=run)
    runner.start()
    while not finished.wait(0.02):
        seen.append(import_status(uploader))
    runner.join()
    assert result["cli"].returncode == 0, result["cli"].stderr
    writing = [s["progress"] for s in seen if s["running"] and (s["progress"] or {}).get("phase") == "writing"]
    assert writing, seen[-5:]
    assert {(p["threads_total"], p["comments_total"]) for p in writing} == {(1500, 3000)}
    done = [(p["threads_done"], p["comments_done"]) for p in writing]
    assert done == sorted(done) and done[0][1] < 3000
    assert import_status(uploader) == {"running": False, "progress": None}


def test_the_command_line_waits_its_turn_too(redis_server, redis_client) -> None:
    redis_client.set(keys.import_lock(SITE), "dashboard", ex=60)
    result = cli(redis_server.url, "import", SITE, str(FIXTURES / "wordpress.wxr.xml"))
    assert result.returncode == 1 and orjson.loads(result.stdout)["error"]["code"] == "import_running"
    assert "Nothing was imported." in result.stderr and site_threads(redis_client) == 0
    assert redis_client.get(keys.import_lock(SITE)) == "dashboard"  # not its lock to let go
