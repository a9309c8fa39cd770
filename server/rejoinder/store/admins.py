"""AdminStore: who administers each site, and the one-time admin sign-in links."""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis

from . import keys


# The feed entry that says "who administers this site changed" (no thread).
ADMINS_CHANGED = "admins.changed"
FEED_MAXLEN = 100_000  # as FeedStore's


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class AdminStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, site: str, identity: str) -> None:
        # The site's set is the authority, written first; the reverse index only
        # feeds the site picker and is checked against it.
        await self.redis.sadd(keys.admins(site), identity)
        await self.redis.sadd(keys.admin_sites(_digest(identity)), site)

    async def remove(self, site: str, identity: str) -> bool:
        """Take the site from `identity`, at once: the admin API asks the site's set on every
        request, and an entry in the site's feed tells open dashboards' sockets to ask again."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(keys.admins(site), identity)
            pipe.xadd(keys.site_feed(site), {"tid": "", "type": ADMINS_CHANGED}, maxlen=FEED_MAXLEN,
                      approximate=True)
            removed, _ = await pipe.execute()
        await self.redis.srem(keys.admin_sites(_digest(identity)), site)
        return bool(removed)

    async def list(self, site: str) -> list[str]:
        return sorted(await self.redis.smembers(keys.admins(site)))

    async def is_admin(self, site: str, identity: str) -> bool:
        return bool(identity) and bool(await self.redis.sismember(keys.admins(site), identity))

    async def sites_of(self, identity: str) -> list[str]:
        """The sites this identity administers (each confirmed by the site's own set)."""
        candidates = sorted(await self.redis.smembers(keys.admin_sites(_digest(identity))))
        return [s for s in candidates if await self.is_admin(s, identity)]

    async def issue_link(self, site: str, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        await self.redis.set(keys.admin_link(hashlib.sha256(token.encode()).hexdigest()), site, ex=ttl_seconds)
        return token

    async def take_link(self, token: str) -> str | None:
        """The site a link signs in to, once: a second use finds nothing."""
        return await self.redis.getdel(keys.admin_link(hashlib.sha256(token.encode()).hexdigest()))
