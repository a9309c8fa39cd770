"""The dashboard's Webhook and Import & export tabs in Chromium: a delivery shows in the log after a comment,
the export button downloads a JSON file with the comment, and an imported file's report shows."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import post
from ..support.cli import cli
from ..support.exports import wxr
from .conftest import AXE, ReaderFactory
from .test_accessibility import WCAG
from .test_admin import open_dashboard

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parents[1] / "porting" / "fixtures"
AXE_RUN = """async (tags) => {
  const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                  nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) }));
}"""


def test_webhook_panel_shows_a_delivery_after_a_comment(
        reader: ReaderFactory, redis_client, app_server, api: httpx.Client, thread: dict, webhook_receiver) -> None:
    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": []}).raise_for_status()
    r, _ = open_dashboard(reader, redis_client, app_server)
    page = r.page
    page.get_by_role("button", name="Webhook").click()
    page.locator("#webhook-empty").wait_for()
    assert page.locator("#webhook-state").inner_text().startswith("Off")

    page.get_by_label("Endpoint URL").fill(webhook_receiver.url)
    page.get_by_role("button", name="Save").click()
    secret = page.locator("#webhook-secret-value")
    secret.wait_for()
    assert secret.inner_text().startswith("whsec_")
    assert webhook_receiver.url in page.locator("#webhook-state").inner_text()

    post(api, thread["id"], "Hello, hook <b>bold</b>", name="<img src=x onerror=alert(1)>")
    row = page.locator("#webhook-rows tr", has_text="comment.created")
    row.wait_for(timeout=15_000)  # the panel reads the log again on its own
    assert row.locator(".result").inner_text() == "HTTP 200"
    assert row.locator("td").nth(2).inner_text() == "1"
    calls = [c for c in httpx.get(f"{webhook_receiver.base}/_calls").json() if thread["id"] in c["body"]]
    assert len(calls) == 1

    # Off: the state says so and the log stays.
    page.get_by_role("button", name="Turn off").click()
    page.locator("#webhook-state", has_text="Off").wait_for()
    assert page.locator("#webhook-secret").is_hidden()
    assert page.locator("#webhook-rows tr").count() == 1


def test_export_button_downloads_json_with_the_comment_and_import_shows_its_report(
        reader: ReaderFactory, redis_client, app_server, api: httpx.Client, thread: dict) -> None:
    post(api, thread["id"], "Keep me in the export", name="Ann", email="ann@example.com")
    r, _ = open_dashboard(reader, redis_client, app_server)
    page = r.page
    page.get_by_role("button", name="Import & export").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download JSON").click()
    download = info.value
    assert download.suggested_filename.startswith("demo-comments-") and download.suggested_filename.endswith(".json")
    text = Path(download.path()).read_text()
    doc = json.loads(text)
    assert [c["text"] for t in doc["threads"] for c in t["comments"]] == ["Keep me in the export"]
    assert "ann@example.com" not in text
    page.locator("#announce", has_text="Export downloaded").wait_for()

    page.locator("#import-file").set_input_files(str(FIXTURES / "wordpress.wxr.xml"))
    page.get_by_role("button", name="Import", exact=True).click()
    summary = page.locator("#import-summary")
    summary.wait_for(timeout=15_000)
    assert summary.inner_text().startswith("Imported 18 comments")
    assert page.locator("#import-status").inner_text().startswith("Done")

    # A bad file: the importer's message, and nothing imported.
    r.expect_refusal(422)
    page.locator("#import-file").set_input_files(str(FIXTURES / "not-an-export.xml"))
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("#import-status", has_text="Nothing was imported.").wait_for()
    assert page.locator("#error").inner_text()
    assert page.locator("#import-report").is_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_webhook_and_import_export_tabs_have_no_axe_violations(
        reader: ReaderFactory, redis_client, app_server, api: httpx.Client, thread: dict, scheme: str) -> None:
    assert AXE.exists(), "axe-core is missing: run `npm ci` in widget/"
    post(api, thread["id"], "Logged", name="Ann")
    r, _ = open_dashboard(reader, redis_client, app_server, scheme)
    page = r.page
    page.evaluate(AXE.read_text())
    for tab, ready in (("Webhook", "#webhook-state"), ("Import & export", "#import-form")):
        page.get_by_role("button", name=tab).click()
        page.locator(ready).wait_for()
        if tab == "Webhook":
            page.get_by_label("Endpoint URL").fill("https://example.invalid/hook")
            page.get_by_role("button", name="Save").click()
            page.locator("#webhook-secret-value").wait_for()
        result = page.evaluate(AXE_RUN, WCAG)
        assert result == [], (tab, result)


def test_the_import_tab_shows_an_uploads_progress_then_the_servers(
        reader: ReaderFactory, redis_client, app_server, tmp_path: Path) -> None:
    """On a slow line the reader sees the upload's percentage grow, then the report; an import
    run meanwhile from the command line shows in the tab with its bar, and the Import button
    waits until it is over."""
    r, _ = open_dashboard(reader, redis_client, app_server)
    page = r.page
    page.get_by_role("button", name="Import & export").click()
    page.locator("#import-form").wait_for()
    bar = page.locator("#import-progress")
    assert bar.is_hidden()

    # An upload over a 40 kB/s line: two seconds for this file.
    small = tmp_path / "walks.xml"
    small.write_bytes(wxr(120))
    cdp = r.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                   "uploadThroughput": 40_000})
    page.locator("#import-file").set_input_files(str(small))
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("#import-status", has_text="Uploading walks.xml").wait_for()
    assert bar.is_visible()
    page.locator("#import-status", has_text=re.compile(r"Uploading walks\.xml: [1-9]\d?% of 88 kB")).wait_for()
    page.locator("#import-summary").wait_for(timeout=30_000)
    assert page.locator("#import-summary").inner_text().startswith("Imported 120 comments")
    assert page.locator("#import-status").inner_text().startswith("Done") and bar.is_hidden()
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                   "uploadThroughput": -1})

    # Someone runs `rejoinder import` on the server with the tab open (the tab looks every few
    # seconds; going back to it looks at once). A few seconds of writing on this machine.
    big = tmp_path / "big.xml"
    big.write_bytes(wxr(2, words=3, posts=8000))
    result = {}
    runner = threading.Thread(target=lambda: result.update(
        cli=cli(app_server.redis_url, "import", SITE, str(big), process=True)))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not redis_client.exists(keys.import_lock(SITE)) and runner.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        page.get_by_role("button", name="Import & export").click()
        page.locator("#import-status", has_text=re.compile(r"Writing: [\d,]+ of 8,000 threads")).wait_for(
            timeout=20_000)
        assert bar.is_visible() and 0 <= float(bar.get_attribute("value")) < 1
        assert page.get_by_role("button", name="Import", exact=True).is_disabled()
    finally:
        runner.join(120)
    assert result["cli"].returncode == 0, result["cli"].stderr
    page.locator("#import-status", has_text="The import finished.").wait_for(timeout=10_000)
    assert bar.is_hidden() and page.get_by_role("button", name="Import", exact=True).is_enabled()
