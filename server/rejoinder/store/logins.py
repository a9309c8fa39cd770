"""LoginStore: login flows in progress and the one-time handovers that end them."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys

FLOW_SECONDS = 600  # time to finish at the provider
HANDOVER_SECONDS = 60  # time for the iframe to collect its session


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]


class LoginStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def start_flow(self, state: str, flow: dict[str, Any]) -> None:
        await self.redis.set(keys.login_flow(_digest(state)), orjson.dumps(flow), ex=FLOW_SECONDS)

    async def take_flow(self, state: str) -> dict[str, Any] | None:
        """The flow for this state, once: a replayed callback finds nothing."""
        raw = await self.redis.getdel(keys.login_flow(_digest(state)))
        return orjson.loads(raw) if raw else None

    async def offer(self, secret_hash: str, code: str, uid: str) -> None:
        await self.redis.set(keys.handover(secret_hash), orjson.dumps({"code": code, "user": uid}),
                             ex=HANDOVER_SECONDS)

    async def take(self, secret_hash: str) -> dict[str, Any] | None:
        raw = await self.redis.getdel(keys.handover(secret_hash))
        return orjson.loads(raw) if raw else None

    async def peek(self, secret_hash: str) -> dict[str, Any] | None:
        raw = await self.redis.get(keys.handover(secret_hash))
        return orjson.loads(raw) if raw else None
