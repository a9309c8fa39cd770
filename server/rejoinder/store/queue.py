"""ModerationQueue: each site's lists of comment pointers (pending, spam, recent) for the dashboard.
They are written by FeedStore.announce (lib_announce.lua), in the step after each comment's write.

A thread's comments live in the thread's hash slot and the site's lists in the
site's, so no atomic step can write both on a cluster. A pointer "tid:cid" is
written right after the thread's own write and checked against the thread when
read: a pointer whose comment moved on (approved, deleted) is dropped then.
"""

from __future__ import annotations

import re

from redis.asyncio import Redis

from . import keys

LISTS = ("pending", "spam", "recent", "reported")
# The recent list keeps this many pointers: weeks of comments on a busy blog, and
# the horizon of the dashboard's text search (10,000 documents read in ~20 batches).
RECENT_MAX = 10_000


_CID = re.compile(r"[0-9]{1,15}")


def member(tid: str, cid: int) -> str:
    return f"{tid}:{cid}"


def parse_member(value: str) -> tuple[str, int] | None:
    tid, _, cid = value.partition(":")
    if not keys.THREAD_ID.match(tid) or not _CID.fullmatch(cid):  # ASCII digits only (not "¹²³")
        return None
    return tid, int(cid)


class ModerationQueue:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def page(self, site: str, name: str, before: tuple[int, str] | None, count: int
                   ) -> list[tuple[str, int]]:
        """Up to `count` (member, score) pairs, newest first, after the cursor (score, member)."""
        top = "+inf" if before is None else before[0]
        # Ties on the score come in reverse member order: skip those the cursor already passed.
        extra = 0 if before is None else 50
        rows = await self.redis.zrange(keys.mod_list(site, name), top, "-inf", byscore=True, desc=True,
                                       offset=0, num=count + extra, withscores=True)
        out = []
        for value, score in rows:
            if before is not None and int(score) == before[0] and value >= before[1]:
                continue
            out.append((value, int(score)))
            if len(out) == count:
                break
        return out

    async def drop(self, site: str, name: str, members: list[str]) -> None:
        if members:
            await self.redis.zrem(keys.mod_list(site, name), *members)

    async def size(self, site: str, name: str) -> int:
        return int(await self.redis.zcard(keys.mod_list(site, name)))
