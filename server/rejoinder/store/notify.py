"""NotifyStore: the mail and webhook worker's durable state per site: cursors, batches, outbox, lease.

Everything here lives in the site's hash slot, so moving a cursor and queueing
its mail or webhook events is one atomic step on a cluster too.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys, stats
from .scripts import source

FEED = "_feed"

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class NotifyStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._commit = redis.register_script(source("notify_commit"))
        self._flush = redis.register_script(source("notify_flush"))
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    # --- cursors -------------------------------------------------------------

    async def cursors(self, site: str, consumer: str) -> dict[str, str]:
        return await self.redis.hgetall(keys.consumer(site, consumer))

    async def start_consumer(self, site: str, consumer: str, since_ms: int) -> None:
        """First run of a consumer: read the feed from `since_ms`, and threads last
        written before then from their current end (their past is not news)."""
        old = await self.redis.zrangebyscore(keys.site_threads(site), "-inf", f"({since_ms}")
        fields: dict[str, Any] = {FEED: f"{since_ms}-0"}
        for start in range(0, len(old), 500):
            chunk = old[start:start + 500]
            async with self.redis.pipeline(transaction=False) as pipe:
                for tid in chunk:
                    pipe.hget(keys.thread_meta(tid), "seq")
                seqs = await pipe.execute()
            fields.update({tid: int(seq or 0) for tid, seq in zip(chunk, seqs)})
        # One HSET: the consumer starts with all of its cursors or none.
        await self.redis.hset(keys.consumer(site, consumer), mapping=fields)

    async def set_feed_cursor(self, site: str, consumer: str, entry_id: str) -> None:
        await self.redis.hset(keys.consumer(site, consumer), FEED, entry_id)

    async def commit(self, site: str, consumer: str, tid: str, read_from: int, read_to: int, *,
                     mail: list[dict[str, str]] = (), hooks: list[dict[str, str]] = (),  # type: ignore[assignment]
                     batch: list[tuple[str, int, str]] = ()) -> bool:  # type: ignore[assignment]
        """Move the thread's cursor from read_from to read_to and queue the work; False
        (nothing done) if someone else moved the cursor first."""
        work = orjson.dumps({"mail": list(mail), "hooks": list(hooks), "batch": [list(b) for b in batch]})
        done = await self._commit(
            keys=[keys.consumer(site, consumer), keys.outbox(site), keys.batch_due(site), keys.hook_queue(site)],
            args=[tid, read_from, read_to, keys.batch_prefix(site), work])
        return bool(done)

    async def reset_consumer(self, site: str, consumer: str) -> None:
        await self.redis.delete(keys.consumer(site, consumer))

    async def events_after(self, tid: str, seq: int, count: int) -> list[tuple[str, dict[str, str]]]:
        """The thread's log after sequence number `seq`, oldest first."""
        return await self.redis.xrange(keys.events(tid), f"{seq + 1}-1", "+", count=count)

    # --- batches of new-comment mail ---------------------------------------------

    async def due_batches(self, site: str, now_ms: int, limit: int = 100) -> list[str]:
        return await self.redis.zrangebyscore(keys.batch_due(site), "-inf", now_ms, start=0, num=limit)

    async def batch_items(self, site: str, member: str) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for raw in await self.redis.lrange(keys.batch_prefix(site) + member, 0, 199)]

    async def close_batch(self, site: str, member: str, used: int, mail: dict[str, str] | None) -> None:
        await self._flush(keys=[keys.batch_prefix(site) + member, keys.batch_due(site), keys.outbox(site)],
                          args=[member, used, orjson.dumps(mail).decode() if mail else ""])

    # --- the outbox ----------------------------------------------------------------

    async def queue_mail(self, site: str, entry: dict[str, str]) -> None:
        """A mail of its own (a sign-in link): into the site's outbox, sent by the worker like any other."""
        await self.redis.xadd(keys.outbox(site), entry)

    async def outbox(self, site: str, count: int = 50) -> list[tuple[str, dict[str, str]]]:
        return await self.redis.xrange(keys.outbox(site), "-", "+", count=count)

    async def delivered(self, site: str, entry_id: str, outcome: str) -> None:
        """The mail left the outbox: "sent" (the server took it) or "failed" (refused for good, or too
        old), counted on the day's figures in the same step."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xdel(keys.outbox(site), entry_id)
            stats.add(pipe, site, f"mail:{outcome}")
            await pipe.execute()

    async def deferred(self, site: str) -> None:
        """The mail server failed for now; the mail stays and is tried again."""
        async with self.redis.pipeline(transaction=True) as pipe:
            stats.add(pipe, site, "mail:deferred")
            await pipe.execute()

    async def outbox_size(self, site: str) -> int:
        return await self.redis.xlen(keys.outbox(site))

    async def may_ask(self, site: str, email_hash: str, every_seconds: int) -> bool:
        """Whether a confirmation may go to this address from this site now (then not again for a while)."""
        return bool(await self.redis.set(keys.confirm_asked(site, email_hash), "1", nx=True, ex=every_seconds))

    # --- owners who stopped held-comment mail ------------------------------------

    async def owner_opted_out(self, site: str) -> set[str]:
        return set(await self.redis.smembers(keys.owner_optout(site)))

    async def opt_out_owner(self, site: str, email_hash: str) -> None:
        await self.redis.sadd(keys.owner_optout(site), email_hash)

    async def opt_in_owners(self, site: str, email_hashes: list[str]) -> None:
        if email_hashes:
            await self.redis.srem(keys.owner_optout(site), *email_hashes)

    # --- one node per site ----------------------------------------------------------

    async def hold_lease(self, site: str, node: str, ms: int) -> bool:
        """Take the site's lease, or renew it if it is ours; False if another node holds it."""
        return bool(await self._renew(keys=[keys.worker_lease(site)], args=[node, ms]))

    async def release_lease(self, site: str, node: str) -> None:
        await self._release(keys=[keys.worker_lease(site)], args=[node])
