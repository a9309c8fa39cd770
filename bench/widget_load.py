#!/usr/bin/env python3
"""Widget benchmark: gzip sizes of the loader and the app, and the time from page
load to a 200-comment thread visible in headless Chromium, for Rejoinder and, in
the same run, for the Isso client loading the same thread from an Isso server.

    .venv/bin/python bench/widget_load.py             # 15 runs each, updates bench/RESULTS.md
    .venv/bin/python bench/widget_load.py --quick     # 3 runs each, no RESULTS.md
    .venv/bin/python bench/widget_load.py --only rejoinder --runs 9 --no-write   # while working on the widget

What it does:

1. Sizes: gzip -9 of static/embed.js, static/count.js, and static/frame.js +
   static/frame.css (the budgets are 3 KB and 30 KB; widget/build.mjs
   enforces them, this records them).
2. Starts a Valkey server (rejoinder.embedded) and `rejoinder serve` (one
   worker, default settings) as child processes: API and iframe on
   http://localhost:PORT. Installs Isso 0.14 and gunicorn into the scratch
   venv bench/core_http.py uses (bench/.work/isso-venv) and starts Isso under
   gunicorn as core_http.py does (2 sync workers, --preload, moderation off),
   on http://localhost:ISSO. The blog pages are on a third origin,
   http://127.0.0.1:OTHER, so both widgets are embedded cross-site.
3. Seeds the same thread into both through their own HTTP APIs: 50 top-level
   comments with 3 replies each (200), same authors, same Markdown, same
   order. The whole thread is one first page for both clients (Rejoinder
   sends 50 top-level comments per page and up to 100 replies inline; Isso's
   client asks for all top-level comments and 5 replies each).
4. Each run opens a fresh browser context (cold cache, like a first visit),
   lets its new window settle (see settle(); --no-settle to skip), loads the
   blog page, and waits until the comments are visible. Runs alternate
   between the two (Rejoinder, Isso, Isso, Rejoinder, ...), after 2 warm-ups
   each that warm the servers and the OS, not the browser cache, and each
   waits for a quiet moment on the machine first. Every run checks that all
   200 comments are in the DOM and that no page error happened.
5. "Visible", the same for both: a probe script, installed in every frame
   before any page script runs, watches the DOM and records the moment the
   comment's element is in the document with its text, is rendered (not
   display:none or visibility:hidden, has a layout box), and, for Rejoinder,
   the loader has unhidden the iframe that holds it (recorded in the host
   page; the later of the two counts). "First comment visible" uses the
   thread's first comment, "all 200 visible" its 200th (the last reply of the
   last top-level comment). Times are milliseconds from the host page's
   navigation start (performance.timeOrigin, which is the same wall clock
   in every process).
6. Measures the CPU the machine spent on processes this script did not start
   during each run (from /proc). A run during which they used more than
   --max-other-cpu % of a core is repeated (up to --retries times) and, if
   still disturbed, kept and marked (the core_http.py convention).
7. Reports median, p90, min and max for each, a breakdown of where
   Rejoinder's time goes (milestones on the same clock), and rewrites the
   "Widget" section of bench/RESULTS.md (other sections are kept).

Only processes this script started are stopped, by PID.
"""

from __future__ import annotations

import argparse
import gzip
import json
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
from typing import Any, Callable

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from core_http import ISSO_CFG, ISSO_VENV, ISSO_VERSION, ensure_isso_venv  # noqa: E402
from harness import (RESULTS, cpu_model, cpu_seconds, free_port, git_state, machine_busy_s,  # noqa: E402
                     stop_tree, top_processes, tree, wait_idle, write_section)
from rejoinder.embedded import EmbeddedRedis  # noqa: E402
from tests.support.servers import AppServer  # noqa: E402

MARK_BEGIN, MARK_END = harness.markers("widget_load")


SITE = "bench"
PAGE = "bench-200"
ISSO_URI = "/bench-200"
TITLE = "A post with 200 comments"
ROOTS, REPLIES = 50, 3
TOTAL = ROOTS * (1 + REPLIES)
WARMUP = 2
TARGET_MS = 500
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
        "--disable-quic"]
SYSTEMS = ("rejoinder", "isso")
NAMES = {"rejoinder": "Rejoinder", "isso": f"Isso {ISSO_VERSION}"}


def root_text(i: int) -> str:
    return f"Top-level comment {i}: a paragraph of about the length people write, with **some** markup."


