#!/usr/bin/env python3
"""Long threads in the widget: a 10,000-comment thread in headless Chromium, Rejoinder next to Isso's
client on the same thread, in the same run.

    .venv/bin/python bench/long_thread.py            # 10,000 comments, 2 runs each, writes its section of RESULTS.md
    .venv/bin/python bench/long_thread.py --quick    # 1,000 comments, 1 run each, no RESULTS.md
    .venv/bin/python bench/long_thread.py --only rejoinder --runs 1 --trace 100   # why each long task after 100 s

The thread: 2,500 top-level comments with 3 replies each (10,000), seeded into both servers through their
own HTTP APIs (bench/widget_load.py's servers, pages and probe). Each run, in a fresh browser context
(1280 x 900, cold cache):

1. loads the blog page and records when the thread's first comment is visible (the probe of
   widget_load.py: in the document, with its text, rendered; for Rejoinder, its iframe unhidden);
2. scrolls the blog page down at --step px per --interval ms (default 6,000 px/s, about seven screens a
   second: a reader skimming fast; the position follows the clock, whatever each step costs), until the
   thread's last comment is in the page and the page is scrolled to its end (or --cap seconds pass);
   Rejoinder fetches further pages as the reader nears them, Isso's client rendered everything at load;
3. meanwhile a long-task observer in every frame records each main-thread task over 50 ms (a frame
   the reader sees stutter), split into "while loading" (before the first comment showed) and "while
   scrolling";
4. at the end: comments in the document, the JavaScript heap of the page and of the comments frame
   (Chrome DevTools protocol, Runtime.getHeapUsage) and their element counts.

Only processes this script started are stopped, by PID.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import widget_load as wl  # noqa: E402
from harness import RESULTS, git_state, log, wait_idle, write_section  # noqa: E402
from rejoinder.embedded import EmbeddedRedis  # noqa: E402
from tests.support.servers import AppServer  # noqa: E402

MARK_BEGIN, MARK_END = harness.markers("long_thread")
REPLIES = wl.REPLIES
FIRST_MS_TARGET = 500
LONG_TASK_MS = 50

# Every frame: each main-thread task over 50 ms, on the wall clock (performance.timeOrigin-based).
LONG_TASKS = """
(() => {
  const L = window.__long = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) L.push([performance.timeOrigin + e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { /* no long-task timing here */ }
})();
"""


def texts(roots: int) -> tuple[str, str]:
    return wl.root_text(0)[:40], f"Reply {REPLIES - 1} to comment {roots - 1}, agreeing"


def probe(system: str, first: int, last: int, roots: int) -> str:
    return wl.probe(system, first, last, *texts(roots))


def heap(context: Any, target: Any) -> int:
    session = context.new_cdp_session(target)
    try:
        return int(session.send("Runtime.getHeapUsage")["usedSize"])
    finally:
        session.detach()


def one_run(browser: Any, system: str, url: str, ids: tuple[int, int], args: argparse.Namespace) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(probe(system, *ids, args.roots))
        page.add_init_script(LONG_TASKS)
        wl.settle()
        page.goto(url)
        seen = "() => window.__seen || {}"
        if system == "rejoinder":
            wl.wait_for(lambda: page.evaluate("() => !!(window.__seen && window.__seen.reveal)"), 30, "the reveal")
            frame = wl.wait_for(lambda: next((f for f in page.frames if "/frame?" in f.url), None), 30, "the iframe")
        else:
            frame = page.main_frame
        wl.wait_for(lambda: frame.evaluate("() => !!(window.__seen && window.__seen.first)"), 120, "the first comment")
        t0 = time.monotonic()
        steps = 0
        reached = None
        tracing = False
        speed = args.step * 1000 / args.interval  # px/s, kept whatever each step costs
        while time.monotonic() - t0 < args.cap:
            if args.trace is not None and not tracing and time.monotonic() - t0 >= args.trace:
                browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
                tracing = True
            page.evaluate(f"() => scrollTo(0, {int(speed * (time.monotonic() - t0))})")
            steps += 1
            time.sleep(args.interval / 1000)
            # Done when the last comment is in the page and the page is scrolled to its end (Isso's
            # client has every comment in the page at load; the scroll still goes all the way down).
            if steps % 10 == 0 and frame.evaluate("() => !!(window.__seen && window.__seen.last)") and page.evaluate(
                    "() => scrollY + innerHeight >= document.documentElement.scrollHeight - 2"):
                reached = time.monotonic() - t0
                break
        if tracing:
            explain_trace(browser.stop_tracing(), args.trace)
        host, inner = page.evaluate(seen), frame.evaluate(seen)
        origin = page.evaluate("() => performance.timeOrigin")
        long_tasks = [(start, d, "page") for start, d in page.evaluate("() => window.__long || []")]
        if frame is not page.main_frame:
            long_tasks += [(start, d, "frame") for start, d in frame.evaluate("() => window.__long || []")]
        # Comments drawn (as elements) at the end: Rejoinder sleeps those far from the reader in a thread this long.
        shown = frame.locator("li.rj-item[data-id]:not(.rj-asleep)" if system == "rejoinder"
                              else "#isso-root .isso-comment").count()
        elements = page.evaluate("() => document.getElementsByTagName('*').length")
        heap_page = heap(context, page)
        heap_frame = 0
        if frame is not page.main_frame:
            elements += frame.evaluate("() => document.getElementsByTagName('*').length")
            heap_frame = heap(context, frame)
    finally:
        context.close()
    if errors:
        raise RuntimeError(f"{system}: page errors {errors}")
    reveal = host.get("reveal", 0.0)
    first_abs = max(inner["first"], reveal)
    loading = [d for start, d, _ in long_tasks if start < first_abs]
    scrolling = [d for start, d, _ in long_tasks if start >= first_abs]
    where = sorted({w for start, _, w in long_tasks if start >= first_abs})
    # When each long task of the scroll came (seconds after the first comment showed) and in which document.
    at = [(round((start - first_abs) / 1000, 2), round(d), w) for start, d, w in sorted(long_tasks) if start >= first_abs]
    return {"first_ms": first_abs - origin, "reached_s": reached, "shown": shown, "steps": steps,
            "long_load": loading, "long_scroll": scrolling, "long_scroll_where": where, "long_scroll_at": at,
            "heap_page": heap_page, "heap_frame": heap_frame, "elements": elements}


TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.execute",
                    "blink.user_timing", "loading"]


def explain_trace(raw: bytes, since: float) -> None:
    """Print, for every renderer main-thread task over 50 ms in a Chromium trace, what it spent its time on
    (the events inside it that took 3 ms or more, nested), and save the trace for DevTools."""
    import json

    out = HERE / ".work" / "long_thread_trace.json"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(raw)
    events = json.loads(raw)
    events = events["traceEvents"] if isinstance(events, dict) else events
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    spans = sorted((e for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains and "dur" in e),
                   key=lambda e: (e["ts"], -e["dur"]))
    first = spans[0]["ts"] if spans else 0
    for task in spans:
        if task["name"] not in ("RunTask", "ThreadControllerImpl::RunTask") or task["dur"] < LONG_TASK_MS * 1000:
            continue
        log(f"trace: {task['dur'] / 1000:.0f} ms task at {since + (task['ts'] - first) / 1e6:.1f} s (pid {task['pid']})")
        stack: list[int] = []
        for e in spans:
            if e is task or (e["pid"], e["tid"]) != (task["pid"], task["tid"]) or e["dur"] < 3000:
                continue
            if not task["ts"] <= e["ts"] < task["ts"] + task["dur"]:
                continue
            while stack and e["ts"] >= stack[-1]:
                stack.pop()
            data = e.get("args", {}).get("data") or e.get("args", {}).get("beginData") or {}
            what = {k: data[k] for k in ("url", "functionName", "type", "elementCount", "dirtyObjects",
                                         "totalObjects", "usedHeapSizeBefore", "usedHeapSizeAfter") if k in data}
            log(f"trace:   {'  ' * len(stack)}{e['name']} {e['dur'] / 1000:.1f} ms {what or ''}")
            stack.append(e["ts"] + e["dur"])
    log(f"trace: saved {out.relative_to(HERE.parent)} (open it in DevTools' Performance panel)")


def fmt_tasks(values: list[float]) -> str:
    if not values:
        return "0"
    return f"{len(values)} (longest {max(values):,.0f} ms)"


def section(res: dict[str, list[dict[str, Any]]], args: argparse.Namespace, total: int) -> str:
    names = {"rejoinder": "Rejoinder", "isso": wl.NAMES["isso"]}
    lines = [MARK_BEGIN, "## Long threads in the widget", "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC by `bench/long_thread.py` on {wl.machine()}; "
             f"Rejoinder at {git_state('server', 'static', 'widget/src')} (one uvicorn worker), Isso {wl.ISSO_VERSION} "
             f"under gunicorn (2 sync workers), servers, browser and page on this machine. One thread of "
             f"{total:,} comments ({args.roots:,} top-level, {REPLIES} replies each), seeded through each server's API. "
             f"Each run: a fresh context (1280 x 900, cold cache) loads the blog page; then the page is scrolled "
             f"{args.step:,} px every {args.interval} ms ({args.step * 1000 // args.interval:,} px/s, a reader skimming fast) until the thread's last comment "
             f"is in the page and the page is scrolled to its end. A long-task observer in every frame records main-thread tasks over {LONG_TASK_MS} ms "
             f"(frames the reader sees stutter).", "",
             "| run | first comment visible | scrolled to the end after | comments drawn at the end | tasks > 50 ms while loading | "
             "while scrolling | JS heap (page + comments frame) | elements |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for system, runs in res.items():
        for i, r in enumerate(runs):
            reached = f"{r['reached_s']:.1f} s" if r["reached_s"] is not None else f"not in {args.cap:.0f} s"
            lines.append(f"| {names[system]} {i + 1} | {r['first_ms']:,.0f} ms | {reached} | {r['shown']:,} | "
                         f"{fmt_tasks(r['long_load'])} | {fmt_tasks(r['long_scroll'])} | "
                         f"{(r['heap_page'] + r['heap_frame']) / 2**20:,.1f} MiB | {r['elements']:,} |")
    lines.append("")
    if res.get("rejoinder"):
        first = statistics.median(r["first_ms"] for r in res["rejoinder"])
        # Every task the observer reports is over 50 ms (one it rounds to "50 ms" too): met only with none.
        long = sum(len(r["long_scroll"]) for r in res["rejoinder"])
        worst = max((max(r["long_scroll"]) if r["long_scroll"] else 0) for r in res["rejoinder"])
        lines.append(f"Targets (Rejoinder): first comments visible < {FIRST_MS_TARGET} ms after page load: "
                     f"{first:,.1f} ms median, **{'met' if first < FIRST_MS_TARGET else 'missed'}**; no task over "
                     f"{LONG_TASK_MS} ms while scrolling through the whole thread: {long} in {len(res['rejoinder'])} "
                     f"runs{f', longest {worst:,.1f} ms' if long else ''}, **{'met' if not long else 'missed'}**.")
        lines.append("")
    lines.append("Rerun: `.venv/bin/python bench/long_thread.py` (`--quick`: 1,000 comments, no RESULTS.md).")
    lines += [MARK_END, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--roots", type=int, default=2500, help="top-level comments (3 replies each)")
    ap.add_argument("--runs", type=int, default=2, help="runs per system")
    ap.add_argument("--step", type=int, default=600, help="px scrolled per step")
    ap.add_argument("--interval", type=int, default=100, help="ms between steps")
    ap.add_argument("--cap", type=float, default=600, help="longest scroll, s")
    ap.add_argument("--only", choices=wl.SYSTEMS, help="one system only (no RESULTS.md)")
    ap.add_argument("--quick", action="store_true", help="1,000 comments, 1 run each, no RESULTS.md")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--trace", type=float, metavar="S",
                    help="record a Chromium trace from S seconds into the scroll and explain each long task (no RESULTS.md)")
    args = ap.parse_args(argv)
    if args.quick:
        args.roots, args.runs = 250, 1
    total = args.roots * (1 + REPLIES)
    systems = (args.only,) if args.only else wl.SYSTEMS
    page, uri, title = f"long-{total}", f"/long-{total}", f"A post with {total:,} comments"
    if "isso" in systems:
        wl.ensure_isso_venv()
    folder = Path(tempfile.mkdtemp(prefix="rejoinder-long-thread-"))
    db = EmbeddedRedis(folder / "valkey").start()
    app = isso = None
    pages = wl.PageServer()
    try:
        urls: dict[str, str] = {}
        ids: dict[str, tuple[int, int]] = {}
        if "rejoinder" in systems:
            app = AppServer(db.url, env={"REJOINDER_SITE_CACHE_SECONDS": "2"}).start()
            pages.pages["/rejoinder/"] = wl.rejoinder_page(app.base, page, title)
            wl.register(app, pages.origin)
            t = time.monotonic()
            ids["rejoinder"] = wl.seed_rejoinder(app, page, title, args.roots)
            log(f"Rejoinder: {total:,} comments seeded in {time.monotonic() - t:.0f} s")
            urls["rejoinder"] = pages.origin + "/rejoinder/"
        if "isso" in systems:
            isso = wl.IssoServer(folder / "isso", pages.origin).start()
            pages.pages["/isso/"] = wl.isso_page(isso.base, uri, title)
            t = time.monotonic()
            ids["isso"] = wl.seed_isso(isso, uri, title, args.roots)
            log(f"Isso: {total:,} comments seeded in {time.monotonic() - t:.0f} s")
            urls["isso"] = pages.origin + "/isso/"
        from playwright.sync_api import sync_playwright

        res: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=wl.CHROMIUM, args=wl.ARGS)
            try:
                for i in range(args.runs):
                    for system in (systems if i % 2 == 0 else tuple(reversed(systems))):
                        wait_idle(15.0, 30, sample=1.0)
                        r = one_run(browser, system, urls[system], ids[system], args)
                        res[system].append(r)
                        log(f"{system} run {i + 1}: first {r['first_ms']:.0f} ms, last reached "
                            f"{r['reached_s'] if r['reached_s'] is None else round(r['reached_s'], 1)} s, "
                            f"{r['shown']} shown, long tasks loading {fmt_tasks(r['long_load'])}, "
                            f"scrolling {fmt_tasks(r['long_scroll'])} {r['long_scroll_at']}, heap "
                            f"{(r['heap_page'] + r['heap_frame']) / 2**20:.1f} MiB, {r['elements']} elements")
            finally:
                browser.close()
    finally:
        if app is not None:
            app.stop()
        if isso is not None:
            isso.stop()
        pages.stop()
        db.stop()
    text = section(res, args, total)
    print(text)
    if not (args.quick or args.only or args.no_write or args.trace is not None):
        write_section("long_thread", text)
        log(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
