"""PasskeyStore: each user's passkeys, who owns a credential, and the tickets that let a signed-in reader
add one in the popup (auth/passkeys.py has the ceremonies).

    rj:{u:<user>}:passkeys   credential id -> {"pk", "count", "created", "used", "name", "transports"}
    rj:pk:<credential>       -> user id (a passkey sign-in names only its credential)
    rj:{pkt:<ticket>}        -> {"uid", "site", "challenge"?}, five minutes, taken once

The record and the index are in two slots (the index is looked up before the user is known), so they
are written record first and removed record first: a crash in between leaves at most an index that
names no record (a sign-in treats it as no passkey; a new registration of that credential replaces it)
or a record with no index (it signs no one in, and is listed and removable).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

TICKET_SECONDS = 300
MAX_PER_USER = 10


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


# Update a passkey's record only if it is still there (a removal may have come first).
_UPDATE = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end"
# Drop a credential's index only if it still names this user.
_UNINDEX = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end"


class PasskeyStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._update = redis.register_script(_UPDATE)
        self._unindex = redis.register_script(_UNINDEX)

    async def list(self, uid: str) -> dict[str, dict[str, Any]]:
        found = await self.redis.hgetall(keys.passkeys(_digest(uid)))
        return {k: orjson.loads(v) for k, v in found.items()}

    async def owner(self, credential_id: str) -> tuple[str, dict[str, Any]] | None:
        """The user a credential belongs to, and its record (None: no such passkey)."""
        uid = await self.redis.get(keys.passkey(_digest(credential_id)))
        if not uid:
            return None
        raw = await self.redis.hget(keys.passkeys(_digest(uid)), credential_id)
        return (uid, orjson.loads(raw)) if raw is not None else None

    async def add(self, uid: str, credential_id: str, record: dict[str, Any]) -> bool:
        """Keep a new passkey of `uid`: its record first, then the index. False when the credential is
        someone else's already (never taken over); then nothing of it is kept."""
        await self.redis.hset(keys.passkeys(_digest(uid)), credential_id, orjson.dumps(record))
        index = keys.passkey(_digest(credential_id))
        if await self.redis.set(index, uid, nx=True):
            return True
        holder = await self.redis.get(index)
        if holder == uid:
            return True
        if holder and await self.redis.hexists(keys.passkeys(_digest(holder)), credential_id):
            await self.redis.hdel(keys.passkeys(_digest(uid)), credential_id)
            return False
        # An index left by a crash between a removal's two steps, naming no record: ours now.
        await self.redis.set(index, uid)
        return True

    async def used(self, uid: str, credential_id: str, record: dict[str, Any]) -> None:
        """A sign-in with it: its new signature counter and the time (unless it was removed meanwhile)."""
        await self._update(keys=[keys.passkeys(_digest(uid))], args=[credential_id, orjson.dumps(record)])

    async def remove(self, uid: str, credential_id: str) -> bool:
        """The record first, then the index if it still names this user."""
        if not await self.redis.hdel(keys.passkeys(_digest(uid)), credential_id):
            return False
        await self._unindex(keys=[keys.passkey(_digest(credential_id))], args=[uid])
        return True

    async def remove_all(self, uid: str) -> int:
        """Every passkey of a user (their account is deleted)."""
        key = keys.passkeys(_digest(uid))
        ids = await self.redis.hkeys(key)
        await self.redis.delete(key)
        for credential_id in ids:
            await self._unindex(keys=[keys.passkey(_digest(credential_id))], args=[uid])
        return len(ids)

    # --- tickets: the frame's leave for the popup to add a passkey to its reader ------------------------

    async def new_ticket(self, ticket: str, uid: str, site: str) -> None:
        await self.redis.set(keys.passkey_ticket(_digest(ticket)), orjson.dumps({"uid": uid, "site": site}),
                             ex=TICKET_SECONDS)

    async def ticket(self, ticket: str) -> dict[str, Any] | None:
        raw = await self.redis.get(keys.passkey_ticket(_digest(ticket)))
        return orjson.loads(raw) if raw else None

    async def set_challenge(self, ticket: str, data: dict[str, Any], challenge: str) -> bool:
        """Remember the ceremony's challenge on the ticket (False: it expired meanwhile)."""
        return bool(await self.redis.set(keys.passkey_ticket(_digest(ticket)),
                                         orjson.dumps({**data, "challenge": challenge}), xx=True, keepttl=True))

    async def take_ticket(self, ticket: str) -> dict[str, Any] | None:
        """The ticket, once: a second registration with it finds nothing."""
        raw = await self.redis.getdel(keys.passkey_ticket(_digest(ticket)))
        return orjson.loads(raw) if raw else None
