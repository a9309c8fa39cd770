"""RemoteStore: which threads follow a Mastodon status or a Bluesky post, when each is next looked at,
which remote replies became which comments, and the remote servers that asked us to wait."""

from __future__ import annotations

import hashlib
import time

import orjson
from redis.asyncio import Redis

from . import keys
from .scripts import Scripts

SOURCES = ("mastodon", "bluesky")
RELINK_SECONDS = 24 * 3600
# A claimed thread is not due again for this long unless its look reschedules it: two nodes that both
# think they hold the site's lease (one lost it to expiry, a failover) never look at it together.
CLAIM_MS = 120_000

# KEYS[1] the site's due zset; ARGV: now (ms), limit, claim (ms). The due threads, each moved on by the
# claim in the same step as it is read.
_CLAIM = """
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
local until_ms = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, tid in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', until_ms, tid) end
return due
"""


class RemoteStore:
    def __init__(self, redis: Redis, scripts: Scripts, *, events_maxlen: int) -> None:
        self.redis = redis
        self.scripts = scripts
        self.events_maxlen = events_maxlen
        self._claim = redis.register_script(_CLAIM)

    async def link(self, site: str, tid: str, source: str, ref: str, *, by_admin: bool) -> bool:
        """Follow `ref` (a status URL, an at:// URI) as the thread's post on `source`; "" stops following
        it. An admin's link is trusted; a page's is followed only if the post is by one of the site's own
        accounts (checked at the first look). False when the thread is gone or nothing changed."""
        meta = keys.thread_meta(tid)
        current = await self.redis.hmget(meta, ["site", source, source + "_by"])
        if current[0] != site:
            return False
        by = "admin" if by_admin else "page"
        if (current[1] or "") == ref and (not ref or current[2] == by):
            return False
        if not by_admin and current[1] and not await self.redis.set(
                keys.remote_relinked(tid), "1", nx=True, ex=RELINK_SECONDS):
            return False  # a page may change the post it names once a day (a stranger's request could too)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(meta, mapping={source: ref, source + "_by": by if ref else ""})
            # A new post: its author is checked again, and its failures start over.
            pipe.hdel(keys.remote_state(tid), f"{source}:verified", f"{source}:fails", f"{source}:error",
                      f"{source}:did")
            await pipe.execute()
        if ref:
            await self.schedule(site, tid, int(time.time() * 1000))
        return True

    async def schedule(self, site: str, tid: str, due_ms: int) -> None:
        await self.redis.zadd(keys.remote_due(site), {tid: due_ms})

    async def unschedule(self, site: str, tid: str) -> None:
        await self.redis.zrem(keys.remote_due(site), tid)

    async def claim_due(self, site: str, now_ms: int, limit: int) -> list[str]:
        """The threads due by `now_ms`, taken: none is due again for CLAIM_MS unless rescheduled, so
        another node reading now gets the others."""
        return await self._claim(keys=[keys.remote_due(site)], args=[now_ms, limit, CLAIM_MS])

    async def following(self, site: str) -> int:
        return int(await self.redis.zcard(keys.remote_due(site)))

    async def next_due(self, site: str) -> int | None:
        first = await self.redis.zrange(keys.remote_due(site), 0, 0, withscores=True)
        return int(first[0][1]) if first else None

    async def mapping(self, tid: str) -> dict[str, tuple[int, str]]:
        raw = await self.redis.hgetall(keys.remote_map(tid))
        out = {}
        for key, value in raw.items():
            cid, _, digest = value.partition("|")
            if cid.isdigit():
                out[key] = (int(cid), digest)
        return out

    async def remember(self, tid: str, key: str, cid: int, digest: str) -> None:
        await self.redis.hset(keys.remote_map(tid), key, f"{cid}|{digest}")

    async def forget(self, tid: str, key: str) -> None:
        await self.redis.hdel(keys.remote_map(tid), key)

    async def state(self, tid: str) -> dict[str, str]:
        return await self.redis.hgetall(keys.remote_state(tid))

    async def note(self, tid: str, fields: dict[str, str | int]) -> None:
        await self.redis.hset(keys.remote_state(tid), mapping=fields)

    async def set_counts(self, tid: str, counts: dict[str, object]) -> bool:
        result = await self.scripts["set_remote"](
            keys=[keys.thread_meta(tid), keys.events(tid)],
            args=[orjson.dumps(counts, option=orjson.OPT_SORT_KEYS).decode(), self.events_maxlen])
        return result[0] == "ok"

    @staticmethod
    def _host(host: str) -> str:
        return keys.remote_host(hashlib.sha256(host.lower().encode()).hexdigest()[:24])

    async def host_wait(self, host: str) -> int:
        """Until when (ms) `host` asked us to wait; 0 if it did not."""
        return int(await self.redis.get(self._host(host)) or 0)

    async def hold_host(self, host: str, until_ms: int) -> None:
        ttl = until_ms - int(time.time() * 1000)
        if ttl > 0:
            await self.redis.set(self._host(host), until_ms, px=ttl)
