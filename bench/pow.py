"""What the optional proof of work costs a reader and a bot (server/rejoinder/pow.py).

    .venv/bin/python bench/pow.py        # about a minute; writes its section of bench/RESULTS.md

A reader: the widget's Web Worker (static/pow.js) solving fresh challenges in headless Chromium
(Debian's), median and p90 over 20 solves, and the bytes the feature adds to the widget. A bot: the
`altcha` package's solver in Python on one core, solves per second, against the same challenges.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

import altcha
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import harness  # noqa: E402
from rejoinder.embedded import EmbeddedRedis  # noqa: E402
from rejoinder.store import keys  # noqa: E402
from tests.conftest import SITE, register_site, sync_client  # noqa: E402
from tests.support.servers import AppServer  # noqa: E402

BEGIN, END = harness.markers("pow")
READER_SOLVES = 20
BOT_SOLVES = 50
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SOLVE_IN_PAGE = """async () => {
  const { challenge } = await (await fetch(`/api/sites/%s/challenge`)).json();
  return await new Promise((resolve) => {
    const w = new Worker("/pow.js");
    w.onmessage = (e) => { w.terminate(); resolve(e.data); };
    w.postMessage(challenge);
  });
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    db = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="rejoinder-pow-")), password="pw").start()
    server = AppServer(db.url).start()
    try:
        client = sync_client(db.url)
        register_site(client, SITE, [server.page_origin])
        client.hset(keys.site(SITE), "pow", "1")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page()
            page.goto(f"{server.base}/healthz")
            page.evaluate(SOLVE_IN_PAGE % SITE)  # the worker's first start, not counted
            reader = [page.evaluate(SOLVE_IN_PAGE % SITE)["took"] for _ in range(READER_SOLVES)]
            browser.close()
        bot = []
        for _ in range(BOT_SOLVES):
            c = httpx.get(f"{server.base}/api/sites/{SITE}/challenge").json()["challenge"]
            started = time.perf_counter()
            altcha.solve_challenge_v1(c["challenge"], c["salt"], c["algorithm"], c["maxnumber"], 0)
            bot.append((time.perf_counter() - started) * 1000)
    finally:
        server.stop()
        db.stop()
    worker = (ROOT / "static" / "pow.js").read_bytes()
    section = f"""{BEGIN}
## Proof of work: what it costs a reader and a bot

{harness.machine_line()}:
challenges of up to {c["maxnumber"]:,} SHA-256 tries (the server's; a solution is found after half on average).

| who | solves | median | p90 | what it means |
| --- | --- | --- | --- | --- |
| a reader: the widget's Web Worker in headless Chromium | {READER_SOLVES} | {statistics.median(reader):.0f} ms | {harness.pct(reader, 90):.0f} ms | done while they type; never on the page's main thread |
| a bot: the `altcha` package's solver, one core | {BOT_SOLVES} | {statistics.median(bot):.0f} ms | {harness.pct(bot, 90):.0f} ms | at most {1000 / statistics.mean(bot):.0f} comments a second per core, before any rate limit |

Widget bytes: the worker `pow.js` is {len(worker)} B ({len(gzip.compress(worker))} B gzip), fetched only on a site
that asks for a proof of work and only once a guest starts typing; the code in `frame.js` that asks for
it is a few hundred bytes. The proof of work does not stop a determined bot (its CPU is cheap next to the
rate limits per address), it raises the price of each comment for a bot that rotates addresses.
{END}"""
    print(section)
    harness.write_section("pow", section)


if __name__ == "__main__":
    main()
