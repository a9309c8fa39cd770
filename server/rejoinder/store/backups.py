"""BackupStore: a site (or everything) to a file and back, consistent per thread while the server runs.

Each thread is dumped by one Lua script (an atomic snapshot of all its keys)
and restored by one (all or nothing). Sites, users and avatars are single keys.
Sessions, rate counters, login flows and idempotency keys are not kept: they
are short-lived by design.
"""

from __future__ import annotations

import base64
import time
from typing import Any, AsyncIterator

from redis.asyncio import Redis

from . import keys
from .scripts import source

FORMAT = "rejoinder-backup"
VERSION = 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class BackupStore:
    """Works on a client made with decode_responses=False: DUMP payloads are binary."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._dump = redis.register_script(source("dump_thread"))
        self._restore = redis.register_script(source("restore_thread"))

    async def thread_ids(self, site: str | None) -> list[str]:
        """Every thread (of one site): a keyspace scan, for this admin command only."""
        found = []
        async for key in self.redis.scan_iter(match=f"{keys.PREFIX}:{{t:*}}:meta", count=1000):
            tid = key.decode()[len(keys.PREFIX) + 4:len(keys.PREFIX) + 28]
            if not keys.THREAD_ID.match(tid):
                continue
            if site is None or (await self.redis.hget(key, "site") or b"").decode() == site:
                found.append(tid)
        return sorted(found)

    async def _single_keys(self, pattern: str) -> AsyncIterator[dict[str, Any]]:
        async for key in self.redis.scan_iter(match=pattern, count=1000):
            payload = await self.redis.dump(key)
            if payload is not None:
                ttl = await self.redis.pttl(key)
                yield {"type": "key", "key": key.decode(), "payload": _b64(payload), "ttl": max(ttl, 0)}

    async def export(self, site: str | None) -> AsyncIterator[dict[str, Any]]:
        yield {"type": "header", "format": FORMAT, "version": VERSION, "site": site,
               "created": int(time.time() * 1000)}
        site_ids = [site] if site else sorted(m.decode() for m in await self.redis.smembers(keys.site_index()))
        for site_id in site_ids:
            data = await self.redis.hgetall(keys.site(site_id))
            if data:
                yield {"type": "site", "site": {k.decode(): v.decode() for k, v in data.items()}}
        for tid in await self.thread_ids(site):
            flat = await self._dump(keys=[keys.thread_meta(tid)], args=[keys.thread_prefix(tid)])
            entries = [[flat[i].decode(), _b64(flat[i + 1]), int(flat[i + 2])] for i in range(0, len(flat), 3)]
            yield {"type": "thread", "tid": tid, "keys": entries}
        if site is None:  # accounts and their avatars belong to no one site
            async for item in self._single_keys(f"{keys.PREFIX}:{{u:*"):
                yield item
            async for item in self._single_keys(f"{keys.PREFIX}:{{av:*"):
                yield item

    async def restore(self, item: dict[str, Any]) -> str:
        kind = item.get("type")
        if kind == "site":
            site = item["site"]
            if not keys.SITE_ID.match(site.get("id", "")):
                raise ValueError(f"bad site id in backup: {site.get('id')!r}")
            await self.redis.sadd(keys.site_index(), site["id"])
            await self.redis.hset(keys.site(site["id"]), mapping=site)
            return "site"
        if kind == "thread":
            tid = item["tid"]
            if not keys.THREAD_ID.match(tid):
                raise ValueError(f"bad thread id in backup: {tid!r}")
            args: list[Any] = [keys.thread_prefix(tid)]
            for key, payload, ttl in item["keys"]:
                args += [key, base64.b64decode(payload), ttl]
            await self._restore(keys=[keys.thread_meta(tid)], args=args)
            return "thread"
        if kind == "key":
            key = item["key"]
            if not key.startswith((f"{keys.PREFIX}:{{u:", f"{keys.PREFIX}:{{av:")):
                raise ValueError(f"unexpected key in backup: {key!r}")
            await self.redis.restore(key, item["ttl"], base64.b64decode(item["payload"]), replace=True)
            return "key"
        if kind == "header":
            if item.get("format") != FORMAT or item.get("version") != VERSION:
                raise ValueError("not a Rejoinder backup of a version this server reads")
            return "header"
        raise ValueError(f"unknown backup entry {kind!r}")
