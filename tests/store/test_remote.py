"""Following remote posts when two nodes both think they hold a site's lease (one lost it to expiry, a
failover): each due thread is looked at by one of them, so a remote server is never asked twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rejoinder.app import connect
from rejoinder.settings import Settings
from rejoinder.store import keys
from rejoinder.store.remote import CLAIM_MS, RemoteStore
from rejoinder.store.scripts import Scripts

SITE = "claims"


@pytest.fixture
async def two_nodes(redis_server, redis_client) -> AsyncIterator[tuple[RemoteStore, RemoteStore]]:
    redis_client.delete(keys.remote_due(SITE))
    clients = [connect(Settings.from_env({}, redis_url=redis_server.url)) for _ in range(2)]
    try:
        yield tuple(RemoteStore(c, Scripts(c), events_maxlen=100) for c in clients)  # type: ignore[misc]
    finally:
        for c in clients:
            await c.aclose()
        redis_client.delete(keys.remote_due(SITE))


async def test_two_nodes_reading_at_once_take_each_due_thread_once(two_nodes, redis_client) -> None:
    a, b = two_nodes
    now = 1_800_000_000_000
    for i in range(40):
        await a.schedule(SITE, f"t{i}", now - i)
    await a.schedule(SITE, "later", now + 5_000)
    for _ in range(5):
        first, second = await asyncio.gather(a.claim_due(SITE, now, 25), b.claim_due(SITE, now, 25))
        if first and second:
            break
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(f"t{i}" for i in range(40))
    # Taken, not dropped: each comes due again after the claim unless its look reschedules it.
    scores = dict(redis_client.zrange(keys.remote_due(SITE), 0, -1, withscores=True))
    assert scores["t0"] == now + CLAIM_MS and scores["later"] == now + 5_000
    assert await a.claim_due(SITE, now + CLAIM_MS - 1, 50) == ["later"]
    assert len(await b.claim_due(SITE, now + CLAIM_MS, 50)) == 40
