"""The pieces of remote following that need no server: what a page may name, how long a thread waits,
what a server's rate-limit headers mean, and what remote text becomes."""

from __future__ import annotations

import asyncio
import time

import httpx
import httpx2
import pytest

from rejoinder.settings import Settings
from rejoinder.social import fetch, posts, refs
from rejoinder.social.follow import interval

from ..support.servers import MastodonServer


def test_status_urls() -> None:
    status = refs.mastodon_status("https://mastodon.social/@owner/113456789012345678")
    assert status == refs.Status("https://mastodon.social", "113456789012345678",
                                 "https://mastodon.social/@owner/113456789012345678")
    assert refs.mastodon_status("https://hachyderm.io/users/owner/statuses/11") .id == "11"
    for bad in ("https://mastodon.social/@owner", "ftp://x/@a/1", "https://x/@a/1?x=1", "https://x/@a/1#f",
                "https://u:p@x/@a/1", "https://x:99999/@a/1", "https://x/@a/../1", "", None, 5):
        assert refs.mastodon_status(bad) is None, bad


def test_bluesky_posts() -> None:
    did = "did:plc:abcdefghijklmnopqrstuvwx"
    assert refs.bluesky_post(f"at://{did}/app.bsky.feed.post/3kabc").uri == f"at://{did}/app.bsky.feed.post/3kabc"
    assert refs.bluesky_post("https://bsky.app/profile/Owner.bsky.social/post/3kabc") == \
        refs.Post("owner.bsky.social", "3kabc")
    for bad in (f"at://{did}/app.bsky.feed.like/3kabc", "at://not a handle/app.bsky.feed.post/x",
                "https://bsky.app/profile/owner.bsky.social", "javascript:alert(1)"):
        assert refs.bluesky_post(bad) is None, bad


def test_site_accounts() -> None:
    assert refs.author("https://Mastodon.Social/@Owner/") == "https://mastodon.social/@owner"
    assert refs.author("@Owner.bsky.social") == "owner.bsky.social"
    assert refs.author("did:plc:abcdefghijklmnopqrstuvwx") == "did:plc:abcdefghijklmnopqrstuvwx"
    assert refs.author("https://mastodon.social/@owner/123") is None
    assert refs.author("<script>") is None
    assert refs.same_account("https://mastodon.social/@Owner", ["https://mastodon.social/@owner"])
    assert not refs.same_account("https://evil.example/@owner", ["https://mastodon.social/@owner"])


def test_waits_grow_with_quiet_and_failures() -> None:
    hour = 3600 * 1000
    assert interval(60, 0, 0) == 60
    assert interval(60, 2 * hour, 0) == 180
    assert interval(60, 3 * 24 * hour, 0) == 900
    assert interval(60, 10 * 24 * hour, 0) == 3600
    assert interval(60, 100 * 24 * hour, 0) == 6 * 3600
    assert interval(60, 0, 1) == 120 and interval(60, 0, 3) == 480
    assert interval(60, 0, 40) == 6 * 3600


def test_rate_limit_headers() -> None:
    now = 1_800_000_000.0
    # Mastodon: an ISO reset; plenty left is no wait, the reserve reached is a wait until the reset.
    mastodon = {"x-ratelimit-limit": "300", "x-ratelimit-reset": "2027-01-15T08:05:00.000Z"}
    assert fetch.wait_asked(httpx2.Headers({**mastodon, "x-ratelimit-remaining": "250"}), 200, now) == 0
    assert fetch.wait_asked(httpx2.Headers({**mastodon, "x-ratelimit-remaining": "1"}), 200, now) == (now + 300) * 1000
    spent = fetch.wait_asked(httpx2.Headers({"ratelimit-remaining": "0", "ratelimit-reset": str(int(now) + 120)}),
                             200, now)
    assert spent == (now + 120) * 1000
    assert fetch.wait_asked(httpx2.Headers({"retry-after": "30"}), 429, now) == (now + 30) * 1000
    assert fetch.wait_asked(httpx2.Headers({}), 429, now) == (now + 60) * 1000
    # A reset a year away is taken as six hours at most; a garbage one is no wait.
    far = fetch.wait_asked(httpx2.Headers({"ratelimit-remaining": "0", "ratelimit-reset": str(int(now) + 10**7)}),
                           200, now)
    assert far == (now + fetch.MAX_WAIT_SECONDS) * 1000
    assert fetch.wait_asked(httpx2.Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon"}), 200, now) == 0


def test_remote_text_is_plain_text() -> None:
    html = ('<p><span class="h-card"><a href="https://x/@owner" class="u-url mention">@<span>owner</span></a></span>'
            ' Hello <b>there</b> &amp; <script>alert(1)</script><br>line two</p><p>'
            '<a href="https://example.com/a/very/long/path"><span class="invisible">https://</span>'
            '<span class="ellipsis">example.com/a/very/</span><span class="invisible">long/path</span></a></p>')
    assert posts.html_text(html) == "Hello there & alert(1)\nline two\n\nhttps://example.com/a/very/long/path"
    assert posts.web_url("javascript:alert(1)") == "" and posts.web_url("https://x/y") == "https://x/y"
    assert posts.count(-1) == 0 and posts.count(True) == 0 and posts.count(5) == 5


def test_the_address_guard_stands_before_every_remote_request() -> None:
    server = MastodonServer().start()
    try:
        settings = Settings(fetch_private_ok=False, secret_key="x" * 32)

        async def ask() -> str:
            async with httpx2.AsyncClient() as client:
                with pytest.raises(fetch.RemoteError) as caught:
                    await fetch.get_json(client, settings, f"{server.base}/api/v1/statuses/1")
                return caught.value.category
        assert asyncio.run(ask()) == "refused_address"
        time.sleep(0.2)
        assert httpx.get(f"{server.base}/_admin/requests").json() == []  # nothing reached it
    finally:
        server.stop()
