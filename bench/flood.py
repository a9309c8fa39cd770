"""What an anonymous flood from one address leaves in Valkey: the figures behind tests/test_flood.py's bound.

    .venv/bin/python bench/flood.py          # 3 floods against fresh servers, writes its section of bench/RESULTS.md

Each flood is tests/support/flood.py: 120 rounds of one request of every anonymous kind (new pages, comments
from fresh reader ids, likes, replies, counts, sign-in starts, handovers, avatars, mail links, site settings,
frame documents) and a live socket every tenth round, as fast as one client sends them, with the real limits.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import redis as redis_sync

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import harness  # noqa: E402
from rejoinder.embedded import EmbeddedRedis  # noqa: E402
from tests.conftest import SITE, register_site  # noqa: E402
from tests.support.flood import ROUNDS, census, flood  # noqa: E402
from tests.support.oauth_provider import app_env  # noqa: E402
from tests.support.servers import AppServer  # noqa: E402

BEGIN, END = harness.markers("flood")
RUNS = 3


def one_run() -> dict[str, float]:
    db = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="rejoinder-flood-")), password="pw").start()
    server = AppServer(db.url, env={**app_env("http://127.0.0.1:9"), "REJOINDER_RATE_IP_WRITES": "30",
                                    "REJOINDER_RATE_IDENTITY_WRITES": "20"}).start()
    client = redis_sync.Redis.from_url(db.url, decode_responses=True)
    try:
        register_site(client, SITE, [server.page_origin])
        keys0, lasting0, memory0 = census(client)
        started = time.monotonic()
        statuses = asyncio.run(flood(server))
        seconds = time.monotonic() - started
        keys1, lasting1, memory1 = census(client)
    finally:
        client.close()
        server.stop()
        db.stop()
    return {"requests": sum(statuses.values()), "seconds": seconds, "refused": statuses.get(429, 0),
            "errors": sum(n for s, n in statuses.items() if s >= 500), "keys": keys1 - keys0,
            "lasting": lasting1 - lasting0, "kib": (memory1 - memory0) / 1024}


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    rows = "\n".join(f"| {i + 1} | {r['requests']:.0f} in {r['seconds']:.1f} s | {r['refused']:.0f} | {r['errors']:.0f} "
                     f"| +{r['keys']:.0f} | +{r['lasting']:.0f} | +{r['kib']:.0f} KiB |" for i, r in enumerate(runs))
    worst = {k: max(r[k] for r in runs) for k in ("keys", "lasting", "kib")}
    section = f"""{BEGIN}
## Flood: what one address can store

{harness.machine_line()}:
{RUNS} floods of {ROUNDS} rounds each against a fresh server and Valkey with the default limits (tests/support/flood.py):
every anonymous route, fresh reader ids each request.

| run | requests | refused (429) | 5xx | keys | of them without expiry | memory |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

Worst of the runs: +{worst['keys']:.0f} keys, +{worst['lasting']:.0f} without expiry, +{worst['kib']:.0f} KiB.
tests/test_flood.py holds every run under 450 keys, 20 without expiry and 2 MiB. What stays: the comments
and likes the limits let through (30 writes, 150 likes a minute per address). What goes: rate counters
after two windows, sign-in flows after ten minutes, duplicate markers after an hour, provisional thread
records (pages only read) after a day, guests' like sets half a year after their last like.
{END}"""
    print(section)
    harness.write_section("flood", section)


if __name__ == "__main__":
    main()
