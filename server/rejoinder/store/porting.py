"""PortingStore: a thread's import, snapshot for export, and forgetting of one commenter, one Lua step each."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys
from .moving import MAX_HOPS
from .scripts import source


@dataclass
class Imported:
    added: int
    already: list[str]  # keys that an earlier run imported
    hidden_parent: list[str]  # keys of replies moved up because their parent is pending or spam
    count: int
    created_thread: bool
    tid: str = ""  # the thread written: the page's own, or the one a remap or merge moved it to


@dataclass
class Forgotten:
    comments: int  # their comments found in the thread
    deleted: int  # of those, how many were still shown or held (now placeholders or gone)
    placeholders: int  # kept in place because replies hang under them
    likes: int  # likes of theirs taken back
    count: int


class PortingStore:
    def __init__(self, redis: Redis, *, events_maxlen: int, max_depth: int) -> None:
        self.redis = redis
        self.events_maxlen = events_maxlen
        self.max_depth = max_depth
        self._import = redis.register_script(source("import_thread"))
        self._forget = redis.register_script(source("forget_thread"))
        # Progress and release touch the lock only while its token is still the caller's.
        self._progress = redis.register_script(
            "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
            "if ARGV[2] == '' then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end "
            "redis.call('EXPIRE', KEYS[1], ARGV[3]) "
            "redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1")
        self._snapshot = redis.register_script(
            "return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}")

    async def import_thread(self, tid: str, thread: dict[str, Any], items: list[tuple[str, str, dict[str, Any], int]]
                            ) -> Imported:
        """All of one thread's imported comments (key, parent key, doc, likes), parents first."""
        args: list[Any] = [None, self.max_depth, self.events_maxlen,
                           orjson.dumps({**thread, "epoch": secrets.token_hex(8)}).decode()]
        for key, parent, doc, likes in items:
            args += [key, parent, orjson.dumps(doc).decode(), likes]
        for _ in range(MAX_HOPS):
            args[0] = keys.thread_prefix(tid)
            result = await self._import(
                keys=[keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.events(tid),
                      keys.like_counts(tid), keys.imported(tid)], args=args)
            if result[0] != "moved" or not keys.THREAD_ID.match(result[1]):
                break
            tid = result[1]  # the page's comments were moved there (store/moving.py)
        if result[0] != "ok":
            raise ValueError(f"thread {tid}: {result[1]}")
        return Imported(int(result[1]), list(result[2]), list(result[3]), int(result[4]), bool(int(result[5])),
                        tid)

    async def snapshot(self, tid: str) -> tuple[dict[str, str], list[dict[str, Any]], dict[int, int]]:
        """A thread's record, comments (by id) and like counts, consistent with each other."""
        meta, docs, likes = await self._snapshot(keys=[keys.thread_meta(tid), keys.comments(tid),
                                                       keys.like_counts(tid)])
        parsed = sorted((orjson.loads(v) for v in docs[1::2]), key=lambda d: d["id"])
        return (dict(zip(meta[::2], meta[1::2])), parsed,
                {int(k): int(v) for k, v in zip(likes[::2], likes[1::2]) if k.isdigit()})

    async def forget(self, tid: str, *, email: str = "", identity: str = "", now_ms: int) -> Forgotten:
        mode, who = ("email", email.lower()) if email else ("identity", identity)
        likedby = keys.liked_by(tid, identity) if identity else keys.liked_by(tid, "-")
        result = await self._forget(
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.events(tid),
                  keys.like_counts(tid), likedby, keys.likers(tid)],
            args=[keys.thread_prefix(tid), mode, who, now_ms, self.events_maxlen])
        return Forgotten(*(int(x) for x in result[1:6]))

    async def site_threads(self, site: str, *, scan: bool) -> list[str]:
        """The site's threads: its index of threads with writes and, for the CLI only,
        a keyspace scan for threads older than that index."""
        found = set(await self.redis.zrange(keys.site_threads(site), 0, -1))
        if scan:
            async for key in self.redis.scan_iter(match=f"{keys.PREFIX}:{{t:*}}:meta", count=1000):
                tid = keys.thread_of_meta(key)
                if tid not in found and keys.THREAD_ID.match(tid) and await self.redis.hget(key, "site") == site:
                    found.add(tid)
        return sorted(found)

    async def lock_import(self, site: str, seconds: int) -> str | None:
        """Take the site's import lock for `seconds`: the holder's token, or None if another import holds it."""
        token = secrets.token_hex(8)
        return token if await self.redis.set(keys.import_lock(site), token, nx=True, ex=seconds) else None

    async def import_progress(self, site: str, token: str, progress: dict[str, Any], seconds: int) -> bool:
        """Publish how far the import has got and keep its lock for `seconds` more; False if
        the lock is no longer this import's (it lapsed and another import took it)."""
        return bool(await self._progress(keys=[keys.import_lock(site), keys.import_progress(site)],
                                         args=[token, orjson.dumps(progress).decode(), seconds]))

    async def unlock_import(self, site: str, token: str) -> None:
        """Release the lock and its progress, if this import still holds it."""
        await self._progress(keys=[keys.import_lock(site), keys.import_progress(site)], args=[token, "", 0])

    async def running_import(self, site: str) -> tuple[bool, dict[str, Any] | None]:
        """Whether an import into the site is running, and its last published progress."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.import_lock(site))
            pipe.get(keys.import_progress(site))
            held, progress = await pipe.execute()
        return bool(held), (orjson.loads(progress) if held and progress else None)

    async def forget_known(self, site: str, *members: str) -> None:
        """Take them out of the site's "guests with an approved comment" set."""
        members = tuple(m for m in members if m)
        if members:
            await self.redis.srem(keys.known_guests(site), *members)
