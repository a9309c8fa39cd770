"""Moving a blog from the dashboard in Chromium: preview a remap, carry it out, merge two threads."""

from __future__ import annotations

import httpx
import pytest

from ..conftest import SITE, register_site
from ..support.api import post
from .conftest import ReaderFactory
from .test_admin import open_dashboard

pytestmark = pytest.mark.browser


def thread_of(api: httpx.Client, page: str) -> dict:
    return api.get("/api/threads", params={"site": SITE, "page": page}).json()


def test_an_admin_previews_a_remap_moves_the_threads_and_merges_two(
        reader: ReaderFactory, redis_client, app_server, api: httpx.Client) -> None:
    pages = app_server.page_origin
    register_site(redis_client, SITE, [pages])
    for slug, words in (("alpha", "Alpha's comment"), ("beta", "Beta's comment")):
        post(api, thread_of(api, f"{pages}/2019/{slug}")["thread"]["id"], words)
    post(api, thread_of(api, f"{pages}/blog/beta")["thread"]["id"], "Already on the new page")

    r, _ = open_dashboard(reader, redis_client, app_server)
    page = r.page
    page.get_by_role("button", name="Import & export").click()
    rules = page.get_by_label("Rules, one per line")
    rules.fill(f"{pages}/2019/* {pages}/blog")
    page.get_by_role("button", name="Preview").click()
    page.locator("#remap-status", has_text="end both addresses with *, or neither").wait_for()
    rules.fill(f"\n{pages}/2019/* {pages}/blog/*\n")
    page.get_by_role("button", name="Preview").click()
    page.locator("#remap-rows tr").nth(1).wait_for()
    rows = {tr.locator("td").first.inner_text(): tr.locator("td").last.inner_text()
            for tr in page.locator("#remap-rows tr").all()}
    assert rows == {f"{pages}/2019/alpha": "moves",
                    f"{pages}/2019/beta": "not moved: the new page has comments (tick merge)"}
    assert page.locator("#remap-status").inner_text() == "1 would move; 1 left where they are."
    assert [c["html"] for c in thread_of(api, f"{pages}/blog/alpha")["comments"]] == []  # a preview moves nothing

    page.get_by_role("button", name="Move these threads").click()
    page.locator("#remap-status", has_text="1 moved; 1 left where they are.").wait_for()
    assert [c["html"] for c in thread_of(api, f"{pages}/blog/alpha")["comments"]] == ["<p>Alpha's comment</p>"]
    assert page.get_by_role("button", name="Move these threads").is_disabled()

    page.get_by_label("Page whose comments move (URL or page id)").fill(f"{pages}/2019/beta")
    page.get_by_label("Page that takes them").fill(f"{pages}/blog/beta")
    page.get_by_role("button", name="Merge").click()
    page.locator("#merge-status", has_text="Moved 1 comment into").wait_for()
    assert "which now has 2" in page.locator("#merge-status").inner_text()
    assert [c["html"] for c in thread_of(api, f"{pages}/blog/beta")["comments"]] == [
        "<p>Already on the new page</p>", "<p>Beta's comment</p>"]