def reply_text(i: int, j: int) -> str:
    return f"Reply {j} to comment {i}, agreeing with a [link](https://example.com/{i}/{j})."


# What the probe looks for: the text of the first and the 200th comment, as rendered.
FIRST_TEXT = "Top-level comment 0: a paragraph"
LAST_TEXT = f"Reply {REPLIES - 1} to comment {ROOTS - 1}, agreeing"

# Installed in every frame before its own scripts run (Playwright init script).
# In the frame named by `itemsIn` it records when each watched comment becomes
# visible; in the host page, when the loader unhides the iframe (`reveal`).
PROBE = """
(() => {
  const W = %s;
  const seen = window.__seen = {};
  const now = () => performance.timeOrigin + performance.now();
  const items = location.pathname === W.itemsIn ? W.items : [];
  const reveal = location.pathname === W.host ? W.reveal : null;
  if (!items.length && !reveal) return;
  const check = () => {
    for (const w of items) {
      if (seen[w.key]) continue;
      const el = document.getElementById(w.id);
      if (el && el.isConnected && (el.textContent || '').includes(w.text)
          && el.checkVisibility({ visibilityProperty: true }) && el.getClientRects().length) seen[w.key] = now();
    }
    if (reveal && !seen.reveal) {
      const f = document.querySelector(reveal);
      if (f && f.isConnected && f.style.visibility === '') seen.reveal = now();
    }
    if (items.every((w) => seen[w.key]) && (!reveal || seen.reveal)) observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
})();
"""

# Read after a run: the frame's clock origin, its User Timing marks and resource timings.
TIMINGS = """() => {
  const out = { origin: performance.timeOrigin, seen: window.__seen || {}, marks: {}, res: {} };
  for (const m of performance.getEntriesByType('mark')) out.marks[m.name] = m.startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) out.res.document = nav.responseEnd;
  for (const r of performance.getEntriesByType('resource')) {
    const u = new URL(r.name);
    const key = u.pathname === '/' ? '/?' + u.searchParams.get('uri') : u.pathname;
    if (!(key in out.res)) { out.res[key] = r.responseEnd; out.res[key + ' asked'] = r.startTime; }
  }
  return out;
}"""


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def sizes() -> dict[str, int]:
    static = ROOT / "static"
    return {name: gz(static / name) for name in ("embed.js", "count.js", "frame.js", "frame.css")}


# ------------------------------------------------------------------ the two blog pages


def rejoinder_page(server: str, page: str = PAGE, title: str = TITLE) -> bytes:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>{title}</title></head>
<body><h1>{title}</h1>
<div id="rejoinder" data-page="{page}" data-lazy="false"></div>
<script src="{server}/embed.js" data-site="{SITE}" async></script>
</body></html>""".encode()


def isso_page(server: str, uri: str = ISSO_URI, title: str = TITLE) -> bytes:
    # Isso's documented embed, made async like Rejoinder's.
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>{title}</title></head>
<body><h1>{title}</h1>
<section id="isso-thread" data-isso-id="{uri}" data-title="{title}"></section>
<script data-isso="{server}" src="{server}/js/embed.min.js" async></script>
</body></html>""".encode()


class PageServer:
    """The blog pages, on their own loopback origin, in a thread of this process."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("cache-control", "no-store")
                self.send_header("content-length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- servers


def register(app: AppServer, origin: str) -> None:
    out = subprocess.run([str(Path(sys.executable).parent / "rejoinder"), "site", "add", SITE, "--name", "Bench",
                          "--origin", origin], env=app.env(), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"rejoinder site add failed: {out.stdout}{out.stderr}")


def seed_rejoinder(app: AppServer, page: str = PAGE, title: str = TITLE, roots: int = ROOTS) -> tuple[int, int]:
    """The thread through Rejoinder's API; returns the ids of its first and last comment."""
    with httpx.Client(base_url=app.base, timeout=30, headers={"X-Rejoinder-Client": "bench-seeder-0000000001"}) as c:
        tid = c.get("/api/threads", params={"site": SITE, "page": page, "title": title}).json()["thread"]["id"]
        ids = []
        for i in range(roots):
            root = c.post(f"/api/threads/{tid}/comments", json={"text": root_text(i), "name": f"Reader {i}"})
            root.raise_for_status()
            parent = root.json()["comment"]["id"]
            ids.append(parent)
            for j in range(REPLIES):
                r = c.post(f"/api/threads/{tid}/comments", json={
                    "text": reply_text(i, j), "name": f"Replier {j}", "parent": parent})
                r.raise_for_status()
                ids.append(r.json()["comment"]["id"])
        count = c.get(f"/api/threads/{tid}").json()["thread"]["count"]
        assert count == roots * (1 + REPLIES), count
    return ids[0], ids[-1]


