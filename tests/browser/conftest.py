"""Browser fixtures: Debian's Chromium through Playwright's sync API, one reader per context.

The browser is function-scoped: a session-scoped sync Playwright breaks the
suite's pytest-asyncio session loop (TOOLING.md, "Pitfall"). Every page fails
its test on a page error, a console error or a dialog; a failed test leaves a
screenshot of every page it opened in test-artifacts/.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import redis as redis_sync
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, FrameLocator, Page, sync_playwright

from ..conftest import SITE, register_site
from ..support.servers import AppServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
# Flags that keep Chromium off the network and quiet on a CI box (TOOLING.md).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
        "--disable-quic"]
DEMO_PAGE = "demo-post"
READY_TIMEOUT_MS = 10_000


# The widget behaves the same whatever Redis deployment the server uses, and the
# API tests run every database path on both. Browser tests run against the
# single server; these modules also run against the cluster, as an end-to-end check.
CLUSTER_TOO = {"test_live.py", "test_login.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    dropped = [item for item in items
               if item.path.parent == here and item.path.name not in CLUSTER_TOO
               and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("redis_server") == "cluster"]  # type: ignore[attr-defined]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        keep = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in keep]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


@pytest.fixture(scope="session")
def live_endpoint(app_server: AppServer, redis_client: redis_sync.Redis) -> bool:
    """The server's live websocket answers. It is part of the product now: if it stops
    answering, the browser tests fail here instead of quietly falling back to reloads."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect

    # Session fixtures run before the per-test database reset registers the site.
    register_site(redis_client, SITE, [app_server.page_origin])
    r = httpx.get(f"{app_server.base}/api/threads", params={"site": SITE, "page": "live-probe"},
                  headers={"Origin": app_server.page_origin})
    thread = r.json()["thread"]
    url = f"{app_server.ws_base}/api/threads/{thread['id']}/live?since=0&epoch={thread['epoch']}"
    try:
        with connect(url, origin=app_server.page_origin, open_timeout=5):  # type: ignore[arg-type]
            return True
    except (InvalidStatus, InvalidHandshake, OSError) as exc:
        raise AssertionError(f"the live websocket endpoint does not answer: {exc!r}") from exc


