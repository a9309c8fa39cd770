"""CommentStore: threads, comments, likes and their event log, one Lua call per write."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis

from ..errors import ApiError
from . import keys
from .scripts import Scripts
from .steps import Steps


# A thread record made by reading a page lasts this long unless a comment or a like makes it permanent
# (the next reader of the page makes it again): a day of new pages at REJOINDER_RATE_IP_THREADS a minute
# is the most one address can keep stored this way.
PROVISIONAL_SECONDS = 24 * 3600
# What a reader liked on a thread is kept this long after their last like there (half a year).
LIKER_SECONDS = 183 * 24 * 3600
# The title of a thread may change from its page this often (an admin may change it any time).
RETITLE_SECONDS = 24 * 3600

# The same author posting the same text to the same thread within an hour is a duplicate.
DUPLICATE_SECONDS = 3600


@dataclass
class Page:
    meta: dict[str, str]
    docs: list[dict[str, Any]]
    likes: dict[int, int]
    liked: set[str]
    groups: list[tuple[int, int, int]]  # (root id, replies inline, replies left)
    more: bool


@dataclass
class Written:
    doc: dict[str, Any]
    count: int
    duplicate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2]))


def _refusal(result: list[Any]) -> None:
    if result[0] == "err":
        raise ApiError(result[1])


class CommentStore:
    def __init__(self, redis: Redis, scripts: Scripts, *, events_maxlen: int, max_depth: int,
                 idempotency_seconds: int, steps: Steps | None = None) -> None:
        self.redis = redis
        self.scripts = scripts
        self.steps = steps or Steps(redis)
        self.events_maxlen = events_maxlen
        self.max_depth = max_depth
        self.idempotency_seconds = idempotency_seconds

    async def open_thread(self, tid: str, *, order: str, cursor: int | None, limit: int, inline: int,
                          liker: str, create: dict[str, str] | None) -> Page | None:
        """One page of top-level comments with their first replies; creates the
        thread record when `create` carries its site and page."""
        c = create or {}
        result = await self.scripts["open_thread"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.like_counts(tid)],
            args=[keys.thread_prefix(tid), order, "" if cursor is None else cursor, limit, inline, liker,
                  "1" if create else "0", c.get("site", ""), c.get("page", ""), c.get("url", ""),
                  c.get("title", ""), c.get("now", 0), secrets.token_hex(8), PROVISIONAL_SECONDS,
                  RETITLE_SECONDS],
        )
        if result[0] == "missing":
            return None
        _, meta, docs, likes, liked, groups, more = result
        parsed = [orjson.loads(d) for d in docs if d]
        counts = {doc["id"]: int(n or 0) for doc, n in zip(parsed, likes)}
        return Page(_pairs(meta), parsed, counts, set(liked),
                    [(int(r), int(n), int(left)) for r, n, left in groups], bool(more))

    async def replies(self, tid: str, root: int, after: int | None, limit: int, liker: str
                      ) -> tuple[list[dict[str, Any]], dict[int, int], set[str], bool]:
        """Descendants of one top-level comment after a cursor, oldest first."""
        lo = "-inf" if after is None else f"({after}"
        ids = await self.redis.zrange(keys.subtree(tid, root), lo, "+inf", byscore=True, offset=0, num=limit + 1)
        more = len(ids) > limit
        ids = ids[:limit]
        if not ids:
            return [], {}, set(), False
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.comments(tid), ids)
            pipe.hmget(keys.like_counts(tid), ids)
            pipe.smembers(keys.liked_by(tid, liker or "-"))
            docs, likes, liked = await pipe.execute()
        parsed = [orjson.loads(d) for d in docs if d]
        counts = {doc["id"]: int(n or 0) for doc, n in zip(parsed, likes)}
        return parsed, counts, set(liked), more

    async def retitle(self, tid: str, title: str) -> bool:
        """A new title from the page, at most once per RETITLE_SECONDS per thread; whether it was taken."""
        if not await self.redis.set(keys.retitled(tid), "1", nx=True, ex=RETITLE_SECONDS):
            return False
        await self.redis.hset(keys.thread_meta(tid), "title", title)
        return True

    async def meta(self, tid: str) -> dict[str, str]:
        return await self.redis.hgetall(keys.thread_meta(tid))

    async def site_of(self, tid: str) -> str | None:
        return await self.redis.hget(keys.thread_meta(tid), "site")

    async def get(self, tid: str, cid: int) -> dict[str, Any] | None:
        raw = await self.redis.hget(keys.comments(tid), str(cid))
        return orjson.loads(raw) if raw else None

    async def like_state(self, tid: str, cid: int, liker: str) -> tuple[int, bool]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.like_counts(tid), str(cid))
            pipe.sismember(keys.liked_by(tid, liker or "-"), str(cid))
            count, liked = await pipe.execute()
        return int(count or 0), bool(liked)

    async def create(self, tid: str, doc: dict[str, Any], parent: int | None, *,
                     idempotency: str, fingerprint: str, duplicate_keys: Sequence[str] = ()) -> Written:
        # create_comment.lua, as a step: creates that coincide on a thread share a run.
        result = await self.steps.run(
            keys.thread_slot(tid), "create_comment",
            [keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.events(tid),
             keys.idempotency(tid, idempotency)],
            [keys.thread_prefix(tid), orjson.dumps(doc).decode(), "" if parent is None else parent,
             self.max_depth, self.events_maxlen, self.idempotency_seconds, fingerprint,
             ",".join(duplicate_keys), DUPLICATE_SECONDS],
        )
        if result[0] == "err" and result[1] == "duplicate_comment":
            raise ApiError("duplicate_comment", field="text")  # shown beside the text, where the reader is
        _refusal(result)
        return Written(orjson.loads(result[1]), int(result[2]), duplicate=result[0] == "dup")

    async def edit(self, tid: str, cid: int, html: str, text: str, now_ms: int, verdict: str = "approved",
                   reasons: Sequence[str] = ()) -> Written:
        """The new text, and what the rules said of it (edit_comment.lua): an approved comment held
        by them leaves the thread in the same step. Written.extra["event"] is the logged event."""
        result = await self.scripts["edit_comment"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.events(tid), keys.like_counts(tid)],
            args=[cid, html, text, now_ms, self.events_maxlen, verdict, ",".join(reasons)],
        )
        _refusal(result)
        return Written(orjson.loads(result[1]), int(result[2]), extra={"event": result[3]})

    async def delete(self, tid: str, cid: int, now_ms: int) -> Written:
        result = await self.scripts["delete_comment"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.roots(tid), keys.events(tid)],
            args=[keys.thread_prefix(tid), cid, now_ms, self.events_maxlen],
        )
        _refusal(result)
        return Written(orjson.loads(result[1]), int(result[2]))

    async def set_like(self, tid: str, target: str, liker: str, on: bool) -> tuple[int, bool]:
        result = await self.scripts["set_like"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.like_counts(tid),
                  keys.liked_by(tid, liker), keys.events(tid)],
            args=[target, "1" if on else "0", self.events_maxlen, LIKER_SECONDS],
        )
        _refusal(result)
        return int(result[1]), bool(result[2])

    async def typing(self, tid: str, reader_digest: str) -> bool:
        """A reader is typing in the thread: noted (at most every 2 s per reader) and said on the thread's
        channel, where the nodes tell its readers "someone is replying". False if noted just now."""
        if not await self.redis.set(keys.typing_gate(tid, reader_digest), "1", nx=True, px=2000):
            return False
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.typers(tid), reader_digest, int(time.time() * 1000))
            pipe.pexpire(keys.typers(tid), 15_000)
            pipe.spublish(keys.wake(tid), keys.WAKE_TYPING)
            await pipe.execute()
        return True

    async def react(self, tid: str, cid: int, emoji: str, reader: str, on: bool) -> tuple[int, bool]:
        """React to a comment with `emoji` (or take it back): its count of that emoji, and whether the reader has it."""
        result = await self.scripts["set_reaction"](
            keys=[keys.thread_meta(tid), keys.comments(tid), keys.reactions(tid), keys.reacted(tid, reader),
                  keys.events(tid), keys.likers(tid)],
            args=[cid, emoji, "1" if on else "0", self.events_maxlen, LIKER_SECONDS])
        _refusal(result)
        return int(result[1]), bool(int(result[2]))

    async def reactions(self, tid: str, reader: str) -> tuple[dict[str, dict[str, int]], list[str]]:
        """Every reaction count of the thread (by comment id), and this reader's own ("cid|emoji")."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.reactions(tid))
            pipe.smembers(keys.reacted(tid, reader or "-"))
            counts, mine = await pipe.execute()
        return {cid: orjson.loads(raw) for cid, raw in counts.items()}, sorted(mine)

    async def counts(self, tids: list[str]) -> list[int]:
        """Visible comments of many threads; on a cluster the pipeline splits by node."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.hmget(keys.thread_meta(tid), ["count", "moved"])
            values = await pipe.execute()
        counts = [int(count or 0) for count, _ in values]
        # A page whose thread a remap or merge moved counts the comments where they went (store/moving.py).
        moved = {i: to for i, (_, to) in enumerate(values) if to and keys.THREAD_ID.match(to)}
        if moved:
            followed = await self.counts(list(moved.values()))
            for i, n in zip(moved, followed):
                counts[i] = n
        return counts
