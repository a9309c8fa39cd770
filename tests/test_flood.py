"""An anonymous flood against every route a stranger can reach stores a bounded amount: the rate limits
hold the writes, records made by reading expire, and nothing else an anonymous request creates lasts.

Bounded itself: a fixed number of requests from one address (the limits are per address), about 20 s."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
import redis as redis_sync

from rejoinder.embedded import EmbeddedRedis

from .conftest import SITE, register_site
from .support.flood import census, flood
from .support.oauth_provider import app_env as provider_env
from .support.servers import AppServer

# What such a flood may leave behind (measured: +382 keys, +8 without expiry, +0.8 MiB; bench/RESULTS.md,
# "Flood"): the limits let through 30 writes, 30 new pages, 20 sign-in starts and 150 likes a minute
# from one address, and every key a refused or read-only request makes expires.
MAX_NEW_KEYS = 450
MAX_NEW_KEYS_WITHOUT_EXPIRY = 20
MAX_NEW_MEMORY = 2 * 1024 * 1024


@pytest.fixture
def target() -> tuple[AppServer, redis_sync.Redis]:
    db = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="rejoinder-flood-")), password="pw").start()
    # Sign-in configured (nothing is asked of the provider until a reader comes back from it).
    server = AppServer(db.url, env={**provider_env("http://127.0.0.1:9"), "REJOINDER_RATE_IP_WRITES": "30",
                                    "REJOINDER_RATE_IDENTITY_WRITES": "20"}).start()
    client = redis_sync.Redis.from_url(db.url, decode_responses=True)
    register_site(client, SITE, [server.page_origin])
    yield server, client
    client.close()
    server.stop()
    db.stop()


async def test_an_anonymous_flood_stores_a_bounded_amount(target) -> None:
    server, client = target
    keys_before, lasting_before, memory_before = census(client)
    started = time.monotonic()
    statuses = await flood(server)
    keys_after, lasting_after, memory_after = census(client)
    assert 500 not in statuses and statuses.get(429, 0) > 0, statuses  # the limits were reached, nothing broke
    assert keys_after - keys_before <= MAX_NEW_KEYS, (keys_before, keys_after)
    assert lasting_after - lasting_before <= MAX_NEW_KEYS_WITHOUT_EXPIRY, (lasting_before, lasting_after)
    assert memory_after - memory_before <= MAX_NEW_MEMORY, (memory_before, memory_after)
    print(f"flood: {sum(statuses.values())} requests in {time.monotonic() - started:.1f} s, {statuses}; "
          f"keys +{keys_after - keys_before} (+{lasting_after - lasting_before} without expiry), "
          f"memory +{(memory_after - memory_before) / 1024:.0f} KiB")
