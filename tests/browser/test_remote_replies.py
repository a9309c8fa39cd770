"""A thread showing native, Mastodon and Bluesky replies together, a new remote reply arriving live."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from rejoinder.store import keys

from ..conftest import SITE
from ..social.conftest import Bluesky, Mastodon, bluesky, mastodon
from ..social.test_mastodon import open_page, own_accounts
from ..support.api import post
from ..support.servers import AppServer
from .conftest import ReaderFactory
from .test_admin import open_dashboard

__all__ = ["bluesky", "mastodon"]

pytestmark = pytest.mark.browser


def test_native_mastodon_and_bluesky_replies_in_one_live_thread(
        reader: ReaderFactory, api: httpx.Client, redis_client, app_server: AppServer,
        mastodon: Mastodon, bluesky: Bluesky, live_endpoint: bool) -> None:
    own_accounts(redis_client, mastodon.profile("owner"), "owner.bsky.social")
    toot = mastodon.post("owner", "New post on the blog", favourites=7, reblogs=2)
    mastodon.post("alice", "Replying from the fediverse", in_reply_to_id=toot["id"], display_name="Alice Fedi")
    skeet = bluesky.post("owner.bsky.social", "New post on the blog", likes=4, reposts=1)
    bluesky.post("carol.bsky.social", "Replying from Bluesky", reply_to=skeet["uri"], display_name="Carol Sky")
    thread = open_page(api, page="remote-replies")
    post(api, thread["id"], "Replying right here", name="Nat")

    r = reader().open_html(f"""<!doctype html><html lang="en"><title>Remote replies</title>
      <body><main><h1>A post</h1><div id="rejoinder"></div></main>
      <script src="{app_server.base}/embed.js" data-site="{SITE}" data-page="remote-replies"
        data-mastodon="{toot['url']}" data-bluesky="{skeet['url']}" async></script></body></html>""")
    expect(r.comment("Replying right here")).to_be_visible()
    # The first look is made as the page names its posts: the replies arrive live, without a reload.
    fedi = r.comment("Replying from the fediverse").locator(":scope > article")
    sky = r.comment("Replying from Bluesky").locator(":scope > article")
    expect(fedi).to_be_visible(timeout=20_000)
    expect(sky).to_be_visible(timeout=20_000)
    expect(fedi.locator(".rj-name")).to_have_text("Alice Fedi")
    expect(fedi.locator("a.rj-via")).to_have_text("on Mastodon")
    expect(sky.locator("a.rj-via")).to_have_text("on Bluesky")
    assert sky.locator("a.rj-via").get_attribute("href", timeout=5000).startswith(
        "https://bsky.app/profile/carol.bsky.social/post/")
    expect(fedi.locator("img.rj-avatar")).to_have_attribute("src", re.compile(r"^/api/avatars/u/"))
    head = r.frame.locator("header.rj-head")
    expect(head.locator("a.rj-onremote", has_text="on Mastodon")).to_have_text("7 likes, 2 boosts on Mastodon",
                                                                              timeout=20_000)
    expect(head.locator("a.rj-onremote", has_text="on Bluesky")).to_have_text("4 likes, 1 repost on Bluesky")
    expect(r.frame.locator("h2.rj-title")).to_contain_text("3 thoughts")

    # A new reply on Mastodon, and a boost: both reach the open page live.
    mastodon.post("dave", "A late reply from the fediverse", in_reply_to_id=toot["id"])
    mastodon.edit(toot["id"], reblogs=3)
    expect(r.comment("A late reply from the fediverse")).to_be_visible(timeout=20_000)
    expect(head.locator("a.rj-onremote", has_text="on Mastodon")).to_have_text("7 likes, 3 boosts on Mastodon",
                                                                              timeout=20_000)
    expect(r.frame.locator("h2.rj-title")).to_contain_text("4 thoughts")
    r.screenshot("remote-replies")


def test_the_dashboard_names_the_sites_own_accounts(reader: ReaderFactory, redis_client, app_server) -> None:
    r, _ = open_dashboard(reader, redis_client, app_server)
    page = r.page
    page.get_by_role("button", name="Settings").click()
    # The tab fills its form from the server first: type after that, as a reader would see it done.
    expect(page.locator('#settings input[value="publish"]')).to_be_checked()
    accounts = page.get_by_label(re.compile("^Your Mastodon and Bluesky accounts"))
    accounts.fill("https://mastodon.social/@me\nme.bsky.social")
    page.get_by_role("button", name="Save settings").click()
    page.locator("#announce", has_text="Settings saved.").wait_for()
    assert json.loads(redis_client.hget(keys.site(SITE), "remote_authors")) == [
        "https://mastodon.social/@me", "me.bsky.social"]
    # Something that is no account is refused, and said so; what was saved stays.
    r.expect_refusal(422)
    accounts.fill("https://mastodon.social/@me/123")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#error")).to_contain_text("remote_authors")
    page.reload()
    page.get_by_role("button", name="Settings").click()
    expect(accounts).to_have_value("https://mastodon.social/@me\nme.bsky.social")
