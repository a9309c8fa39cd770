"""A WordPress blog's comments through Rejoinder and back into a fresh WordPress: Debian's WordPress
on a MariaDB server the test starts. WordPress exports its comments (its own export_wp), Rejoinder
imports the file and exports WXR again, and a second, fresh WordPress takes that file in. Authors,
addresses, dates, threading, approval states and each post's comment count come through."""

from __future__ import annotations

import html
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.cli import cli, cli_json
from ..support.wordpress_site import MariaDB, WordPress, missing

pytestmark = pytest.mark.wordpress

# Two posts; on the first a thread three deep, a held comment, a spam comment and a reply to a
# held one; on the second a comment with markup and an address.
POSTS = [
    {"title": "Mending a chair", "date": "2024-03-01 10:00:00", "comments": [
        {"key": "ann", "parent": None, "author": "Ann Example", "email": "ann@example.com",
         "url": "https://ann.example/", "content": "What glue did you use?", "date_gmt": "2024-03-02 08:00:05",
         "approved": "1"},
        {"key": "bo", "parent": "ann", "author": "Bo", "email": "bo@example.com", "url": "",
         "content": "Hide glue, warmed.", "date_gmt": "2024-03-02 09:30:00", "approved": "1"},
        {"key": "ann2", "parent": "bo", "author": "Ann Example", "email": "ann@example.com",
         "url": "https://ann.example/", "content": "Thank you!", "date_gmt": "2024-03-03 18:45:59", "approved": "1"},
        {"key": "held", "parent": None, "author": "Cy", "email": "cy@example.com", "url": "",
         "content": "First time here, waiting for approval.", "date_gmt": "2024-03-04 07:00:00", "approved": "0"},
        {"key": "spam", "parent": None, "author": "Cheap Pills", "email": "pills@spam.example",
         "url": "https://spam.example/", "content": "Buy now", "date_gmt": "2024-03-04 07:01:00",
         "approved": "spam"},
        {"key": "dee", "parent": "ann", "author": "Dee", "email": "", "url": "https://dee.example/",
         "content": "I use wood glue.", "date_gmt": "2024-03-05 12:00:00", "approved": "1"},
    ]},
    {"title": "Darning socks", "date": "2024-04-10 09:00:00", "comments": [
        {"key": "eve", "parent": None, "author": "Eve \"the darner\" O'Neil", "email": "eve@example.com",
         "url": "", "content": "A <strong>mushroom</strong> helps &amp; so does patience.",
         "date_gmt": "2024-04-11 23:59:00", "approved": "1"},
    ]},
]


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDB]:
    assert missing() == [], f"missing {missing()}: scripts/test.sh installs them as root"
    db = MariaDB().start()
    yield db
    db.stop()


def text(content: str) -> str:
    """What a reader reads: tags and paragraph breaks aside."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def shape(dump: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each comment as (post, author, email, url, date, text, approval, the comment it replies to),
    the reply named by its own author and date: ids differ from one WordPress to the other."""
    by_id = {c["comment_ID"]: c for c in dump["comments"]}

    def who(cid: str) -> tuple[str, str] | None:
        parent = by_id.get(cid)
        return (parent["comment_author"], parent["comment_date_gmt"]) if parent else None
    return sorted((c["post_title"], c["comment_author"], c["comment_author_email"], c["comment_author_url"].rstrip("/"),
                   c["comment_date_gmt"], text(c["comment_content"]), c["comment_approved"], who(c["comment_parent"]))
                  for c in dump["comments"])


def test_wordpress_comments_go_through_rejoinder_into_a_fresh_wordpress(
        mariadb: MariaDB, redis_server, redis_client, app_server, api, tmp_path: Path) -> None:
    run = secrets.token_hex(3)
    original = WordPress(mariadb, f"wp_original_{run}")
    original.seed(POSTS)
    before = original.dump()
    assert len(before["comments"]) == 7 and before["comment_counts"] == {"Mending a chair": 4, "Darning socks": 1}
    exported = tmp_path / "wordpress-export.xml"
    exported.write_bytes(original.export())

    # WordPress leaves spam out of its own export (export_wp: comment_approved <> 'spam').
    assert b"Cheap Pills" not in exported.read_bytes()
    expected = [c for c in shape(before) if c[6] != "spam"]

    register_site(redis_client, SITE, [app_server.page_origin, "http://localhost"])
    report = cli_json(redis_server.url, "import", SITE, str(exported))
    assert report["comments"]["imported_by_status"] == {"approved": 5, "pending": 1}
    # Here a spammer writes on the first post: Rejoinder's export carries spam as spam.
    [chair] = [w for w in report["written"] if w["title"] == "Mending a chair"]
    caught = post(api, chair["id"], "Visit my shop", name="Shop Bot", hp="https://shop.example/")["comment"]
    spam_date = redis_client.hget(keys.comments(chair["id"]), str(caught["id"]))
    spam_at = datetime.fromtimestamp(orjson.loads(spam_date)["created"] // 1000, timezone.utc)
    expected.append(("Mending a chair", "Shop Bot", "", "", spam_at.strftime("%Y-%m-%d %H:%M:%S"), "Visit my shop",
                     "spam", None))
    again = tmp_path / "rejoinder-export.xml"
    result = cli(redis_server.url, "export", SITE, "--format", "wxr", "--include-emails", "--out", str(again))
    assert result.returncode == 0, result.stderr

    fresh = WordPress(mariadb, f"wp_fresh_{run}")
    assert fresh.dump()["comments"] == []
    assert fresh.import_wxr(again) == {"posts": 2, "comments": 7}
    after = fresh.dump()
    assert shape(after) == sorted(expected)
    assert sum(1 for c in expected if c[7] is not None) == 3  # the three replies, each under its own
    assert after["comment_counts"] == before["comment_counts"]
    # Threading by the new ids: Ann's thank-you answers Bo, who answers Ann.
    by_text = {text(c["comment_content"]): c for c in after["comments"]}
    thanks, bo, ann = by_text["Thank you!"], by_text["Hide glue, warmed."], by_text["What glue did you use?"]
    assert (thanks["comment_parent"], bo["comment_parent"], ann["comment_parent"]) == (
        bo["comment_ID"], ann["comment_ID"], "0")
