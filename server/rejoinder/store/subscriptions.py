"""SubscriptionStore: who asked for mail about a thread's new comments, and whether they confirmed.

Addresses live in the thread's own hash, keyed by a keyed hash of the address,
and leave the server only in mail to that address.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

# Confirmed subscribers live in the thread's hash; an address that was only asked lives in a key of
# its own that expires with its confirmation link, so addresses nobody confirms leave nothing behind.
# Ask unless one was asked for recently. Replaying the same event (a worker restarted before it queued
# the mail) asks again, so the confirmation is never lost; a new comment asks again only after RESEND_MS.
# KEYS[1] subscribers hash, KEYS[2] the address's pending key; ARGV: 1 email hash, 2 address, 3 now ms,
# 4 resend ms, 5 event id, 6 seconds a pending request lasts
_REQUEST = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'confirmed' end
local raw = redis.call('GET', KEYS[2])
if raw then
  local sub = cjson.decode(raw)
  if sub.ev ~= ARGV[5] and tonumber(ARGV[3]) - (sub.asked or 0) < tonumber(ARGV[4]) then return 'pending' end
end
redis.call('SET', KEYS[2], cjson.encode({email = ARGV[2], asked = tonumber(ARGV[3]), ev = ARGV[5]}), 'EX', ARGV[6])
return 'ask'
"""

_CONFIRM = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
local raw = redis.call('GET', KEYS[2])
if not raw then return 0 end
local sub = cjson.decode(raw)
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({email = sub.email, state = 'confirmed'}))
redis.call('DEL', KEYS[2])
return 1
"""

# A day: someone who ignored a confirmation is not asked again by every comment they post.
RESEND_MS = 24 * 3600 * 1000


class SubscriptionStore:
    def __init__(self, redis: Redis, pending_seconds: int = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.pending_seconds = pending_seconds
        self._request = redis.register_script(_REQUEST)
        self._confirm = redis.register_script(_CONFIRM)

    async def request(self, tid: str, email_hash: str, email: str, now_ms: int, event_id: str) -> str:
        """"ask" (send a confirmation), "pending" (one was sent lately) or "confirmed"."""
        return await self._request(keys=[keys.subscribers(tid), keys.subscriber_pending(tid, email_hash)],
                                   args=[email_hash, email, now_ms, RESEND_MS, event_id, self.pending_seconds])

    async def add_confirmed(self, tid: str, email_hash: str, email: str) -> None:
        """An address its owner proved (they signed in by a link mailed to it): subscribed with no mail."""
        await self.redis.hset(keys.subscribers(tid), email_hash,
                              orjson.dumps({"email": email, "state": "confirmed"}).decode())

    async def confirm(self, tid: str, email_hash: str) -> bool:
        """False if there is no such subscription (it was cancelled, or its request expired)."""
        return bool(await self._confirm(keys=[keys.subscribers(tid), keys.subscriber_pending(tid, email_hash)],
                                        args=[email_hash]))

    async def remove(self, tid: str, email_hash: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.subscribers(tid), email_hash)
            pipe.delete(keys.subscriber_pending(tid, email_hash))
            confirmed, pending = await pipe.execute()
        return bool(confirmed or pending)

    async def confirmed(self, tid: str) -> dict[str, str]:
        """email hash -> address of every confirmed subscriber."""
        out: dict[str, str] = {}
        for ehash, raw in (await self.redis.hgetall(keys.subscribers(tid))).items():
            sub: dict[str, Any] = orjson.loads(raw)
            if sub.get("state") == "confirmed" and sub.get("email"):
                out[ehash] = sub["email"]
        return out

    async def state(self, tid: str, email_hash: str) -> str | None:
        raw = await self.redis.hget(keys.subscribers(tid), email_hash)
        if raw:
            return orjson.loads(raw).get("state")
        return "pending" if await self.redis.exists(keys.subscriber_pending(tid, email_hash)) else None
