"""SubscriptionStore: who asked for mail about a thread's new comments, and whether they confirmed.

Addresses live in the thread's own hash, keyed by a keyed hash of the address,
and leave the server only in mail to that address.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

# Ask for a confirmation unless one was asked for recently. Replaying the same
# event (a worker restarted before it queued the mail) asks again, so the
# confirmation is never lost; a new comment asks again only after RESEND_MS.
_REQUEST = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local sub = cjson.decode(raw)
  if sub.state == 'confirmed' then return 'confirmed' end
  if sub.ev ~= ARGV[5] and tonumber(ARGV[3]) - (sub.asked or 0) < tonumber(ARGV[4]) then return 'pending' end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({email = ARGV[2], state = 'pending', asked = tonumber(ARGV[3]), ev = ARGV[5]}))
return 'ask'
"""

_CONFIRM = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local sub = cjson.decode(raw)
sub.state = 'confirmed'
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(sub))
return 1
"""

# A day: someone who ignored a confirmation is not asked again by every comment they post.
RESEND_MS = 24 * 3600 * 1000


class SubscriptionStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._request = redis.register_script(_REQUEST)
        self._confirm = redis.register_script(_CONFIRM)

    async def request(self, tid: str, email_hash: str, email: str, now_ms: int, event_id: str) -> str:
        """"ask" (send a confirmation), "pending" (one was sent lately) or "confirmed"."""
        return await self._request(keys=[keys.subscribers(tid)],
                                   args=[email_hash, email, now_ms, RESEND_MS, event_id])

    async def confirm(self, tid: str, email_hash: str) -> bool:
        """False if there is no such subscription (it was cancelled)."""
        return bool(await self._confirm(keys=[keys.subscribers(tid)], args=[email_hash]))

    async def remove(self, tid: str, email_hash: str) -> bool:
        return bool(await self.redis.hdel(keys.subscribers(tid), email_hash))

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
        return orjson.loads(raw).get("state") if raw else None
