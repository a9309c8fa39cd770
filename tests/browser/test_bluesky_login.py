"""Sign-in with Bluesky from the widget, with third-party cookies and storage blocked: the popup asks for
the reader's handle, their authorization server (the local atproto stand-in) asks them to accept, and
the handover ends in the frame as for every sign-in."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from ..support.servers import AtprotoPds
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def pds(atproto_pds: AtprotoPds) -> Iterator[AtprotoPds]:
    httpx.post(f"{atproto_pds.base}/_admin/reset").raise_for_status()
    yield atproto_pds


def test_sign_in_with_bluesky_post_reload_and_log_out(reader: ReaderFactory, pds: AtprotoPds) -> None:
    r = reader().open_demo()
    r.expect_refusal(404)  # the frame asks for its handover while the popup runs
    f = r.frame
    assert f.locator("html").evaluate("() => { try { return !!window.localStorage } catch (e) { return false } }") is False

    with r.page.expect_popup() as opened:
        f.get_by_role("button", name="Log in with Bluesky").click()
    popup = opened.value
    popup.get_by_label("Your handle").fill("not a handle at all")
    popup.get_by_role("button", name="Continue").click()
    expect(popup.get_by_role("alert")).to_contain_text("That is not a handle")
    popup.get_by_label("Your handle").fill("@ann.test")
    popup.get_by_role("button", name="Continue").click()
    # At the reader's own server: they accept.
    popup.locator("#accept").click()
    f.get_by_text("You are commenting using your Bluesky account.", exact=False).first.wait_for()

    r.field("Comment").fill("Signed in with Bluesky.")
    f.get_by_role("button", name="Post Comment").click()
    mine = r.comment("Signed in with Bluesky.")
    mine.wait_for()
    expect(mine.locator(".rj-name")).to_have_text("Ann Atwood")
    assert (mine.locator("img.rj-avatar").get_attribute("src") or "").startswith("/api/avatars/u/")

    r.reload()
    r.frame.get_by_text("You are commenting using your Bluesky account.", exact=False).first.wait_for()
    expect(r.comment("Signed in with Bluesky.").get_by_role("button", name="Edit")).to_have_count(1)

    r.frame.get_by_role("button", name="Log Out", exact=True).click()
    r.field("Name").wait_for()
    expect(r.frame.get_by_role("button", name="Log in with Bluesky")).to_be_visible()
