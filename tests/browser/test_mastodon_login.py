"""Sign-in with Mastodon from the widget, with third-party cookies and storage blocked: the popup asks
for the reader's server, their server (the local one) asks them to authorize, and the handover ends in
the frame as for every sign-in."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from ..support.servers import MastodonServer
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def masto(mastodon_server: MastodonServer) -> Iterator[MastodonServer]:
    httpx.post(f"{mastodon_server.base}/_admin/reset").raise_for_status()
    yield mastodon_server


def test_sign_in_with_mastodon_post_reload_and_log_out(reader: ReaderFactory, masto: MastodonServer) -> None:
    r = reader().open_demo()
    r.expect_refusal(404)  # the frame asks for its handover while the popup runs
    f = r.frame
    assert f.locator("html").evaluate("() => { try { return !!window.localStorage } catch (e) { return false } }") is False

    with r.page.expect_popup() as opened:
        f.get_by_role("button", name="Log in with Mastodon").click()
    popup = opened.value
    popup.get_by_label("Your server").fill("not a server")
    popup.get_by_role("button", name="Continue").click()
    expect(popup.get_by_role("alert")).to_contain_text("not a server")
    popup.get_by_label("Your server").fill(masto.base)
    popup.get_by_role("button", name="Continue").click()
    # At the reader's own server: signed in there as "maud", they authorize the app.
    expect(popup.get_by_role("heading")).to_contain_text("Rejoinder comments would like to access your account")
    popup.get_by_label("Signed in as").fill("maud")
    popup.get_by_role("button", name="Authorize").click()
    f.get_by_text("You are commenting using your Mastodon account.", exact=False).first.wait_for()

    r.field("Comment").fill("Signed in with Mastodon.")
    f.get_by_role("button", name="Post Comment").click()
    mine = r.comment("Signed in with Mastodon.")
    mine.wait_for()
    expect(mine.locator(".rj-name")).to_have_text("Maud")
    assert (mine.locator("img.rj-avatar").get_attribute("src") or "").startswith("/api/avatars/u/")

    r.reload()
    r.frame.get_by_text("You are commenting using your Mastodon account.", exact=False).first.wait_for()
    expect(r.comment("Signed in with Mastodon.").get_by_role("button", name="Edit")).to_have_count(1)

    r.frame.get_by_role("button", name="Log Out").click()
    r.field("Name").wait_for()
    expect(r.frame.get_by_role("button", name="Log in with Mastodon")).to_be_visible()
