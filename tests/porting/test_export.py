"""`rejoinder export`: the owner's JSON of a site, and a WXR file that goes back in (to WordPress or to us)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import parse as parse_xml

from ..conftest import SITE, register_site
from ..support.api import all_comments, post
from ..support.cli import cli, cli_json
from ..support.invariants import thread_problems
from .test_import import RIVER, WALK_ONE, find, import_fixture, open_page

WP = "{http://wordpress.org/export/1.2/}"


def export(redis_server: Any, tmp_path: Path, *args: str, site: str = SITE, process: bool = False) -> Path:
    out = tmp_path / f"{site}-{len(list(tmp_path.iterdir()))}.out"
    result = cli(redis_server.url, "export", site, "--out", str(out), *args, process=process)
    assert result.returncode == 0, result.stderr
    return out


def seed(redis_server: Any, api: Any, other_reader: Any) -> dict[str, Any]:
    """Both fixtures imported, plus comments and likes made here, on a URL page and on a page id."""
    import_fixture(redis_server, "wordpress.wxr.xml")
    import_fixture(redis_server, "disqus.xml")
    tid = open_page(api, "my-post-42")["id"]
    root = post(api, tid, "Made *here*", name="Uma", email="uma@example.com", website="uma.example")["comment"]
    post(other_reader, tid, "A reply made here", name="Vic", parent=root["id"])
    assert api.put(f"/api/threads/{tid}/comments/{root['id']}/like").status_code == 200
    assert other_reader.put(f"/api/threads/{tid}/like").status_code == 200
    return {"native": tid}


def test_json_export_has_every_thread_and_comment_and_emails_only_when_asked(redis_server, api, other_reader,
                                                                              tmp_path: Path) -> None:
    seed(redis_server, api, other_reader)
    path = export(redis_server, tmp_path, "--format", "json")
    data = json.loads(path.read_text())
    assert data["format"] == "rejoinder-export" and data["site"]["id"] == SITE and not data["emails_included"]
    threads = {t["page"]: t for t in data["threads"]}
    assert set(threads) == {RIVER, "https://blog.example/2024/03/second-walk/", WALK_ONE,
                            "https://blog.example/walks/two/", "my-post-42"}
    river = threads[RIVER]
    assert river["title"] == "Hello, river" and river["url"] == RIVER and river["count"] == 13
    statuses = sorted(c["status"] for c in river["comments"])
    assert statuses.count("pending") == 1 and statuses.count("spam") == 1 and statuses.count("deleted") == 1
    first = find(river["comments"], "Lovely walk")
    assert first["author"] == {"name": "Ann Walker", "website": "https://ann.example", "kind": "guest",
                               "provider": None, "profile": None}
    assert first["text"] == "Lovely walk.\n\nWhich bridge was that?" and first["likes"] == 3
    assert first["created"] == "2024-03-01T10:00:00.000Z" and first["source"] == "wxr:101"
    reply = find(river["comments"], "old stone one")
    assert reply["parent"] == first["id"]
    native = threads["my-post-42"]
    assert native["url"] is None and native["likes"] == 1 and native["count"] == 2
    made = find(native["comments"], "Made")
    assert made["html"] == "<p>Made <em>here</em></p>" and made["text"] == "Made *here*" and made["likes"] == 1
    # No email, and none of the hashes we keep (IP, client, edit token).
    text = path.read_text()
    for secret in ("@", "edit_hash", '"ip"', '"owner"', "email"):
        assert secret not in text.replace('"emails_included":false', "")

    with_emails = json.loads(export(redis_server, tmp_path, "--format", "json", "--include-emails").read_text())
    river = {t["page"]: t for t in with_emails["threads"]}[RIVER]
    assert find(river["comments"], "Lovely walk")["email"] == "ann@walkers.example"
    assert find(river["comments"], "old stone one")["email"] is None


def test_one_commenters_data_can_be_exported_on_request(redis_server, api, other_reader, tmp_path: Path) -> None:
    seed(redis_server, api, other_reader)
    data = json.loads(export(redis_server, tmp_path, "--email", "Nia@Example.com", "--include-emails").read_text())
    comments = [c for t in data["threads"] for c in t["comments"]]
    assert len(comments) == 2 and {c["author"]["name"] for c in comments} == {"Nia"}
    assert {c["email"] for c in comments} == {"nia@example.com"}


def test_wxr_export_is_a_wordpress_import_file(redis_server, api, other_reader, tmp_path: Path) -> None:
    seed(redis_server, api, other_reader)
    root = parse_xml(str(export(redis_server, tmp_path, "--format", "wxr", process=True)), forbid_dtd=True).getroot()
    assert root.tag == "rss" and root.find(f"channel/{WP}wxr_version").text == "1.2"
    items = root.findall("channel/item")
    assert len(items) == 5
    ids = [c.find(f"{WP}comment_id").text for item in items for c in item.findall(f"{WP}comment")]
    assert len(ids) == len(set(ids))  # WordPress keys comments by id across the file
    river = next(i for i in items if i.find("link").text == RIVER)
    assert river.find("title").text == "Hello, river"
    comments = {c.find(f"{WP}comment_id").text: c for c in river.findall(f"{WP}comment")}
    lovely = next(c for c in comments.values() if "Lovely" in c.find(f"{WP}comment_content").text)
    assert lovely.find(f"{WP}comment_author").text == "Ann Walker"
    assert lovely.find(f"{WP}comment_date_gmt").text == "2024-03-01 10:00:00"
    assert lovely.find(f"{WP}comment_approved").text == "1"
    assert lovely.find(f"{WP}comment_author_email").text is None  # emails only with --include-emails
    # The true parent of a reply past the depth cap (WordPress nests deeper than we do).
    six = next(c for c in comments.values() if "Depth six" in c.find(f"{WP}comment_content").text)
    five = next(c for c in comments.values() if "Depth five" in c.find(f"{WP}comment_content").text)
    assert six.find(f"{WP}comment_parent").text == five.find(f"{WP}comment_id").text
    approvals = sorted(c.find(f"{WP}comment_approved").text for c in comments.values())
    assert approvals.count("0") == 1 and approvals.count("spam") == 1 and approvals.count("trash") == 1


def _shape(comments: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """A thread's comments as an owner would compare them: who, what, when, under what, likes."""
    by_id = {c["id"]: c for c in comments}

    def ref(cid: int | None) -> Any:
        return None if cid is None else (by_id[cid]["created"][:19], by_id[cid]["html"])

    # WXR dates are to the second.
    return sorted((c["created"][:19], c["html"], c["status"], c["depth"], (c["author"] or {}).get("name"),
                   (c["author"] or {}).get("website"), ref(c["parent"]), ref(c["reply_to"]), c["likes"])
                  for c in comments)


