"""A site's small steps (counting writes, announcing them) asked for at once share script runs, each keeping its own reply."""

from __future__ import annotations

import asyncio
import time

from rejoinder.app import connect
from rejoinder.settings import Settings
from rejoinder.store import keys
from rejoinder.store.feed import FeedStore
from rejoinder.store.ratelimit import RateLimiter
from rejoinder.store.site_steps import SiteSteps


def _script_runs(redis_client) -> int:
    """EVALSHA calls the server (every primary of a cluster) has answered so far."""
    servers = ([redis_client.get_redis_connection(node) for node in redis_client.get_primaries()]
               if hasattr(redis_client, "get_primaries") else [redis_client])
    return sum(int(server.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)) for server in servers)


async def test_steps_asked_for_at_once_share_runs_and_keep_their_replies(redis_server, redis_client) -> None:
    redis = connect(Settings.from_env({}, redis_url=redis_server.url))
    try:
        steps = SiteSteps(redis)
        limiter = RateLimiter(redis, 60, steps)
        feed = FeedStore(redis, steps=steps)
        redis_client.hset(keys.bans("s1"), "banned-ip", "1")
        await limiter.hit("s1", [("write:ip", "warm", 100)])  # loads the script
        before = _script_runs(redis_client)
        replies = await asyncio.gather(
            *(limiter.hit("s1", [("write:ip", "same", 100)], ["banned-ip" if i == 7 else "fine"]) for i in range(40)),
            *(feed.announce("s1", f"t{i}", "comment.created") for i in range(40)),
        )
        runs = _script_runs(redis_client) - before
    finally:
        await redis.aclose()
    # Each count saw its own write: 40 counts of one counter, one banned caller.
    assert [i for i, banned in enumerate(replies[:40]) if banned] == [7]
    slot = int(time.time()) // 60
    assert int(redis_client.get(keys.rate("s1", "write:ip", "same", slot))) == 40
    # Every announcement is on the site's feed, once.
    entries = redis_client.xrange(keys.site_feed("s1"))
    assert sorted(e[1]["tid"] for e in entries) == sorted(f"t{i}" for i in range(40))
    # 80 steps, far fewer runs: the first went alone, the rest waited for it and went together.
    assert 2 <= runs <= 4, runs


async def test_a_failed_run_fails_only_its_own_steps(redis_server, redis_client) -> None:
    redis = connect(Settings.from_env({}, redis_url=redis_server.url))
    try:
        steps = SiteSteps(redis)
        feed = FeedStore(redis, steps=steps)
        redis_client.set(keys.site_feed("s2"), "not a stream")  # XADD on it fails: WRONGTYPE
        results = await asyncio.gather(*(feed.announce("s2", f"t{i}", "comment.created") for i in range(5)),
                                       return_exceptions=True)
        assert all(isinstance(r, Exception) and "WRONGTYPE" in str(r) for r in results), results
        redis_client.delete(keys.site_feed("s2"))
        # The site is not left waiting on a run that failed: the next steps go through.
        await asyncio.gather(*(feed.announce("s2", f"u{i}", "comment.created") for i in range(5)))
    finally:
        await redis.aclose()
    assert len(redis_client.xrange(keys.site_feed("s2"))) == 5