class IssoServer:
    """Isso under gunicorn (2 sync workers, --preload), configured and run as bench/core_http.py runs it."""

    def __init__(self, folder: Path, page_origin: str, workers: int = 2) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.workers = workers
        (folder / "isso.cfg").write_text(ISSO_CFG.format(db=folder / "comments.db", site=page_origin, port=self.port))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> "IssoServer":
        env = dict(os.environ, ISSO_SETTINGS=str(self.folder / "isso.cfg"))
        with open(self.folder / "server.log", "wb") as log:
            self.proc = subprocess.Popen(
                [str(ISSO_VENV / "bin" / "gunicorn"), "-b", f"127.0.0.1:{self.port}", "-w", str(self.workers),
                 "--preload", "--worker-class", "sync", "isso.run"],
                env=env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"isso exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/config", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("isso did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            stop_tree(self.proc, tree(self.proc.pid))
        self.proc = None


def seed_isso(isso: IssoServer, uri: str = ISSO_URI, title: str = TITLE, roots: int = ROOTS) -> tuple[int, int]:
    """The same thread through Isso's own API (POST /new); returns its first and last comment ids."""
    # Isso answers each POST with an edit cookie for that comment; a browser-like
    # jar would grow past Isso's header limit, so the seeder keeps none.
    with httpx.Client(base_url=isso.base, timeout=30, event_hooks={"response": [lambda r: c.cookies.clear()]}) as c:
        ids = []
        for i in range(roots):
            root = c.post("/new", params={"uri": uri}, json={"text": root_text(i), "author": f"Reader {i}",
                                                              "title": title})
            root.raise_for_status()
            parent = root.json()["id"]
            ids.append(parent)
            for j in range(REPLIES):
                r = c.post("/new", params={"uri": uri}, json={
                    "text": reply_text(i, j), "author": f"Replier {j}", "parent": parent})
                r.raise_for_status()
                ids.append(r.json()["id"])
        got = c.get("/", params={"uri": uri, "nested_limit": 5}).json()
        shown = sum(1 + len(r.get("replies", [])) for r in got["replies"])
        assert shown == roots * (1 + REPLIES), shown
    return ids[0], ids[-1]


# --------------------------------------------------------------------------- a run


def probe(system: str, first: int, last: int, first_text: str = FIRST_TEXT, last_text: str = LAST_TEXT) -> str:
    if system == "rejoinder":
        spec = {"itemsIn": "/frame", "host": "/rejoinder/", "reveal": "#rejoinder iframe",
                "items": [{"key": "first", "id": f"rj-c{first}", "text": first_text},
                          {"key": "last", "id": f"rj-c{last}", "text": last_text}]}
    else:
        spec = {"itemsIn": "/isso/", "host": "/isso/", "reveal": None,
                "items": [{"key": "first", "id": f"isso-{first}", "text": first_text},
                          {"key": "last", "id": f"isso-{last}", "text": last_text}]}
    return PROBE % json.dumps(spec)


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)  # polled from here, not in the page: the page's main thread stays free
    raise RuntimeError(f"timed out waiting for {what}")


def ours() -> float:
    """CPU seconds used so far by this script and everything it started."""
    return cpu_seconds(tree(os.getpid()))


def settle(threshold: float = 20.0, limit: float = 5.0) -> None:
    """Let the new window settle before the page loads. Headless Chromium 156 gives
    every new context a window, and loads that window's omnibox WebUI in a renderer
    of its own: 100-400 ms of CPU on these 2 cores, which traces showed landing in
    the middle of the measured page load. A reader's browser window is open before
    they load a page; the browser cache stays cold."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        b0 = machine_busy_s()
        time.sleep(0.25)
        if 100 * (machine_busy_s() - b0) / 0.25 < threshold:
            return


def one_run(browser: Any, system: str, url: str, ids: tuple[int, int], wait: bool = True) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(probe(system, *ids))
        if wait:
            settle()
        busy0 = machine_busy_s()
        mine0, wall0 = ours(), time.monotonic()
        page.goto(url)
        if system == "rejoinder":
            # Polled in the host page only, until the loader unhides the iframe:
            # evaluating in the iframe would queue work on its busy main thread.
            wait_for(lambda: page.evaluate("() => !!(window.__seen && window.__seen.reveal)"), 15, "the reveal")
            frame = wait_for(lambda: next((f for f in page.frames if "/frame?" in f.url), None), 15, "the iframe")
            wait_for(lambda: frame.evaluate("() => !!(window.__seen && window.__seen.last)"), 15, "the comments")
        else:
            frame = page.main_frame
            wait_for(lambda: page.evaluate("() => !!(window.__seen && window.__seen.last)"), 15, "the comments")
        busy1 = machine_busy_s()
        mine1, wall1 = ours(), time.monotonic()
        host = page.evaluate(TIMINGS)
        inner = frame.evaluate(TIMINGS) if frame is not page.main_frame else host
        count = frame.locator("li.rj-item[data-id]" if system == "rejoinder" else "#isso-root .isso-comment").count()
    finally:
        context.close()
    if errors or count != TOTAL:
        raise RuntimeError(f"{system}: {count} comments shown, page errors {errors}")
    origin = host["origin"]
    reveal = host["seen"].get("reveal", 0.0)
    at = lambda absolute: max(absolute, reveal) - origin  # noqa: E731
    shift = inner["origin"] - origin
    milestones = {f"res {k}": v + shift for k, v in inner["res"].items()}
    milestones.update({f"mark {k}": v + shift for k, v in inner["marks"].items()})
    milestones.update({f"host res {k}": v for k, v in host["res"].items()})
    if reveal:
        milestones["revealed"] = reveal - origin
    other = 100 * max(0.0, (busy1 - busy0) - (mine1 - mine0)) / max(wall1 - wall0, 1e-3)
    return {"first": at(inner["seen"]["first"]), "last": at(inner["seen"]["last"]), "milestones": milestones,
            "other_cpu": round(other, 1)}


def measure(runs: int, systems: tuple[str, ...], urls: dict[str, str], ids: dict[str, tuple[int, int]],
            args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    max_other, retries = args.max_other_cpu, args.retries
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for i in range(WARMUP + runs):
                # Alternate which goes first, so a slow spell hits both alike.
                order = systems if i % 2 == 0 else tuple(reversed(systems))
                for system in order:
                    for attempt in range(retries + 1):
                        # Each run starts in a quiet moment if one comes (the machine is shared).
                        quiet = wait_idle(args.idle_threshold, args.idle_wait_run, sample=1.0)
                        r = one_run(browser, system, urls[system], ids[system], not args.no_settle)
                        r["busy_before"] = quiet["busy_pct"]
                        if i < WARMUP or r["other_cpu"] <= max_other:
                            break
                        print(f"  {system} run {i - WARMUP + 1}: other processes used {r['other_cpu']}% of a core,"
                              f" repeating\n{top_processes(4)}", flush=True)
                        time.sleep(2)
                    else:
                        r["disturbed"] = True
                    if i >= WARMUP:
                        results[system].append(r)
                        print(f"  {system} run {i - WARMUP + 1}: first {r['first']:.0f} ms, all {r['last']:.0f} ms, "
                              f"other CPU {r['other_cpu']}%{' (disturbed)' if r.get('disturbed') else ''}", flush=True)
        finally:
            browser.close()
    return results


# --------------------------------------------------------------------------- report


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p90": ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
            "min": ordered[0], "max": ordered[-1]}


def machine() -> str:
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, {chromium}"


MILESTONES = [
    ("host res /embed.js", "embed.js loaded (host page)"),
    ("res document", "iframe document received"),
    ("res /frame.js asked", "frame.js requested"),
    ("res /frame.js", "frame.js loaded"),
    ("mark rejoinder:start", "app started (frame.js evaluated)"),
    ("mark rejoinder:fetched", "thread in hand"),
    ("mark rejoinder:visible", f"all {TOTAL} comments built and inserted"),
    ("mark rejoinder:sized", "laid out, height sent to the host page"),
    ("revealed", "iframe unhidden by the loader"),
]
ISSO_MILESTONES = [
    ("res /js/embed.min.js", "embed.min.js loaded"),
    ("res /config", "/config answered"),
    (f"res /?{ISSO_URI}", "the thread answered (GET /?uri=)"),
]


def fmt(v: float) -> str:
    return f"{v:,.0f} ms"


def section(size: dict[str, int], res: dict[str, list[dict[str, Any]]], load: tuple[float, float],
            args: argparse.Namespace) -> str:
    app = size["frame.js"] + size["frame.css"]
    systems = [s for s in SYSTEMS if res.get(s)]
    n = {s: len(res[s]) for s in systems}
    disturbed = {s: sum(1 for r in res[s] if r.get("disturbed")) for s in systems}
    other = statistics.median([r["other_cpu"] for s in systems for r in res[s]])
    lines = [
        MARK_BEGIN,
        "## Widget",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC by `bench/widget_load.py` on {machine()}; "
        f"Rejoinder at {git_state('server', 'static', 'widget/src')}, one uvicorn worker, default settings; Isso {ISSO_VERSION} under gunicorn "
        f"(2 sync workers, --preload). 1-minute load average {load[0]:.1f} when the runs started and {load[1]:.1f} "
        f"when they ended (2 cores, shared with other engineers' test runs). Each run waited (up to "
        f"{args.idle_wait_run:.0f} s) for a second in which the whole machine used less than {args.idle_threshold:.0f}% "
        f"of a core; processes this benchmark did not start then used a median {other:.0f}% of one core during a "
        f"run. A run in which they used more than "
        f"{args.max_other_cpu:.0f}% was repeated (up to {args.retries} times); "
        + (", ".join(f"{disturbed[s]} {NAMES[s]} run(s)" for s in systems if disturbed[s]) + " stayed disturbed "
           "and are kept, marked * below." if any(disturbed.values()) else "no run stayed disturbed."),
        "",
        "| file | gzip -9 | budget |",
        "|---|---:|---:|",
        f"| embed.js (loader) | {size['embed.js']:,} B | 3,072 B |",
        f"| count.js | {size['count.js']:,} B | 3,072 B |",
        f"| frame.js + frame.css (app) | {app:,} B ({size['frame.js']:,} + {size['frame.css']:,}) | 30,720 B |",
        "",
        f"Page load to comments visible, {TOTAL}-comment thread ({ROOTS} top-level, {REPLIES} replies each), "
        "headless Chromium, a fresh context (cold cache) per run whose new window is left to settle first "
        "(`settle()`: headless Chromium loads each new window's omnibox WebUI, which would otherwise land in the "
        "measured load), "
        + " and ".join(f"{n[s]} {NAMES[s]} runs" for s in systems)
        + f" (alternating, after {WARMUP} warm-ups each); servers, browser and blog page on this machine:",
        "",
        "| from page load to | " + " | ".join(f"{NAMES[s]} median | p90 | min – max" for s in systems) + " | target |",
        "|---|" + "---:|---:|---:|" * len(systems) + "---|",
    ]
    for key, label in (("first", "first comment visible"), ("last", f"all {TOTAL} comments visible")):
        cells = []
        for s in systems:
            st = stats([r[key] for r in res[s]])
            cells.append(f"**{fmt(st['median'])}** | {fmt(st['p90'])} | {st['min']:,.0f} – {fmt(st['max'])}")
        target = ""
        if key == "last" and "rejoinder" in systems:
            met = stats([r["last"] for r in res["rejoinder"]])["median"] < TARGET_MS
            target = f"Rejoinder < {TARGET_MS} ms: {'met' if met else 'missed'}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    if len(systems) == 2:
        ratio = stats([r["last"] for r in res["isso"]])["median"] / stats([r["last"] for r in res["rejoinder"]])["median"]
        lines += ["", f"All {TOTAL} visible: Isso's median is {ratio:.2f}x Rejoinder's."]
    lines += [
        "",
        "\"Visible\" is the same test for both: the comment's element is in the document with its text, "
        "rendered (not display:none or visibility:hidden, with a layout box), and for Rejoinder the loader has "
        "unhidden the iframe that holds it (whichever comes later). A probe script installed in every frame "
        "before the page's own scripts records the moment, on the host page's clock. \"First\" is the thread's "
        f"first comment, \"all {TOTAL}\" its {TOTAL}th (the last reply of the last top-level comment): both "
        "clients render the whole thread in one go, so the 200th is the last to appear.",
    ]
    if "rejoinder" in systems:
        lines += ["", f"Where Rejoinder's time goes (median over the runs, ms from page load; the iframe is a "
                  "separate renderer process, cross-site):", "",
                  "| milestone | median |", "|---|---:|"]
        for key, label in MILESTONES:
            vals = [r["milestones"][key] for r in res["rejoinder"] if key in r["milestones"]]
            if vals:
                lines.append(f"| {label} | {fmt(statistics.median(vals))} |")
        lines.append(f"| all {TOTAL} visible | {fmt(stats([r['last'] for r in res['rejoinder']])['median'])} |")
    if "isso" in systems:
        lines += ["", "Isso's, on the same clock:", "", "| milestone | median |", "|---|---:|"]
        for key, label in ISSO_MILESTONES:
            vals = [r["milestones"][key] for r in res["isso"] if key in r["milestones"]]
            if vals:
                lines.append(f"| {label} | {fmt(statistics.median(vals))} |")
        lines.append(f"| all {TOTAL} visible | {fmt(stats([r['last'] for r in res['isso']])['median'])} |")
    lines += ["", f"Every run, all {TOTAL} visible in ms (other processes' CPU in % of a core; * disturbed):", ""]
    for s in systems:
        lines.append(f"- {NAMES[s]}: " + ", ".join(
            f"{r['last']:.0f}{'*' if r.get('disturbed') else ''} ({r['other_cpu']:.0f}%)" for r in res[s]))
    lines += [MARK_END, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="measured runs per system")
    ap.add_argument("--quick", action="store_true", help="3 runs, no RESULTS.md")
    ap.add_argument("--only", choices=SYSTEMS, help="measure one system only (implies --no-write)")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--idle-threshold", type=float, default=15.0,
                    help="a quiet machine: everything uses less than this %% of one core (measured over 1-3 s)")
    ap.add_argument("--idle-wait", type=float, default=600, help="wait at most this long for quiet before the runs")
    ap.add_argument("--idle-wait-run", type=float, default=30, help="and at most this long before each run")
    ap.add_argument("--max-other-cpu", type=float, default=30.0,
                    help="repeat a run in which other processes used more than this %% of one core")
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--no-settle", action="store_true",
                    help="load the page as soon as the new window exists (implies --no-write)")
    ap.add_argument("--json-out", type=Path, help="also write every run's figures here")
    args = ap.parse_args(argv)
    runs = 3 if args.quick else args.runs
    systems = (args.only,) if args.only else SYSTEMS

    size = sizes()
    if "isso" in systems:
        ensure_isso_venv()
    folder = Path(tempfile.mkdtemp(prefix="rejoinder-widget-bench-"))
    db = EmbeddedRedis(folder / "valkey").start()
    app: AppServer | None = None
    isso: IssoServer | None = None
    pages = PageServer()
    try:
        urls: dict[str, str] = {}
        ids: dict[str, tuple[int, int]] = {}
        if "rejoinder" in systems:
            # The server's defaults, not the test suite's (which turns the site cache off).
            app = AppServer(db.url, env={"REJOINDER_SITE_CACHE_SECONDS": "2"}).start()
            pages.pages["/rejoinder/"] = rejoinder_page(app.base)
            register(app, pages.origin)
            ids["rejoinder"] = seed_rejoinder(app)
            urls["rejoinder"] = pages.origin + "/rejoinder/"
        if "isso" in systems:
            isso = IssoServer(folder / "isso", pages.origin).start()
            pages.pages["/isso/"] = isso_page(isso.base)
            ids["isso"] = seed_isso(isso)
            urls["isso"] = pages.origin + "/isso/"
        quiet = wait_idle(args.idle_threshold, 0 if args.quick else args.idle_wait)
        start_load = os.getloadavg()[0]
        print(f"machine busy {quiet['busy_pct']}% of a core, load average {start_load:.2f}; "
              f"measuring {', '.join(systems)}", flush=True)
        res = measure(runs, systems, urls, ids, args)
        end_load = os.getloadavg()[0]
    finally:
        pages.stop()
        if app:
            app.stop()
        if isso:
            isso.stop()
        db.stop()

    text = section(size, res, (start_load, end_load), args)
    print(text.replace(MARK_BEGIN + "\n", "").replace(MARK_END + "\n", ""))
    if args.json_out:
        args.json_out.write_text(json.dumps(res, indent=1))
    if not (args.quick or args.no_write or args.only or args.no_settle):
        write_section("widget_load", text)
        print(f"updated {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
