"""LoginStore: login flows in progress and the one-time handovers that end them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

FLOW_SECONDS = 600  # time to finish at the provider
# Time for the frame to collect its session. A reader whose popup lost its opener
# has to press "Continue" in the popup first: two minutes is plenty for that.
HANDOVER_SECONDS = 120

# Take the handover if the caller proves it started the flow: the code the popup
# gave its same-origin opener, or (for a frame that lost its popup) the reader's
# confirmation in the popup. One step, so a confirm and a take cannot interleave.
_TAKE = """
local h = redis.call('HMGET', KEYS[1], 'code', 'confirmed', 'user', 'site', 'aud')
if not h[1] then return {'pending'} end
if ARGV[1] ~= '' then
  if ARGV[1] ~= h[1] then return {'mismatch'} end
elseif h[2] ~= '1' then
  return {'pending'}
end
redis.call('DEL', KEYS[1])
return {'ok', h[3], h[4], h[5]}
"""
_CONFIRM = """
local code = redis.call('HGET', KEYS[1], 'code')
if not code or code ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'confirmed', '1')
return 1
"""


# An email link is used once, from the browser that asked for it (its cookie's hash), or not at all.
_TAKE_LINK = """
local found = redis.call('HGET', KEYS[1], 'browser')
if not found then return {'missing'} end
if found ~= ARGV[1] then return {'wrong_browser'} end
local data = redis.call('HGET', KEYS[1], 'data')
redis.call('DEL', KEYS[1])
return {'ok', data}
"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Taken:
    """The outcome of a redeem: "ok" (with the account and its binding), "pending" or "mismatch"."""

    outcome: str
    uid: str = ""
    site: str = ""
    audience: str = ""


class LoginStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._take = redis.register_script(_TAKE)
        self._confirm = redis.register_script(_CONFIRM)
        self._take_link = redis.register_script(_TAKE_LINK)

    async def start_flow(self, state: str, flow: dict[str, Any]) -> None:
        await self.redis.set(keys.login_flow(_digest(state)), orjson.dumps(flow), ex=FLOW_SECONDS)

    async def take_flow(self, state: str) -> dict[str, Any] | None:
        """The flow for this state, once: a replayed callback finds nothing."""
        raw = await self.redis.getdel(keys.login_flow(_digest(state)))
        return orjson.loads(raw) if raw else None

    async def offer(self, secret_hash: str, code: str, uid: str, site: str, audience: str) -> None:
        """The session the flow ended in, waiting for its starter: not yet confirmed."""
        key = keys.handover(secret_hash)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"code": code, "user": uid, "site": site, "aud": audience, "confirmed": "0"})
            pipe.expire(key, HANDOVER_SECONDS)
            await pipe.execute()

    async def confirm(self, secret_hash: str, code: str) -> bool:
        """The reader pressed "Continue" in the popup: the frame may now collect by its secret alone."""
        return bool(await self._confirm(keys=[keys.handover(secret_hash)], args=[code]))

    async def take(self, secret_hash: str, code: str) -> Taken:
        reply = await self._take(keys=[keys.handover(secret_hash)], args=[code])
        outcome = reply[0]
        if outcome != "ok":
            return Taken(outcome)
        return Taken("ok", reply[1], reply[2] or "", reply[3])

    # --- email links (api/auth.py) ----------------------------------------------------------

    async def may_mail(self, address_hash: str, seconds: int) -> bool:
        """Whether a sign-in link may be mailed to this address now (one per `seconds`)."""
        return bool(await self.redis.set(keys.email_gate(address_hash), "1", nx=True, ex=seconds))

    async def save_link(self, token: str, browser: str, data: dict[str, Any], seconds: int) -> None:
        key = keys.email_link(_digest(token))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"browser": _digest(browser), "data": orjson.dumps(data).decode()})
            pipe.expire(key, seconds)
            await pipe.execute()

    async def peek_link(self, token: str) -> bool:
        return bool(await self.redis.exists(keys.email_link(_digest(token))))

    async def take_link(self, token: str, browser: str) -> tuple[str, dict[str, Any] | None]:
        """("ok", the link's data) once, from the browser that asked; ("wrong_browser" | "missing", None)."""
        reply = await self._take_link(keys=[keys.email_link(_digest(token))], args=[_digest(browser or "-")])
        return (reply[0], orjson.loads(reply[1])) if reply[0] == "ok" else (reply[0], None)