class PageHost:
    """Blog pages written by a test, served from a second loopback origin that the
    test site registers. A real server, not Playwright routing: Chromium's local
    network checks refuse a routed page's iframe to localhost."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                kind = "text/css" if self.path.split("?")[0].endswith(".css") else "text/html"
                self.send_header("content-type", f"{kind}; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path: str, html: str) -> str:
        # Every page names an icon, so the browser does not ask for a missing favicon.
        self.pages[path] = html.replace("<title>", '<link rel="icon" href="data:,"><title>', 1).encode()
        return self.origin + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def page_host() -> Iterator[PageHost]:
    host = PageHost()
    yield host
    host.stop()


class Reader:
    """One person in their own browser context (own storage, so own anonymous id)."""

    def __init__(self, context: BrowserContext, server: AppServer, tolerate: list[re.Pattern[str]],
                 page_host: PageHost) -> None:
        self.context = context
        self.server = server
        self.page_host = page_host
        self.page: Page = context.new_page()
        self.problems: list[str] = []
        self.tolerate = list(tolerate)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.tolerate):
            self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def expect_refusal(self, status: int) -> None:
        """The test provokes this HTTP refusal on purpose: Chromium logs every failed
        fetch as a console error, which is not a widget error here."""
        self.tolerate.append(re.compile(rf"^Failed to load resource: the server responded with a status of {status} "))

    @property
    def frame(self) -> FrameLocator:
        return self.page.frame_locator("#rejoinder iframe")

    def open_demo(self) -> "Reader":
        self.page.goto(f"{self.server.page_origin}/demo/")
        return self.wait_ready()

    def open_html(self, html: str, path: str = "/test-page/", ready: bool = True) -> "Reader":
        """A blog page of the test's own, on the second registered origin."""
        self.page.goto(self.page_host.put(path, html))
        return self.wait_ready() if ready else self

    def wait_ready(self) -> "Reader":
        """Scroll the comments near (the loader is lazy) and wait until the iframe is revealed."""
        self.page.locator("#rejoinder").scroll_into_view_if_needed()
        self.page.wait_for_function(
            "() => { const f = document.querySelector('#rejoinder iframe');"
            " return !!f && f.style.visibility === '' && f.offsetHeight > 100; }", timeout=READY_TIMEOUT_MS)
        self.frame.locator("h2.rj-title").wait_for()
        return self

    def reload(self) -> "Reader":
        self.page.reload()
        return self.wait_ready()

    def comment(self, text: str) -> Any:
        """The <li> of the comment whose body contains `text`."""
        return self.frame.locator("li.rj-item[data-id]").filter(
            has=self.frame.locator(":scope > article .rj-body", has_text=text))

    def field(self, label: str) -> Any:
        """A text field of the form by its label ("Name" matches "Name (required)")."""
        return self.frame.get_by_role("textbox", name=re.compile("^" + re.escape(label)))

    def post(self, text: str, name: str = "Ada", email: str = "", website: str = "") -> None:
        self.field("Comment").fill(text)
        self.field("Name").fill(name)
        self.field("Email").fill(email)
        self.field("Website").fill(website)
        self.frame.get_by_role("button", name="Post Comment").click()

    def reply(self, to_text: str, text: str, name: str = "Ada") -> None:
        self.comment(to_text).locator(":scope > article").get_by_role("button", name="Reply").click()
        self.post(text, name=name)

    def wait_sized(self, timeout_ms: int = 3000) -> None:
        """Wait until the iframe is as tall as what it renders (the height message arrived)."""
        iframe = self.page.locator("#rejoinder iframe")
        body = self.frame.locator("body")
        for _ in range(timeout_ms // 50):
            inner = body.evaluate("b => Math.ceil(b.getBoundingClientRect().height)")
            if iframe.evaluate("f => f.offsetHeight") == inner:
                return
            self.page.wait_for_timeout(50)
        raise AssertionError("the iframe never took the height of its content")

    def screenshot(self, name: str) -> None:
        """The whole page. Chromium paints a cross-origin iframe only near the
        viewport, so a full_page capture would cut it off: make the viewport the
        page's height instead, then capture."""
        self.wait_sized()
        ARTIFACTS.mkdir(exist_ok=True)
        size = self.page.viewport_size
        assert size is not None
        height = self.page.evaluate("document.documentElement.scrollHeight")
        self.page.set_viewport_size({"width": size["width"], "height": min(height, 12_000)})
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        self.page.set_viewport_size(size)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


ReaderFactory = Callable[..., Reader]


@pytest.fixture
def reader(browser: Browser, app_server: AppServer, live_endpoint: bool, page_host: PageHost,
           redis_client: redis_sync.Redis, request: pytest.FixtureRequest) -> Iterator[ReaderFactory]:
    """Make readers: reader(color_scheme="dark", width=320). Each fails the test on
    a page error, console error or dialog, checked when the test ends."""
    register_site(redis_client, SITE, [app_server.page_origin, page_host.origin])
    made: list[Reader] = []
    # Until the live endpoint exists, each reconnect attempt logs a failed handshake.
    tolerate = [] if live_endpoint else [re.compile(r"^WebSocket connection to .*/live\?")]

    def make(color_scheme: str = "light", width: int = 1280, height: int = 900, **options: Any) -> Reader:
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme,
                                      reduced_motion="reduce", **options)
        r = Reader(context, app_server, tolerate, page_host)
        made.append(r)
        return r

    yield make
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, r in enumerate(made):
            try:
                r.page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}-{i}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a screenshot must not hide the real failure
                pass
    problems = [p for r in made for p in r.problems]
    for r in made:
        r.context.close()
    assert not problems, "\n".join(problems)


def see(r: Reader, live: bool, locator_of: Callable[[Reader], Any], timeout_ms: int = 5000) -> None:
    """Wait until another reader's change shows: live when the server streams events,
    else after a reload (the test then still proves the data path)."""
    if not live:
        r.reload()
    locator_of(r).first.wait_for(timeout=timeout_ms)
