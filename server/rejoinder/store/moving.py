"""MovingStore: move a thread's comments into another thread of its site (a remap to a new
page, a merge of two threads of one page), and follow the pointers moves leave behind.

A thread's keys live in its own hash slot, so no single step can move one on a
cluster. A move is three atomic steps, each safe to repeat: read the source whole
(gather_thread.lua); write all of it into the target (absorb_thread.lua), which
remembers each comment it took, so a second run takes only what is new; then turn
the source into a pointer to the target (leave_thread.lua), only if nothing was
written to it since it was read, else read it again. A crash anywhere leaves every
comment readable in the source or in the target (in both, between the last two
steps, until the move is run again), never in neither.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys
from .queue import member
from .scripts import source

MAX_HOPS = 5  # pointers followed from a page's thread to the one that has its comments
MAX_TRIES = 5  # reads of a source that keeps changing while it moves


class MoveFailed(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Moved:
    source: str
    target: str
    comments: int  # taken this time
    count: int  # the target's visible comments afterwards
    ids: dict[int, int] = field(default_factory=dict)  # source id -> target id
    already: bool = False  # an earlier run had moved it


def _pairs(flat: list[Any]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2]))


class MovingStore:
    def __init__(self, redis: Redis, *, events_maxlen: int) -> None:
        self.redis = redis
        self.events_maxlen = events_maxlen
        self._gather = redis.register_script(source("gather_thread"))
        self._absorb = redis.register_script(source("absorb_thread"))
        self._leave = redis.register_script(source("leave_thread"))

    async def resolve(self, tid: str) -> str:
        """The thread that has `tid`'s comments: itself, or where moves took them."""
        for _ in range(MAX_HOPS):
            moved = await self.redis.hget(keys.thread_meta(tid), "moved")
            if not moved or not keys.THREAD_ID.match(moved):
                return tid
            tid = moved
        return tid

    async def _read(self, tid: str) -> tuple[dict[str, str], dict[str, Any]]:
        meta, docs, indexed, likes, likers, subs, imported, reactions = await self._gather(
            keys=[keys.thread_meta(tid)], args=[keys.thread_prefix(tid)])
        shown = set(indexed)
        parsed = sorted((orjson.loads(d) for d in docs), key=lambda d: d["id"])
        for doc in parsed:
            doc["indexed"] = str(doc["id"]) in shown
        record = _pairs(meta)
        return record, {
            "docs": parsed,
            "likes": _pairs(likes),
            "post_likes": int(record.get("likes") or 0),
            "likers": {likers[i]: {"ttl": int(likers[i + 1]), "members": likers[i + 2].split(",")}
                       for i in range(0, len(likers), 3)},
            "subs": _pairs(subs),
            "imported": _pairs(imported),
            "reactions": {cid: orjson.loads(raw) for cid, raw in _pairs(reactions).items()},
            "pinned": int(record["pinned"]) if (record.get("pinned") or "").isdigit() else None,
        }

    async def move(self, site: str, src: str, dst: str, *, page: str, url: str, title: str = "") -> Moved:
        """Move thread `src` of `site` into `dst` (made for `page` if it has no record yet).
        MoveFailed: thread_not_found, thread_moved (src went elsewhere, or dst is a pointer),
        thread_of_another_site, move_busy (src kept changing)."""
        if src == dst:
            raise MoveFailed("same_thread")
        for _ in range(MAX_TRIES):
            record, taken = await self._read(src)
            if not record or record.get("site") != site:
                raise MoveFailed("thread_not_found")
            if record.get("moved"):
                if record["moved"] == dst:
                    return Moved(src, dst, 0, int(await self.redis.hget(keys.thread_meta(dst), "count") or 0),
                                 already=True)
                raise MoveFailed("thread_moved")
            thread = {"site": site, "page": page, "url": url, "title": title or record.get("title", ""),
                      "created": record.get("created", "0"), "epoch": secrets.token_hex(8),
                      "locked": record.get("locked", "0"), "from": src}
            result = await self._absorb(
                keys=[keys.thread_meta(dst), keys.comments(dst), keys.roots(dst), keys.events(dst),
                      keys.like_counts(dst), keys.imported(dst), keys.subscribers(dst), keys.likers(dst)],
                args=[keys.thread_prefix(dst), self.events_maxlen, orjson.dumps(thread).decode(),
                      orjson.dumps(taken).decode()])
            if result[0] == "err":
                raise MoveFailed(result[1])
            flat = [int(x) for x in result[3]]
            ids = dict(zip(flat[::2], flat[1::2]))
            left = await self._leave(
                keys=[keys.thread_meta(src), keys.events(src)],
                args=[keys.thread_prefix(src), record.get("seq", "0"), dst, page, url, self.events_maxlen])
            if left[0] == "changed":
                continue  # a comment arrived meanwhile: read again, take what is new
            if left[0] in ("err", "elsewhere"):
                raise MoveFailed("thread_moved" if left[0] == "elsewhere" else left[1])
            await self._repoint(site, src, dst, ids)
            return Moved(src, dst, int(result[1]), int(result[2]), ids)
        raise MoveFailed("move_busy")

    async def _repoint(self, site: str, src: str, dst: str, ids: dict[int, int]) -> None:
        """The site's lists name the moved comments by their new place; the site's threads, the target."""
        lists = [keys.mod_list(site, name) for name in ("recent", "pending", "spam", "reported")]
        found: list[tuple[str, str, float]] = []
        for name in lists:
            async for value, score in self.redis.zscan_iter(name, match=f"{src}:*", count=1000):
                found.append((name, value, score))
        active = await self.redis.zscore(keys.site_threads(site), src)
        async with self.redis.pipeline(transaction=True) as pipe:
            for name, value, score in found:
                cid = int(value.split(":", 1)[1])
                pipe.zrem(name, value)
                if cid in ids:
                    pipe.zadd(name, {member(dst, ids[cid]): score})
            pipe.zrem(keys.site_threads(site), src)
            pipe.zadd(keys.site_threads(site), {dst: active or 0}, gt=True)
            await pipe.execute()
