#!/usr/bin/env python3
"""Widget benchmark: gzip sizes of the loader and the app, and the time from page
load to a 200-comment thread visible, in headless Chromium on this machine.

    .venv/bin/python bench/widget_load.py             # 15 measured runs, updates bench/RESULTS.md
    .venv/bin/python bench/widget_load.py --quick     # 3 runs, no RESULTS.md

What it does:

1. Sizes: gzip -9 of static/embed.js, static/count.js, and static/frame.js +
   static/frame.css (the budgets are 3 KB and 30 KB; widget/build.mjs
   enforces them, this records them).
2. Starts a Valkey server (rejoinder.embedded) and `rejoinder serve` as a
   child process (tests/support/servers.AppServer: API and iframe on
   http://localhost:PORT), and a blog page on a second loopback origin
   (http://127.0.0.1:OTHER), registered for site "bench" with the CLI.
3. Seeds one thread with 200 comments through the API: 50 top-level
   comments with 3 replies each, so the whole thread is the first page the
   widget loads (the server sends 50 top-level comments per page and up to
   100 replies inline).
4. For each run, a fresh browser context (cold cache, like a first visit)
   opens the blog page, whose comments sit at the top (no lazy-load wait).
   "Visible" is the moment the loader reveals the iframe, which it does on
   the iframe's first height message, sent once the first slice of comments
   is rendered; the host page records it with performance.now()
   (milliseconds since the navigation started). "Complete" is the iframe's
   rejoinder:rendered mark (all 200 built), on the same clock. Each run
   checks that all 200 comments are in the iframe's DOM.
5. Reports the median, p90, min and max over the runs (after 2 warm-up runs
   that warm the server and the OS, not the browser cache), and rewrites the
   "Widget" section of bench/RESULTS.md (other sections are kept).

Only processes this script started are stopped, by PID.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from rejoinder.embedded import EmbeddedRedis  # noqa: E402
from tests.support.servers import AppServer  # noqa: E402

RESULTS = HERE / "RESULTS.md"
MARK_BEGIN = "<!-- widget_load:begin (written by bench/widget_load.py; edits here are overwritten) -->"
MARK_END = "<!-- widget_load:end -->"
SITE = "bench"
PAGE = "bench-200"
ROOTS, REPLIES = 50, 3
TARGET_MS = 500
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
        "--disable-quic"]
# Recorded in the host page before anything else runs: when the loader reveals the iframe.
PROBE = """
window.__visible = null;
new MutationObserver((records, observer) => {
  const f = document.querySelector('#rejoinder iframe');
  if (f && f.style.visibility === '' && f.isConnected) {
    window.__visible = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['style'], childList: true });
"""


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def sizes() -> dict[str, int]:
    static = ROOT / "static"
    return {
        "embed.js": gz(static / "embed.js"),
        "count.js": gz(static / "count.js"),
        "frame.js": gz(static / "frame.js"),
        "frame.css": gz(static / "frame.css"),
    }


def blog_page(server: str) -> bytes:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>Bench post</title></head>
<body><h1>A post with 200 comments</h1>
<div id="rejoinder" data-page="{PAGE}" data-lazy="false"></div>
<script src="{server}/embed.js" data-site="{SITE}" async></script>
</body></html>""".encode()


class PageServer:
    """The blog page, on its own loopback origin, in a thread of this process."""

    def __init__(self, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("cache-control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def register(app: AppServer, origin: str) -> None:
    out = subprocess.run([str(Path(sys.executable).parent / "rejoinder"), "site", "add", SITE, "--name", "Bench",
                          "--origin", origin], env=app.env(), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"rejoinder site add failed: {out.stdout}{out.stderr}")


def seed(app: AppServer) -> None:
    with httpx.Client(base_url=app.base, timeout=10, headers={"X-Rejoinder-Client": "bench-seeder-0000000001"}) as c:
        tid = c.get("/api/threads", params={"site": SITE, "page": PAGE, "title": "Bench"}).json()["thread"]["id"]
        for i in range(ROOTS):
            text = f"Top-level comment {i}: a paragraph of about the length people write, with **some** markup."
            root = c.post(f"/api/threads/{tid}/comments", json={"text": text, "name": f"Reader {i}"})
            root.raise_for_status()
            for j in range(REPLIES):
                r = c.post(f"/api/threads/{tid}/comments", json={
                    "text": f"Reply {j} to comment {i}, agreeing with a [link](https://example.com/{i}/{j}).",
                    "name": f"Replier {j}", "parent": root.json()["comment"]["id"]})
                r.raise_for_status()
        count = c.get(f"/api/threads/{tid}").json()["thread"]["count"]
        assert count == ROOTS * (1 + REPLIES), count


def wait_idle(limit: float, wait_s: float) -> float:
    """Wait (up to wait_s) until the 1-minute load average is under `limit`: the
    browser, the server and the database share this machine's cores with
    whatever else runs. Returns the load average the runs started at."""
    deadline = time.monotonic() + wait_s
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(10)
    return os.getloadavg()[0]


COMPLETE = """() => {
  const m = performance.getEntriesByName('rejoinder:rendered')[0];
  return m ? performance.timeOrigin + m.startTime : null;
}"""


def measure(runs: int, warmup: int, url: str) -> tuple[list[float], list[float]]:
    """(visible, complete) times in ms from navigation start, one pair per measured run."""
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    complete: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for i in range(warmup + runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.add_init_script(PROBE)
                page.goto(url)
                page.wait_for_function("window.__visible !== null", timeout=15_000)
                visible = page.evaluate("window.__visible")
                frame = next(f for f in page.frames if "/frame?" in f.url)
                frame.wait_for_function("() => performance.getEntriesByName('rejoinder:rendered').length > 0")
                done = frame.evaluate(COMPLETE) - page.evaluate("performance.timeOrigin")
                shown = page.frame_locator("#rejoinder iframe").locator("li.rj-item[data-id]").count()
                context.close()
                if errors or shown != ROOTS * (1 + REPLIES):
                    raise RuntimeError(f"run {i}: {shown} comments shown, errors {errors}")
                if i >= warmup:
                    times.append(visible)
                    complete.append(done)
        finally:
            browser.close()
    return times, complete


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {chromium}"


def row(label: str, times: list[float], target: bool) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    median = statistics.median(times)
    verdict = f"< {TARGET_MS} ms ({'met' if median < TARGET_MS else 'missed'})" if target else ""
    return (f"| {label} | {median:.0f} ms | {p90:.0f} ms | {ordered[0]:.0f} ms | {ordered[-1]:.0f} ms | "
            f"{verdict} |")


def section(size: dict[str, int], times: list[float], complete: list[float], load: float) -> str:
    app = size["frame.js"] + size["frame.css"]
    return "\n".join([
        MARK_BEGIN,
        "## Widget",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `bench/widget_load.py` on {machine()}; "
        f"1-minute load average {load:.1f} when the runs started.",
        "",
        "| file | gzip -9 | budget |",
        "|---|---:|---:|",
        f"| embed.js (loader) | {size['embed.js']:,} B | 3,072 B |",
        f"| count.js | {size['count.js']:,} B | 3,072 B |",
        f"| frame.js + frame.css (app) | {app:,} B ({size['frame.js']:,} + {size['frame.css']:,}) | 30,720 B |",
        "",
        f"Page load to comments visible, {ROOTS * (1 + REPLIES)}-comment thread ({ROOTS} top-level, {REPLIES} "
        f"replies each), headless Chromium, fresh context (cold cache) per run, {len(times)} runs after 2 warm-ups; "
        "server and browser on the same machine:",
        "",
        "| from page load to | median | p90 | min | max | target |",
        "|---|---:|---:|---:|---:|---:|",
        row("comments visible", times, True),
        row(f"all {ROOTS * (1 + REPLIES)} rendered", complete, False),
        "",
        "\"Comments visible\" is when the loader reveals the iframe, on its first height message, sent once the "
        "first 30 comments are rendered and laid out; it includes the host page, embed.js, the iframe document, "
        "frame.js and frame.css, and the thread request (one request brings all 200). \"All rendered\" is the "
        "iframe's `rejoinder:rendered` mark: the other 170 are built in slices between tasks and the host page "
        "is told each new height at once. A fresh context denies the cross-site iframe its storage, so each run "
        "also pays the storage round trip through the loader (storage.ts). The Isso client on the same thread "
        "is not measured yet.",
        MARK_END,
        "",
    ])


def update_results(text_section: str) -> None:
    if RESULTS.exists():
        text = RESULTS.read_text()
        if MARK_BEGIN in text and MARK_END in text:
            head, rest = text.split(MARK_BEGIN, 1)
            _, tail = rest.split(MARK_END, 1)
            text = head + text_section.rstrip("\n") + tail
        else:
            text = text.rstrip("\n") + "\n\n" + text_section
    else:
        text = ("# Benchmark results\n\nFigures measured on this project's machine. Each section is written by "
                "the script it names; rerun that script to update it.\n\n" + text_section)
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="3 runs, no RESULTS.md")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--idle-load", type=float, default=1.0, help="start when the load average is below this")
    ap.add_argument("--idle-wait", type=float, default=600, help="wait at most this many seconds for it")
    args = ap.parse_args(argv)
    runs = 3 if args.quick else args.runs

    size = sizes()
    folder = Path(tempfile.mkdtemp(prefix="rejoinder-widget-bench-"))
    db = EmbeddedRedis(folder / "valkey").start()
    app: AppServer | None = None
    pages: PageServer | None = None
    try:
        app = AppServer(db.url).start()
        pages = PageServer(blog_page(app.base))
        register(app, pages.origin)
        seed(app)
        load = wait_idle(args.idle_load, 0 if args.quick else args.idle_wait)
        times, complete = measure(runs, 2, pages.origin + "/post/")
    finally:
        if pages:
            pages.stop()
        if app:
            app.stop()
        db.stop()

    text = section(size, times, complete, load)
    print(text.replace(MARK_BEGIN + "\n", "").replace(MARK_END + "\n", ""))
    print("visible (ms):", ", ".join(f"{t:.0f}" for t in times))
    print("complete (ms):", ", ".join(f"{t:.0f}" for t in complete))
    if not (args.quick or args.no_write):
        update_results(text)
        print(f"updated {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
