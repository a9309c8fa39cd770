"""The dashboard's overview in Chromium: a site with a known history, and the figures each chart shows."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.live import connect
from .conftest import ARTIFACTS, AXE, ReaderFactory
from .test_accessibility import WCAG
from .test_admin import open_dashboard

pytestmark = pytest.mark.browser

# Days back -> (published, held, spam) written as the counters keep them, and what caught them.
HISTORY = {1: (6, 1, 2), 3: (9, 0, 0), 12: (4, 2, 5), 29: (2, 0, 1), 45: (8, 0, 0), 200: (5, 1, 3)}
CAUGHT_BEFORE = {"akismet": 6, "too_many_links": 5, "policy_first_guest": 4}


def seed(redis_client, app_server, api: httpx.Client) -> list[dict]:
    """Today through the API (two threads, each way a comment can arrive); earlier days as stored."""
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_links")
    threads = []
    for page, title in (("/busy-post", "The busy post"), ("/quiet-post", "A quiet post")):
        r = api.get("/api/threads", params={"site": SITE, "page": page, "title": title,
                                            "url": f"{app_server.page_origin}{page}"})
        threads.append(r.json()["thread"])
    busy, quiet = threads
    for i in range(4):
        post(api, busy["id"], f"Published number {i}.")
    post(api, busy["id"], "Held for its link https://example.com/a")
    post(api, busy["id"], "Caught", hp="http://spam.example")
    post(api, quiet["id"], "The only one here.")
    now = datetime.now(timezone.utc)
    for back, (ok, held, spam) in HISTORY.items():
        day = (now - timedelta(days=back)).strftime("%Y%m%d")
        redis_client.hset(keys.stats_day(SITE, day), mapping={"new:approved": ok, "new:pending": held,
                                                               "new:spam": spam})
    yesterday = (now - timedelta(days=1)).strftime("%Y%m%d")
    redis_client.hset(keys.stats_day(SITE, yesterday), mapping={
        **{f"caught:{k}": v for k, v in CAUGHT_BEFORE.items()}, "mail:sent": 19, "mail:deferred": 1,
        "hook:ok": 40})
    return threads


def figures(page, selector: str) -> dict[str, str]:
    return page.eval_on_selector_all(
        f"{selector} li", "els => Object.fromEntries(els.map(e => [e.dataset.label || e.dataset.series,"
                          " e.querySelector('.figure').textContent]))")


def test_the_overview_shows_a_sites_known_history(reader: ReaderFactory, redis_client, app_server,
                                                   api: httpx.Client) -> None:
    busy, quiet = seed(redis_client, app_server, api)
    stop = threading.Event()

    async def two_readers() -> None:
        readers = [await connect(app_server.ws_base, busy["id"], origin=app_server.page_origin,
                                 client=f"overview-browser-{i:03d}") for i in range(2)]
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for r in readers:
            await r.close()
    watching = threading.Thread(target=asyncio.run, args=(two_readers(),), daemon=True)
    watching.start()
    try:
        r, _ = open_dashboard(reader, redis_client, app_server)
        page = r.page
        page.set_viewport_size({"width": 1100, "height": 1000})
        page.get_by_role("button", name="Overview").click()
        page.locator("#overview-days svg").wait_for()
        # Readers on a live thread reach the figure within a few seconds (each node says so every 5 s).
        deadline = time.monotonic() + 20
        while page.locator("[data-stat=readers] .figure").inner_text() != "2":
            assert time.monotonic() < deadline, page.locator("[data-stat=readers] .figure").inner_text()
            page.wait_for_timeout(500)
            page.get_by_role("button", name="30 days").click()

        # 30 days: today (4 + 1 on the quiet post published, 1 held, 1 spam) and the seeded days within 29.
        month = [v for k, v in HISTORY.items() if k <= 29]
        published = 5 + sum(v[0] for v in month)
        held = 1 + sum(v[1] for v in month)
        spam = 1 + sum(v[2] for v in month)
        assert figures(page, "#overview-days .legend") == {"approved": str(published), "pending": str(held),
                                                           "spam": str(spam)}
        assert page.locator("#overview-days g.day").count() == 30
        today = datetime.now(timezone.utc)
        day12 = (today - timedelta(days=12)).strftime("%Y-%m-%d")
        column = page.locator(f"#overview-days g.day[data-day='{day12}']")
        assert (column.get_attribute("data-approved"), column.get_attribute("data-pending"),
                column.get_attribute("data-spam")) == ("4", "2", "5")
        assert column.locator("rect:not(.hit)").count() == 3  # three coloured parts, stacked
        last = page.locator("#overview-days g.day").last
        assert last.get_attribute("data-day") == today.strftime("%Y-%m-%d")
        assert last.locator("title").text_content().endswith("5 published, 1 held, 1 spam")
        assert page.locator("[data-stat=new] .figure").inner_text() == str(published + held + spam)
        assert page.locator("[data-stat=spam] .figure").inner_text() == str(spam)

        assert figures(page, "#overview-caught") == {"akismet": "6", "too_many_links": "5",
                                                     "policy_first_guest": "4", "honeypot": "1",
                                                     "policy_hold_links": "1"}
        assert page.locator("#overview-caught li").first.locator(".name").inner_text() == "Akismet"
        assert figures(page, "#overview-busiest") == {busy["id"]: "6", quiet["id"]: "1"}
        link = page.locator("#overview-busiest li").first.locator("a")
        assert (link.inner_text(), link.get_attribute("href")) == ("The busy post",
                                                                  f"{app_server.page_origin}/busy-post")
        assert page.locator("[data-stat=mail] .figure").inner_text() == "95%"  # 19 of 20 tries
        assert page.locator("[data-stat=webhooks] .figure").inner_text() == "100%"
        page.evaluate("document.fonts.ready")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

        # A year: 365 columns, the older history counted too.
        page.get_by_role("button", name="365 days").click()
        deadline = time.monotonic() + 10
        while page.locator("#overview-days g.day").count() != 365:
            assert time.monotonic() < deadline
            page.wait_for_timeout(100)
        year = sum(v[0] for v in HISTORY.values()) + 5
        assert figures(page, "#overview-days .legend")["approved"] == str(year)

        page.evaluate(AXE.read_text())
        violations = page.evaluate("""async (tags) => {
          const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
          return r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
        }""", WCAG)
        assert violations == []
    finally:
        stop.set()
        watching.join(10)
