"""`rejoinder import`: WordPress and Disqus exports, read back through the API as readers see them."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import all_comments
from ..support.cli import SECRET, cli, cli_json, everything
from ..support.invariants import thread_problems
from ..support.live import connect

FIXTURES = Path(__file__).parent / "fixtures"
RIVER = "https://blog.example/2024/03/hello-river/"
SECOND = "https://blog.example/2024/03/second-walk/"
WALK_ONE = "https://blog.example/walks/one/"
WALK_TWO = "https://blog.example/walks/two/"


def import_fixture(redis_server: Any, name: str, *extra: str, site: str = SITE) -> dict[str, Any]:
    return cli_json(redis_server.url, "import", site, str(FIXTURES / name), *extra)


def open_page(api: Any, page: str, site: str = SITE) -> dict[str, Any]:
    r = api.get("/api/threads", params={"site": site, "page": page})
    assert r.status_code == 200, r.text
    return r.json()["thread"]


def by_text(comments: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Comments by a snippet of their body (placeholders have none: they are left out)."""
    return {c["html"]: c for c in comments if c["html"]}


def find(comments: list[dict[str, Any]], snippet: str) -> dict[str, Any]:
    [found] = [c for c in comments if snippet in c["html"]]
    return found


def test_wordpress_comments_read_back_with_nesting_authors_dates_and_likes(redis_server, redis_client, api) -> None:
    report = import_fixture(redis_server, "wordpress.wxr.xml")
    assert report["format"] == "wxr"
    assert report["comments"]["imported"] == 18
    assert report["comments"]["imported_by_status"] == {"approved": 15, "deleted": 1, "pending": 1, "spam": 1}
    assert report["threads"] == {"in_file": 4, "with_comments": 2, "created": 2, "changed": 2}

    # The widget on the post's page (whatever tracking parameters its URL carries) finds the thread.
    river = open_page(api, RIVER + "?utm_campaign=spring#comments")
    assert river["title"] == "Hello, river" and river["count"] == 13 and not river["locked"]
    comments = all_comments(api, river["id"])
    # Pending and spam comments are imported but shown to no reader.
    assert len(comments) == 14 and not any("Waiting for approval" in c["html"] or "pills" in c["html"]
                                           for c in comments)

    first = find(comments, "Lovely walk")
    assert first["html"] == "<p>Lovely walk.</p><p>Which bridge was that?</p>"
    assert first["author"]["name"] == "Ann Walker" and first["author"]["website"] == "https://ann.example"
    assert first["created"] == "2024-03-01T10:00:00.000Z" and first["likes"] == 3
    bob = find(comments, "old stone one")
    assert bob["parent"] == first["id"] and bob["author"]["website"] is None  # no email, no website: fine

    # Nesting: depth five is the cap; deeper replies attach under the deepest allowed
    # ancestor and remember whom they answered.
    depth = {n: find(comments, f"Depth {n}") for n in ("two", "three", "four", "five", "six", "seven")}
    assert [depth[n]["depth"] for n in ("two", "three", "four", "five")] == [2, 3, 4, 5]
    assert depth["six"]["depth"] == 5 and depth["six"]["parent"] == depth["four"]["id"]
    assert depth["six"]["reply_to"] == depth["five"]["id"]
    assert depth["seven"]["depth"] == 5 and depth["seven"]["reply_to"] == depth["six"]["id"]

    # Trashed with an approved reply: a placeholder keeps the reply in place; trashed alone: gone.
    answer = find(comments, "Answer to a trashed comment")
    [placeholder] = [c for c in comments if c["id"] == answer["parent"]]
    assert placeholder["status"] == "deleted" and placeholder["author"] is None and placeholder["html"] == ""
    assert not any("Regretted" in c["html"] for c in comments)
    # Replies to a comment that is missing, or held, show at top level.
    assert find(comments, "comment that is gone")["parent"] is None
    assert find(comments, "Answering a held comment")["parent"] is None
    assert find(comments, "Only a local date")["created"] == "2024-03-04T13:00:00.000Z"

    # Email addresses never reach a reader.
    raw = api.get(f"/api/threads/{river['id']}").text
    assert "@walkers.example" not in raw and "cy@example.org" not in raw and "email" not in raw

    second = open_page(api, SECOND)
    assert second["count"] == 2 and second["locked"]  # comments were closed on WordPress
    assert second["title"] == "Second walk & a hill"  # an entity in the export is text here
    for tid in (river["id"], second["id"]):
        assert thread_problems(redis_client, tid) == []
    # The site's index of threads knows them (moderation, mail and forgetting start there).
    assert set(redis_client.zrange(keys.site_threads(SITE), 0, -1)) == {river["id"], second["id"]}