def test_wxr_round_trip_keeps_threads_nesting_authors_and_counts(redis_server, redis_client, api, other_reader,
                                                                 tmp_path: Path) -> None:
    seed(redis_server, api, other_reader)
    wxr = export(redis_server, tmp_path, "--format", "wxr", "--include-emails")
    register_site(redis_client, "copy", ["https://copy.example"])
    report = cli_json(redis_server.url, "import", "copy", str(wxr))
    assert report["skipped"] == [] and report["threads"]["created"] == 5

    original = json.loads(export(redis_server, tmp_path, "--format", "json").read_text())
    for thread in original["threads"]:
        page = thread["page"]
        mine, theirs = open_page(api, page), open_page(api, page, site="copy")
        for field in ("title", "count", "likes", "locked", "url"):
            assert theirs[field] == mine[field], (page, field)
        # What readers see, through the API...
        assert _shape(all_comments(api, theirs["id"])) == _shape(all_comments(api, mine["id"])), page
        assert thread_problems(redis_client, theirs["id"]) == []
    # ...and what only the owner sees (held and spam comments), through a second export.
    copy = json.loads(export(redis_server, tmp_path, "--format", "json", site="copy").read_text())
    assert {t["page"]: _shape(t["comments"]) for t in copy["threads"]} == \
        {t["page"]: _shape(t["comments"]) for t in original["threads"]}
    # Emails travelled with the file: the copy can still forget a commenter by address.
    forgotten = cli_json(redis_server.url, "forget", "copy", "--email", "nia@example.com")
    assert forgotten["comments"] == 2 and forgotten["placeholders"] == 1
    comments = all_comments(api, open_page(api, WALK_ONE, site="copy")["id"])
    [placeholder] = [c for c in comments if c["id"] == find(comments, "at noon")["parent"]]
    assert placeholder["status"] == "deleted" and not any("Great route" in c["html"] for c in comments)
