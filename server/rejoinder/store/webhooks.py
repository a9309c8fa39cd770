"""WebhookStore: a site's webhook (URL and secret), its queue of events, and its delivery log."""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
from redis.asyncio import Redis

from . import keys, stats

# The delivery log keeps the latest 200 attempts: enough to see a failing
# receiver's pattern, small enough to read whole in a dashboard.
LOG_SIZE = 200
HOOK_CONSUMER = "hook"

# Replace (or with no URL, remove) the webhook and forget what was queued for the old one,
# in one step: a new URL starts from now, and never with half of its settings.
_SET = """
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'url', ARGV[1], 'secret', ARGV[2], 'since', ARGV[3])
end
return 1
"""

_DONE = """
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


class WebhookStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._done = redis.register_script(_DONE)
        self._set = redis.register_script(_SET)

    async def get(self, site: str) -> dict[str, str]:
        """{"url", "secret", "since"} or {} when the site has none."""
        return await self.redis.hgetall(keys.hook_config(site))

    async def url(self, site: str) -> str:
        return await self.redis.hget(keys.hook_config(site), "url") or ""

    async def _replace(self, site: str, url: str, secret: str) -> None:
        await self._set(keys=[keys.hook_config(site), keys.consumer(site, HOOK_CONSUMER), keys.hook_queue(site),
                              keys.hook_attempts(site)], args=[url, secret, int(time.time() * 1000)])

    async def set(self, site: str, url: str) -> str:
        """Point the site's webhook at `url` with a new secret, returned once."""
        secret = "whsec_" + secrets.token_hex(24)
        await self._replace(site, url, secret)
        return secret

    async def remove(self, site: str) -> None:
        await self._replace(site, "", "")

    async def queue(self, site: str, count: int = 20) -> list[tuple[str, dict[str, str]]]:
        return await self.redis.xrange(keys.hook_queue(site), "-", "+", count=count)

    async def attempts(self, site: str, entry_id: str) -> tuple[int, int]:
        """(attempts made, when the next may be made in ms) for a queued event."""
        raw = await self.redis.hget(keys.hook_attempts(site), entry_id)
        if not raw:
            return 0, 0
        made, due = raw.split("|")
        return int(made), int(due)

    async def failed_attempt(self, site: str, entry_id: str, made: int, next_due_ms: int) -> None:
        await self.redis.hset(keys.hook_attempts(site), entry_id, f"{made}|{next_due_ms}")

    async def done(self, site: str, entry_id: str) -> None:
        """Delivered or given up: off the queue."""
        await self._done(keys=[keys.hook_queue(site), keys.hook_attempts(site)], args=[entry_id])

    async def record(self, site: str, entry: dict[str, Any], ok: bool) -> None:
        """Log one delivery attempt, and count it on the day's figures in the same step."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.hook_log(site), orjson.dumps(entry))
            pipe.ltrim(keys.hook_log(site), 0, LOG_SIZE - 1)
            stats.add(pipe, site, "hook:ok" if ok else "hook:failed")
            await pipe.execute()

    async def log(self, site: str, limit: int = LOG_SIZE) -> list[dict[str, Any]]:
        """The latest delivery attempts, newest first: time, event, id, attempt, status, error, duration_ms."""
        return [orjson.loads(raw) for raw in await self.redis.lrange(keys.hook_log(site), 0, limit - 1)]
