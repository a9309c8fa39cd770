"""The demo as a new user meets it: `./scripts/demo.sh` in a fresh virtual environment (Rejoinder's own
dependencies only, none of the test extra), then every sign-in button in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from rejoinder.embedded import free_port

from ..support.servers import ROOT

pytestmark = pytest.mark.browser


def four_free_ports() -> int:
    """A port whose next three are free too (the demo's local sign-in provider, Mastodon stand-in and AT Protocol
    stand-in listen there)."""
    import socket

    for _ in range(50):
        port = free_port()
        try:
            with socket.socket() as a, socket.socket() as b, socket.socket() as c:
                a.bind(("127.0.0.1", port + 1))
                b.bind(("127.0.0.1", port + 2))
                c.bind(("127.0.0.1", port + 3))
            return port
        except OSError:
            continue
    raise AssertionError("no four free ports in a row")


def test_the_demo_from_a_fresh_clone_signs_in_with_every_provider(browser: Browser, tmp_path: Path) -> None:
    port = four_free_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REJOINDER_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["REJOINDER_VENV"] = str(tmp_path / "venv")
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen([str(ROOT / "scripts" / "demo.sh"), "--port", str(port), "--data", str(tmp_path / "data")],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a fresh venv installs Rejoinder first
        banner = ""
        while "Ctrl-C stops" not in banner:
            assert demo.poll() is None and time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
            time.sleep(0.2)
            banner = (tmp_path / "demo.log").read_text()
        # The banner holds a working one-time link to the dashboard.
        link = re.search(r"(http://localhost:\d+/admin/#token=[A-Za-z0-9_-]+)", banner)
        assert link, banner
        token = link.group(1).split("#token=")[1]
        r = httpx.post(f"http://localhost:{port}/api/admin/session", json={"token": token}, timeout=10)
        assert r.status_code == 200 and r.json()["sites"] == [{"id": "demo", "name": "The Demo Blog"}]

        context = browser.new_context()
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"http://127.0.0.1:{port}/demo/")
        page.locator("#rejoinder").scroll_into_view_if_needed()  # the loader builds the frame when it is near
        frame = page.frame_locator("#rejoinder iframe")
        frame.locator("h2.rj-title").wait_for()
        for provider in ("X", "Facebook", "GitHub", "Google"):
            with page.expect_popup() as opened:
                frame.get_by_role("button", name=f"Log in with {provider}").click()
            popup = opened.value
            popup.get_by_role("button", name="Allow").click()
            frame.get_by_text(f"You are commenting using your {provider} account.", exact=False).first.wait_for(
                timeout=15_000)
            if not popup.is_closed():  # it closes itself once it handed over; a new one opens next time
                popup.wait_for_event("close")
            frame.get_by_role("button", name="Log Out").click()
            frame.get_by_role("button", name=f"Log in with {provider}").wait_for()
        # The post's replies on the local Mastodon stand-in are in its thread, and its sign-in works.
        frame.locator("a.rj-via", has_text="on Mastodon").first.wait_for(timeout=20_000)
        assert frame.locator(".rj-body", has_text="Sashiko for the elbows").count() == 1
        with page.expect_popup() as opened:
            frame.get_by_role("button", name="Log in with Mastodon").click()
        popup = opened.value
        popup.get_by_label("Your server").fill(f"http://127.0.0.1:{port + 2}")
        popup.get_by_role("button", name="Continue").click()
        popup.get_by_label("Signed in as").fill("maud")
        popup.get_by_role("button", name="Authorize").click()
        frame.get_by_text("You are commenting using your Mastodon account.", exact=False).first.wait_for(
            timeout=15_000)
        if not popup.is_closed():
            popup.wait_for_event("close")
        frame.get_by_role("button", name="Log Out").click()
        # And Bluesky, on the local AT Protocol stand-in (a PLC directory, a PDS and its OAuth server).
        with page.expect_popup() as opened:
            frame.get_by_role("button", name="Log in with Bluesky").click()
        popup = opened.value
        popup.get_by_label("Your handle").fill("bob.test")
        popup.get_by_role("button", name="Continue").click()
        popup.locator("#accept").click()
        frame.get_by_text("You are commenting using your Bluesky account.", exact=False).first.wait_for(
            timeout=15_000)
        assert not problems, problems
        context.close()
    finally:
        os.killpg(demo.pid, 15)  # the script's process group: demo.sh exec'd rejoinder, which stops its children
        demo.wait(30)
        log.close()
