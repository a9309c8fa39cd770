"""Steps asked for at once (a site's counts and announcements, a thread's new comments) share
script runs, each keeping its own reply, its own failure and its caller's cancellation: on one
server whatever their slots, on a cluster within one slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis as sync_redis
from redis.asyncio.cluster import RedisCluster
from redis.cluster import RedisCluster as SyncCluster
from redis.crc import key_slot
from redis.exceptions import ResponseError

from rejoinder.app import connect
from rejoinder.errors import ApiError
from rejoinder.settings import Settings
from rejoinder.store import keys
from rejoinder.store.comments import CommentStore
from rejoinder.store.feed import FeedStore
from rejoinder.store.ratelimit import RateLimiter
from rejoinder.store.scripts import Scripts
from rejoinder.store.steps import Steps



class Counted(Steps):
    """Steps that counts its script runs."""

    def __init__(self, redis: Any) -> None:
        super().__init__(redis)
        self.redis = redis
        self.runs = 0
        script = self._script

        async def counted(**kw: Any) -> Any:
            self.runs += 1
            return await script(**kw)

        counted.registered_client, counted.script = script.registered_client, script.script  # type: ignore[attr-defined]
        self._script = counted  # type: ignore[assignment]


@pytest.fixture
async def steps(redis_server) -> AsyncIterator[Counted]:
    redis = connect(Settings.from_env({}, redis_url=redis_server.url))
    try:
        counted = Counted(redis)
        await counted.load()  # as /readyz does: learns whether runs may mix slots
        assert counted.mixed is not isinstance(redis, RedisCluster)
        yield counted
    finally:
        await redis.aclose()


def hold_writes(client: Any, ms: int = 300) -> None:
    """Make the server hold scripts that write for `ms`: a run sent now stays on its way."""
    if isinstance(client, SyncCluster):
        client.execute_command("CLIENT", "PAUSE", ms, "WRITE", target_nodes=SyncCluster.PRIMARIES)
    else:
        client.execute_command("CLIENT", "PAUSE", ms, "WRITE")


def _own_slots(node_url: str) -> set[int]:
    """The hash slots a cluster node serves."""
    client = sync_redis.Redis.from_url(node_url)
    try:
        port = client.connection_pool.connection_kwargs["port"]
        return {slot for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS")
                if master[1] == port for slot in range(start, end + 1)}
    finally:
        client.close()


def _sites_served_by(slots: set[int], n: int) -> list[str]:
    sites = (f"site{i}" for i in range(10_000))
    return [site for site in sites if key_slot(keys.site_feed(site).encode()) in slots][:n]


@pytest.mark.parametrize("redis_server", ["cluster"], indirect=True)  # a node of the cluster
async def test_a_plain_client_to_a_cluster_node_keeps_runs_to_one_slot(redis_server, redis_client) -> None:
    node = redis_server.nodes[0]
    a, b = _sites_served_by(_own_slots(node.url), 2)
    redis = connect(Settings.from_env({}, redis_url=node.url))  # redis://, not redis+cluster://
    try:
        steps = Counted(redis)
        await steps.load()
        assert steps.mixed is False  # the node says cluster_enabled:1
        limiter = RateLimiter(redis, 60, steps)
        assert await asyncio.gather(*(limiter.hit(site, [("write:ip", f"w{i}", 100)])
                                      for site in (a, b) for i in range(5))) == [False] * 10
        assert steps.runs == 4  # per slot: the first alone, then the other four

        # A server that said it takes mixed runs and then refuses one (CROSSSLOT,
        # before anything ran): each slot's steps go on their own, from then on.
        steps = Counted(redis)
        steps.mixed = True
        limiter = RateLimiter(redis, 60, steps)
        slot = int(time.time()) // 60  # the rate window, taken before the writes are held
        hold_writes(redis_client)
        first = asyncio.ensure_future(limiter.hit(a, [("write:ip", "x", 100)]))
        await asyncio.sleep(0)
        rest = await asyncio.gather(*(limiter.hit(site, [("write:ip", f"x{i}", 100)])
                                      for site in (a, b) for i in range(3)))
        assert await first is False and rest == [False] * 6
        assert steps.mixed is False
        assert steps.runs == 4  # the first; the mixed run, refused; then a's and b's
        for site, who in [(a, "x"), *((site, f"x{i}") for site in (a, b) for i in range(3))]:
            assert redis_client.get(keys.rate(site, "write:ip", who, slot)) == "1", (site, who)
    finally:
        await redis.aclose()


@pytest.mark.parametrize("redis_server", ["single"], indirect=True)  # one server's ACL
async def test_a_server_that_refuses_info_keeps_runs_to_one_slot(redis_server, redis_client) -> None:
    redis_client.execute_command("ACL", "SETUSER", "noinfo", "on", ">noinfo-pw", "~*", "&*", "+@all", "-info")
    redis = connect(Settings.from_env({}, redis_url=f"redis://noinfo:noinfo-pw@127.0.0.1:{redis_server.port}/0"))
    try:
        steps = Counted(redis)
        await steps.load()
        assert steps.mixed is False  # NOPERM: as behind a proxy that does not answer INFO
        limiter = RateLimiter(redis, 60, steps)
        assert await asyncio.gather(*(limiter.hit(site, [("write:ip", f"w{i}", 100)])
                                      for site in ("s8", "s9") for i in range(5))) == [False] * 10
        assert steps.runs == 4  # per slot: the first alone, then the other four
    finally:
        await redis.aclose()
        redis_client.execute_command("ACL", "DELUSER", "noinfo")


async def test_steps_asked_for_at_once_share_runs_and_keep_their_replies(steps, redis_client) -> None:
    limiter, feed = RateLimiter(steps.redis, 60, steps), FeedStore(steps.redis, steps=steps)
    redis_client.hset(keys.bans("s1"), "banned-ip", "1")
    replies = await asyncio.gather(
        *(limiter.hit("s1", [("write:ip", "same", 100)], ["banned-ip" if i == 7 else "fine"]) for i in range(40)),
        *(feed.announce("s1", f"t{i}", "comment.created") for i in range(40)),
    )
    # Each count saw its own write: 40 counts of one counter, one banned caller.
    assert [i for i, banned in enumerate(replies[:40]) if banned] == [7]
    slot = int(time.time()) // 60
    assert int(redis_client.get(keys.rate("s1", "write:ip", "same", slot))) == 40
    # Every announcement is on the site's feed, once.
    entries = redis_client.xrange(keys.site_feed("s1"))
    assert sorted(e[1]["tid"] for e in entries) == sorted(f"t{i}" for i in range(40))
    # 80 steps, 3 runs: the first went alone, the rest waited for it and went 64 + 15.
    assert steps.runs == 3


async def test_a_failing_step_fails_alone(steps, redis_client) -> None:
    limiter, feed = RateLimiter(steps.redis, 60, steps), FeedStore(steps.redis, steps=steps)
    redis_client.set(keys.site_feed("s2"), "not a stream")  # XADD on it fails: WRONGTYPE
    slot = int(time.time()) // 60  # the rate window, taken before the writes are held
    hold_writes(redis_client)
    first = asyncio.ensure_future(limiter.hit("s2", [("write:ip", "first", 100)]))
    await asyncio.sleep(0)  # the first step is on its way; the next three share the following run
    results = await asyncio.gather(limiter.hit("s2", [("write:ip", "a", 100)]),
                                   feed.announce("s2", "t1", "comment.created"),
                                   limiter.hit("s2", [("write:ip", "b", 100)]),
                                   return_exceptions=True)
    assert await first is False
    assert results[0] is False and results[2] is False, results
    assert isinstance(results[1], Exception) and "WRONGTYPE" in str(results[1]), results
    assert steps.runs == 2
    assert [redis_client.get(keys.rate("s2", "write:ip", who, slot)) for who in ("a", "b")] == ["1", "1"]
    # The site is not left waiting on a run with a failure: the next steps go through.
    redis_client.delete(keys.site_feed("s2"))
    await asyncio.gather(*(feed.announce("s2", f"u{i}", "comment.created") for i in range(5)))
    assert len(redis_client.xrange(keys.site_feed("s2"))) == 5


async def test_cancelled_callers_neither_block_nor_run(steps, redis_client) -> None:
    limiter = RateLimiter(steps.redis, 60, steps)
    slot = int(time.time()) // 60  # the rate window, taken before the writes are held
    hold_writes(redis_client)
    first = asyncio.ensure_future(limiter.hit("s3", [("write:ip", "first", 100)]))
    await asyncio.sleep(0)
    queued = [asyncio.ensure_future(limiter.hit("s3", [("write:ip", f"q{i}", 100)])) for i in range(4)]
    await asyncio.sleep(0)
    first.cancel()  # the caller whose run is on its way gives up
    queued[1].cancel()  # and so does one that waits
    with pytest.raises(asyncio.CancelledError):
        await queued[1]
    # A command already sent may still finish (redis-py 8.1 can complete a call whose
    # task was cancelled just after sending it): either way, nothing hangs or fails.
    outcome = (await asyncio.gather(first, return_exceptions=True))[0]
    assert outcome is False or isinstance(outcome, asyncio.CancelledError), outcome
    # The others still get their answers from the next run...
    assert await asyncio.gather(queued[0], queued[2], queued[3]) == [False, False, False]
    counts = {who: redis_client.get(keys.rate("s3", "write:ip", who, slot)) for who in ("q0", "q1", "q2", "q3")}
    # ...and the waiting step whose caller left was not sent.
    assert counts == {"q0": "1", "q1": None, "q2": "1", "q3": "1"}
    # Nothing is left waiting for the site.
    assert await limiter.hit("s3", [("write:ip", "after", 100)]) is False
    assert steps._waiting == {}


async def test_steps_in_other_slots_share_runs_on_one_server_only(steps, redis_client) -> None:
    limiter, feed = RateLimiter(steps.redis, 60, steps), FeedStore(steps.redis, steps=steps)
    assert key_slot(keys.site_feed("s6").encode()) != key_slot(keys.site_feed("s7").encode())
    hold_writes(redis_client)
    first = [asyncio.ensure_future(limiter.hit(site, [("write:ip", "first", 100)])) for site in ("s6", "s7")]
    await asyncio.sleep(0)  # each site's first step is on its way (one server: only s6's)
    replies = await asyncio.gather(*first, *(feed.announce(site, f"t{i}", "comment.created")
                                             for site in ("s6", "s7") for i in range(10)))
    assert replies[:2] == [False, False]
    for site in ("s6", "s7"):
        assert sorted(e[1]["tid"] for e in redis_client.xrange(keys.site_feed(site))) == sorted(
            f"t{i}" for i in range(10))
    if isinstance(steps.redis, RedisCluster):
        assert steps.runs == 4  # per slot: the first alone, then its 10 announcements
    else:
        assert steps.runs == 2  # s6's first alone, then s7's first and all 20 announcements
    assert steps._waiting == {}


def _doc(text: str) -> dict[str, Any]:
    return {"author": {"kind": "guest", "name": "Ann", "website": "", "avatar": ""}, "email": "", "text": text,
            "html": f"<p>{text}</p>", "created": int(time.time() * 1000), "status": "approved", "spam_reasons": "",
            "owner": "g:ann", "edit_hash": "", "ip": "", "site": "demo"}


async def test_comments_posted_at_once_on_a_thread_share_runs(steps, api) -> None:
    tid = api.get("/api/threads", params={"site": "demo", "page": "together"}).json()["thread"]["id"]
    store = CommentStore(steps.redis, Scripts(steps.redis), events_maxlen=1000, max_depth=3,
                         idempotency_seconds=60, steps=steps)
    first = await store.create(tid, _doc("first"), None, idempotency="k-first", fingerprint="f-first")
    runs = steps.runs
    results = await asyncio.gather(
        *(store.create(tid, _doc(f"c{i}"), None, idempotency=f"k{i}", fingerprint=f"f{i}") for i in range(20)),
        store.create(tid, _doc("a reply"), first.doc["id"], idempotency="k-reply", fingerprint="f-reply"),
        store.create(tid, _doc("to nothing"), 999, idempotency="k-bad", fingerprint="f-bad"),
        store.create(tid, _doc("c3"), None, idempotency="k3", fingerprint="f3"),  # a retry of c3, same run
        # A step that fails inside the script (its document does not decode) fails alone.
        steps.run(keys.thread_slot(tid), "create_comment",
                  [keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.events(tid),
                   keys.idempotency(tid, "k-broken")],
                  [keys.thread_prefix(tid), "{not json", "", 3, 1000, 60, "f", "", 60]),
        return_exceptions=True)
    assert steps.runs - runs == 2  # 24 steps: the first alone, then the rest together
    created, reply, bad, retry, broken = results[:20], results[20], results[21], results[22], results[23]
    assert isinstance(broken, ResponseError), broken
    # Each got its own id, in order, and its own answer.
    assert [w.doc["text"] for w in created] == [f"c{i}" for i in range(20)]
    assert [w.doc["id"] for w in created] == list(range(2, 22))
    assert reply.doc["parent"] == first.doc["id"] and not reply.duplicate
    assert isinstance(bad, ApiError) and bad.code == "parent_not_found"
    assert retry.duplicate and retry.doc["id"] == created[3].doc["id"]
    # The thread shows all 22 comments, each once: the failed reply left nothing behind.
    thread = api.get(f"/api/threads/{tid}", params={"limit": 100}).json()
    assert thread["thread"]["count"] == 22
    shown = [c["html"] for c in thread["comments"]] + [r["html"] for c in thread["comments"]
                                                       for r in c.get("replies", [])]
    assert sorted(shown) == sorted(f"<p>{t}</p>" for t in ["first", "a reply", *(f"c{i}" for i in range(20))])
