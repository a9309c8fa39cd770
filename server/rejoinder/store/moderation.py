"""ModerationStore: an admin's changes to one thread (a comment's status, lock, pin), one Lua call each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from ..errors import ApiError
from . import keys
from .scripts import Scripts

ACTIONS = ("approve", "reject", "spam", "ham", "delete", "restore", "dismiss")
# Why a reader reports a comment.
REPORT_REASONS = ("spam", "abuse", "off_topic", "other")
REPORTERS_DAYS = 90  # how long a comment remembers who reported it (one report each)
# Corrections come within days of a comment (the moderation queue is read daily
# on an active blog); 14 days covers a holiday and keeps raw IPs no longer.
AKISMET_CONTEXT_DAYS = 14


@dataclass
class Moderated:
    doc: dict[str, Any]
    count: int
    event: str  # the event type logged, "" if nothing changed

    @property
    def changed(self) -> bool:
        return bool(self.event)


class ModerationStore:
    def __init__(self, redis: Redis, scripts: Scripts, *, events_maxlen: int) -> None:
        self.redis = redis
        self.scripts = scripts
        self.events_maxlen = events_maxlen

    async def act(self, tid: str, cid: int, action: str, now_ms: int) -> Moderated:
        """Apply one of ACTIONS. Repeating an action that already holds changes nothing."""
        result = await self.scripts["moderate_comment"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.events(tid)],
            args=[keys.thread_prefix(tid), cid, action, now_ms, self.events_maxlen],
        )
        if result[0] == "err":
            raise ApiError(result[1])
        return Moderated(orjson.loads(result[1]), int(result[2] or 0), result[3] if result[0] == "ok" else "")

    async def report(self, tid: str, cid: int, reader: str, ip_hash: str, reason: str, hold_at: int,
                     now_ms: int) -> tuple[int, bool, bool, int]:
        """A reader's report (store/lua/flag_comment.lua): (reports so far, counted now, held now, created)."""
        result = await self.scripts["flag_comment"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.events(tid), keys.reporters(tid, cid)],
            args=[cid, reader, ip_hash, reason, now_ms, hold_at, self.events_maxlen, REPORTERS_DAYS * 86400])
        if result[0] == "err":
            raise ApiError(result[1])
        return int(result[1]), result[0] == "ok", bool(int(result[2])), int(result[3] or 0)

    async def set_flag(self, tid: str, field: str, value: str) -> bool:
        """Lock ("locked": "1"/"0") or pin ("pinned": cid or ""). True if it changed."""
        result = await self.scripts["set_thread_flag"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.events(tid)],
            args=[field, value, self.events_maxlen],
        )
        if result[0] == "err":
            raise ApiError(result[1])
        return result[0] == "ok"

    async def keep_akismet_context(self, tid: str, cid: int, context: dict[str, str]) -> None:
        """Only with Akismet on: the raw IP and user agent it needs for a correction,
        kept AKISMET_CONTEXT_DAYS and then forgotten (everywhere else IPs are keyed hashes)."""
        await self.redis.set(keys.akismet_context(tid, cid), orjson.dumps(context), ex=AKISMET_CONTEXT_DAYS * 86400)

    async def akismet_context(self, tid: str, cid: int) -> dict[str, str] | None:
        raw = await self.redis.get(keys.akismet_context(tid, cid))
        return orjson.loads(raw) if raw else None

    async def docs(self, wanted: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """Many comments of many threads; on a cluster the pipeline splits by node."""
        by_thread: dict[str, list[int]] = {}
        for tid, cid in wanted:
            by_thread.setdefault(tid, []).append(cid)
        tids = list(by_thread)
        if not tids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.hmget(keys.comments(tid), [str(c) for c in by_thread[tid]])
            replies = await pipe.execute()
        out: dict[tuple[str, int], dict[str, Any]] = {}
        for tid, raws in zip(tids, replies):
            for cid, raw in zip(by_thread[tid], raws):
                if raw:
                    out[(tid, cid)] = orjson.loads(raw)
        return out

    async def metas(self, tids: list[str]) -> dict[str, dict[str, str]]:
        tids = list(dict.fromkeys(tids))
        if not tids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.hmget(keys.thread_meta(tid), ["site", "title", "url", "locked", "pinned", "count"])
            replies = await pipe.execute()
        fields = ("site", "title", "url", "locked", "pinned", "count")
        return {tid: dict(zip(fields, (v or "" for v in values))) for tid, values in zip(tids, replies)}