@pytest.mark.parametrize("snippet", ["<script", "onerror", "onclick", "javascript:", "<img", "<iframe", "<svg",
                                     "alert(", "<style"])
def test_imported_html_comes_out_inert(redis_server, api, snippet: str) -> None:
    import_fixture(redis_server, "wordpress.wxr.xml")
    import_fixture(redis_server, "disqus.xml")
    wp = find(all_comments(api, open_page(api, RIVER)["id"]), "a map")
    dq = find(all_comments(api, open_page(api, WALK_ONE)["id"]), "Look")
    for comment in (wp, dq):
        assert snippet not in comment["html"].lower()
    assert '<a href="https://river.example/map" target="_blank" rel="nofollow ugc noopener noreferrer">a map</a>' \
        in wp["html"]
    # The name is text the widget inserts as text; a javascript: website is not kept.
    assert wp["author"]["name"] == 'Mallory <script>alert("name")</script>' and wp["author"]["website"] is None


def test_disqus_threads_merge_by_url_and_keep_nesting_and_placeholders(redis_server, redis_client, api) -> None:
    report = import_fixture(redis_server, "disqus.xml", "--format", "disqus")
    assert report["comments"]["imported_by_status"] == {"approved": 7, "deleted": 1, "spam": 1}
    one = open_page(api, WALK_ONE)
    assert one["title"] == "Walk one" and one["count"] == 6
    comments = all_comments(api, one["id"])
    root = find(comments, "Great route")
    assert root["html"] == "<p>Great route.</p><p>Did you take the ferry?</p>"
    assert find(comments, "at noon")["parent"] == root["id"]
    # Posted on Disqus's duplicate thread for the same page (?fbclid=...): same thread here.
    assert find(comments, "tracking parameter")["author"]["name"] == "Nia"
    friendly = find(comments, "keep it friendly")
    assert friendly["author"]["name"] == "Passer-by"  # an anonymous guest without an email
    [placeholder] = [c for c in comments if c["id"] == friendly["parent"]]
    assert placeholder["status"] == "deleted" and placeholder["author"] is None
    assert find(comments, "not in the export")["parent"] is None
    two = open_page(api, WALK_TWO)
    assert two["count"] == 1 and two["locked"]
    # A deleted Disqus thread brings nothing: its page has no comments here.
    assert open_page(api, "https://blog.example/walks/gone/")["count"] == 0
    for tid in (one["id"], two["id"]):
        assert thread_problems(redis_client, tid) == []


def test_threads_can_be_keyed_by_the_old_page_id(redis_server, api) -> None:
    """A site that embedded Disqus with an identifier embeds Rejoinder with data-page."""
    import_fixture(redis_server, "disqus.xml", "--threads-by", "id")
    assert open_page(api, "walk-1")["count"] == 5
    assert open_page(api, "walk-2")["count"] == 1
    assert open_page(api, WALK_TWO)["count"] == 0
    # A thread without an identifier (Disqus's duplicate of walk one) falls back to its URL.
    assert open_page(api, WALK_ONE)["count"] == 1


def test_report_says_what_was_skipped_and_why(redis_server) -> None:
    # As an operator runs it: a process of its own.
    result = cli(redis_server.url, "import", SITE, str(FIXTURES / "wordpress.wxr.xml"), process=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    skipped = {(s["id"], s["reason"]) for s in report["skipped"]}
    assert skipped == {("wxr:113", "deleted"), ("wxr:116", "not_a_comment"), ("wxr:101", "duplicate_id"),
                       ("wxr:119", "empty"), ("wxr:120", "invalid_date"), ("wxr:301", "post_in_trash")}
    assert all(s["message"] and s["thread"] for s in report["skipped"])
    notes = {(n["id"], n["reason"]) for n in report["notes"]}
    assert notes == {("wxr:117", "unknown_parent"), ("wxr:111", "parent_hidden"), ("wxr:118", "website_dropped"),
                     ("wxr:121", "email_dropped")}
    # And a summary for a person, on stderr.
    assert "Imported 18 comments into 2 threads of site demo" in result.stderr
    assert "Skipped: 6" in result.stderr and "is a pingback, trackback" in result.stderr

    disqus = cli_json(redis_server.url, "import", SITE, str(FIXTURES / "disqus.xml"))
    assert {(s["id"], s["reason"]) for s in disqus["skipped"]} == {
        ("disqus:9007", "unknown_thread"), ("disqus:9001", "duplicate_id"), ("disqus:9010", "thread_deleted"),
        ("disqus:9012", "deleted")}
    assert {(n["id"], n["reason"]) for n in disqus["notes"]} == {("disqus:9006", "unknown_parent")}


def test_running_the_same_import_again_adds_nothing(redis_server, redis_client, api) -> None:
    import_fixture(redis_server, "wordpress.wxr.xml")
    river = open_page(api, RIVER)
    before = all_comments(api, river["id"])
    again = import_fixture(redis_server, "wordpress.wxr.xml")
    assert again["comments"]["imported"] == 0 and again["comments"]["already_imported"] == 18
    assert again["threads"]["created"] == 0 and again["threads"]["changed"] == 0
    after = open_page(api, RIVER)
    assert after["head"] == river["head"] and after["count"] == 13  # not even an event
    assert all_comments(api, river["id"]) == before
    assert find(before, "Lovely walk")["likes"] == 3  # likes are not added twice


def test_a_second_run_completes_an_import_that_was_cut_short(redis_server, redis_client, api) -> None:
    """Threads sit in different slots, so a crash can stop an import between two threads:
    the same command again brings in the missing thread and leaves the other alone."""
    import_fixture(redis_server, "wordpress.wxr.xml")
    river, second = open_page(api, RIVER), open_page(api, SECOND)
    for key in list(redis_client.scan_iter(match=f"rj:{{t:{second['id']}}}:*")):
        redis_client.delete(key)  # as if the process died before the second thread's step
    again = import_fixture(redis_server, "wordpress.wxr.xml")
    assert again["comments"]["imported"] == 2 and again["comments"]["already_imported"] == 16
    assert open_page(api, SECOND)["count"] == 2 and open_page(api, RIVER)["head"] == river["head"]


def test_comments_are_added_after_those_already_in_the_thread(redis_server, redis_client, api) -> None:
    tid = open_page(api, WALK_ONE)["id"]
    r = api.post(f"/api/threads/{tid}/comments", json={"text": "Posted here before the import", "name": "Tom"})
    assert r.status_code == 201, r.text
    import_fixture(redis_server, "disqus.xml")
    comments = all_comments(api, tid)
    assert comments[0]["html"] == "<p>Posted here before the import</p>"
    assert open_page(api, WALK_ONE)["count"] == 7
    assert thread_problems(redis_client, tid) == []


BAD_FILES = [
    ("empty.xml", "import_invalid", "The file is empty."),
    ("not-an-export.xml", "import_invalid", "neither a WordPress export"),
    ("truncated.wxr.xml", "import_invalid", "not well-formed XML (line 97"),
    ("latin1-as-utf8.wxr.xml", "import_invalid", "not well-formed XML (line 58"),
    ("billion-laughs.xml", "import_unsafe", "XML bomb"),
    ("external-entity.xml", "import_unsafe", "refuses such files"),
]


@pytest.mark.parametrize(("name", "code", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_refused_and_imports_nothing(redis_server, redis_client, name: str, code: str,
                                                   message: str) -> None:
    import_fixture(redis_server, "disqus.xml")  # the site already has comments
    before = everything(redis_client, worker=False)
    result = cli(redis_server.url, "import", SITE, str(FIXTURES / name))
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == code
    assert message in result.stderr and "Nothing was imported." in result.stderr
    assert everything(redis_client, worker=False) == before


def test_a_file_of_the_wrong_format_or_for_an_unknown_site_is_refused(redis_server, redis_client) -> None:
    before = everything(redis_client, worker=False)
    result = cli(redis_server.url, "import", SITE, str(FIXTURES / "disqus.xml"), "--format", "wxr")
    assert result.returncode == 1 and "named a wxr export, but it is a disqus export" in result.stderr
    result = cli(redis_server.url, "import", "nosuchsite", str(FIXTURES / "disqus.xml"))
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "site_not_found"
    assert everything(redis_client, worker=False) == before


def test_a_file_larger_than_the_limit_is_refused(redis_server, redis_client) -> None:
    before = everything(redis_client, worker=False)
    result = cli(redis_server.url, "import", SITE, str(FIXTURES / "wordpress.wxr.xml"),
                 env={"REJOINDER_IMPORT_MAX_BYTES": "1000"})
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "import_too_large"
    assert "REJOINDER_IMPORT_MAX_BYTES" in result.stderr
    assert everything(redis_client, worker=False) == before


async def test_live_readers_see_imported_comments_arrive(redis_server, app_server, api) -> None:
    one = open_page(api, WALK_ONE)  # a reader has the page open before the import
    reader = await connect(app_server.ws_base, one["id"], origin=app_server.page_origin)
    assert (await reader.next())["type"] == "ready"
    await asyncio.to_thread(import_fixture, redis_server, "disqus.xml")
    got = [await reader.next() for _ in range(7)]  # the spam comment is shown to no one
    assert {m["type"] for m in got} == {"comment.created"}
    assert [m["count"] for m in got][-1] == 6
    assert got[0]["comment"]["html"] == "<p>Great route.</p><p>Did you take the ferry?</p>"
    assert sum(1 for m in got if m["comment"]["status"] == "deleted") == 1
    assert not any("email" in m["comment"] for m in got)
    await reader.close()


def test_other_sites_are_not_touched(redis_server, redis_client, api) -> None:
    register_site(redis_client, "other", ["https://other.example"])
    import_fixture(redis_server, "disqus.xml", site="other")
    assert open_page(api, WALK_ONE)["count"] == 0
    assert redis_client.zcard(keys.site_threads(SITE)) == 0
    assert redis_client.zcard(keys.site_threads("other")) == 2


def test_on_a_terminal_the_import_shows_a_progress_bar_and_off_one_prints_none(redis_server) -> None:
    """An operator at a terminal watches comments and threads go by with a rate and the time
    left; a pipe or a log gets the report alone."""
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a 120-column terminal
    env = {**os.environ, "REJOINDER_REDIS_URL": redis_server.url, "REJOINDER_SECRET_KEY": SECRET}
    with subprocess.Popen([sys.executable, "-m", "rejoinder", "import", SITE, str(FIXTURES / "wordpress.wxr.xml")],
                          stdout=subprocess.PIPE, stderr=child, env=env) as proc:
        os.close(child)
        out, _ = proc.communicate(timeout=120)
    screen = b""
    with contextlib.suppress(OSError):  # EIO once the child's end is closed and read dry
        while chunk := os.read(parent, 65536):
            screen += chunk
    os.close(parent)
    assert proc.returncode == 0, screen.decode(errors="replace")
    assert json.loads(out)["comments"]["imported"] == 18  # the report on standard output, as ever
    bars = [line for line in re.split(r"[\r\n]+", screen.decode()) if line.startswith("Importing")]
    last = bars[-1]  # tqdm redraws the line in place: the final state
    assert re.search(r"Importing wordpress\.wxr\.xml: 100%\|.*\| 18/18 \[.* comments/s, 2/2 threads\]", last), last

    quiet = cli(redis_server.url, "import", SITE, str(FIXTURES / "wordpress.wxr.xml"))
    assert quiet.returncode == 0 and "%|" not in quiet.stderr and "Importing" not in quiet.stderr
