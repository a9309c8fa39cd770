"""SiteStore: registered sites, their allowed origins, moderation policy, mail language and owners."""

from __future__ import annotations

import hashlib
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from redis.asyncio import Redis

from . import keys

# publish: everything at once; hold_first_guests: a guest's first comment waits for
# approval; hold_all: everything waits; hold_links: comments with links wait.
POLICIES = ("publish", "hold_first_guests", "hold_all", "hold_links")

# Create the site's hash only if it does not exist: all fields or none.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


DEFAULT_REACTIONS = ("👍", "❤️", "😂", "😮", "😢")
MAX_REACTIONS = 10


def clean_reactions(value: Any) -> list[str]:
    """A site's reaction set: up to MAX_REACTIONS distinct emoji (or other symbols), each a few code
    points with no letters, digits, spaces or control characters. ValueError says what is wrong."""
    if not isinstance(value, list) or len(value) > MAX_REACTIONS:
        raise ValueError(f"reactions is a list of at most {MAX_REACTIONS} emoji")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError("each reaction is an emoji")
        item = unicodedata.normalize("NFC", item.strip())
        if not 1 <= len(item) <= 16 or "|" in item or any(
                unicodedata.category(ch)[0] in "LNZC" and ch not in "\u200d\ufe0f" for ch in item):
            raise ValueError(f"{item!r} is not an emoji")
        if item not in out:
            out.append(item)
    return out


def clean_stylesheet(value: Any, origins: list[str]) -> str:
    """A stylesheet URL served from one of the site's registered origins ("" for none); ValueError otherwise."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or len(value) > 512 or any(ord(c) < 33 or c in "\"'<>" for c in value):
        raise ValueError("stylesheet is a URL of at most 512 characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.username or parts.password:
        raise ValueError("stylesheet is an http(s) URL")
    if f"{parts.scheme}://{parts.netloc}".lower() not in origins:
        raise ValueError("stylesheet must be on one of the site's registered origins")
    return value


@dataclass
class Site:
    id: str
    name: str = ""
    origins: list[str] = field(default_factory=list)
    moderation: str = "publish"
    created: int = 0
    blocklist: list[str] = field(default_factory=list)
    # The language of mail to readers and owners (one of notify/locales/: en, fr, de, ar, ja…).
    language: str = "en"
    # Who gets a mail when a comment is held for moderation.
    owner_emails: list[str] = field(default_factory=list)
    # Guests' browsers solve a small proof of work with each comment (pow.py).
    pow: bool = False
    # Readers' reports that hold a comment for an admin (0: reports never hold one by themselves).
    hold_reports: int = 0
    # The emoji readers may react with (one of each per reader and comment); none: no reactions.
    reactions: list[str] = field(default_factory=lambda: list(DEFAULT_REACTIONS))
    # Readers see "someone is replying…" while another reader types in the thread (off by default).
    typing: bool = False
    # A stylesheet of the site's own, on one of its origins, applied inside the comments frame ("": none).
    stylesheet: str = ""
    # The site's own Mastodon and Bluesky accounts ("https://host/@name", "did:plc:…", "name.bsky.social"):
    # a page may name a post of theirs for its replies to show in the thread (social/). None: only an
    # admin can.
    remote_authors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _from_hash(data: dict[str, str]) -> Site:
    return Site(
        id=data["id"],
        name=data.get("name", ""),
        origins=orjson.loads(data.get("origins", "[]")),
        moderation=data.get("moderation", "publish"),
        blocklist=orjson.loads(data.get("blocklist", "[]")),
        created=int(data.get("created", 0)),
        language=data.get("language", "en"),
        owner_emails=orjson.loads(data.get("owner_emails", "[]")),
        pow=data.get("pow") == "1",
        hold_reports=int(data.get("hold_reports") or 0),
        reactions=orjson.loads(data["reactions"]) if "reactions" in data else list(DEFAULT_REACTIONS),
        typing=data.get("typing") == "1",
        stylesheet=data.get("stylesheet", ""),
        remote_authors=orjson.loads(data.get("remote_authors", "[]")),
    )


class SiteStore:
    def __init__(self, redis: Redis, cache_seconds: float = 2.0) -> None:
        self.redis = redis
        self.cache_seconds = cache_seconds
        # site id -> (fetched at, Site or None). Sites change rarely and every
        # request needs one, so each process keeps them a moment.
        self._cache: dict[str, tuple[float, Site | None]] = {}
        self._create = redis.register_script(_CREATE)

    async def get(self, site_id: str) -> Site | None:
        if not keys.SITE_ID.match(site_id):
            return None
        hit = self._cache.get(site_id)
        now = time.monotonic()
        if hit and now - hit[0] < self.cache_seconds:
            return hit[1]
        data = await self.redis.hgetall(keys.site(site_id))
        found = _from_hash(data) if data else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[site_id] = (now, found)
        return found

    async def create(self, site: Site) -> bool:
        """Register a new site; False if the id is taken. The index is written
        first so a crash between the two steps leaves only a harmless index entry."""
        site.created = site.created or int(time.time() * 1000)
        await self.redis.sadd(keys.site_index(), site.id)
        created = await self._create(keys=[keys.site(site.id)], args=self._fields(site))
        return bool(created)

    async def update(self, site: Site) -> None:
        await self.redis.hset(keys.site(site.id), mapping=dict(zip(*[iter(self._fields(site))] * 2)))
        self._cache.pop(site.id, None)

    @staticmethod
    def _fields(site: Site) -> list[Any]:
        return ["id", site.id, "name", site.name, "origins", orjson.dumps(site.origins).decode(),
                "moderation", site.moderation, "created", site.created,
                "blocklist", orjson.dumps(site.blocklist).decode(), "language", site.language,
                "owner_emails", orjson.dumps(site.owner_emails).decode(), "pow", "1" if site.pow else "0",
                "hold_reports", site.hold_reports, "reactions", orjson.dumps(site.reactions).decode(),
                "typing", "1" if site.typing else "0", "stylesheet", site.stylesheet,
                "remote_authors", orjson.dumps(site.remote_authors).decode()]

    async def is_known(self, site_id: str, guest: str, email_hash: str = "") -> bool:
        """Has this guest had a comment approved here: their browser (the per-site guest key), or an
        email address whose owner confirmed it and had one approved? A typed address alone proves
        nothing: anyone can type a regular's address."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sismember(keys.known_guests(site_id), guest or "-")
            pipe.sismember(keys.known_guests(site_id), email_hash or "-")
            pipe.sismember(keys.confirmed_emails(site_id), email_hash or "-")
            by_browser, by_email, confirmed = await pipe.execute()
        return bool(guest and by_browser) or bool(email_hash and by_email and confirmed)

    async def mark_known(self, site_id: str, *who: str) -> None:
        """After an approval: the guest's key and email hash (the latter counts once it is confirmed)."""
        known = [w for w in who if w]
        if known:
            await self.redis.sadd(keys.known_guests(site_id), *known)

    async def use_pow(self, site_id: str, fingerprint: str, seconds: int) -> bool:
        """Spend a proof of work: False if it was spent before."""
        return bool(await self.redis.set(keys.pow_used(site_id, fingerprint), "1", nx=True, ex=max(1, seconds)))

    async def confirm_email(self, site_id: str, email_hash: str) -> None:
        """The address's owner clicked a link mailed to it from this site."""
        await self.redis.sadd(keys.confirmed_emails(site_id), email_hash)

    async def list(self) -> list[Site]:
        ids = sorted(await self.redis.smembers(keys.site_index()))
        sites = []
        for site_id in ids:
            data = await self.redis.hgetall(keys.site(site_id))
            if data:
                sites.append(_from_hash(data))
        return sites

    async def remove(self, site_id: str, thread_ids: list[str]) -> dict[str, int]:
        """Delete the site and everything it holds: its threads' keys (comments, likes, events,
        subscribers) and its own (settings, admins, bans, feed, lists, webhook, mail queue).
        Accounts stay: they belong to no one site. For `rejoinder site remove` only (a keyspace scan)."""
        removed = {"threads": 0, "keys": 0}
        for tid in thread_ids:
            found = [k async for k in self.redis.scan_iter(match=keys.thread_prefix(tid) + "*", count=1000)]
            if found:
                removed["keys"] += await self.redis.delete(*found)
            removed["threads"] += 1
        site_keys = [k async for k in self.redis.scan_iter(match=keys.site_prefix(site_id) + "*", count=1000)]
        admins = await self.redis.smembers(keys.admins(site_id))
        for who in admins:
            await self.redis.srem(keys.admin_sites(hashlib.sha256(who.encode()).hexdigest()[:32]), site_id)
        if site_keys:
            removed["keys"] += await self.redis.delete(*site_keys)
        await self.redis.srem(keys.site_index(), site_id)
        self._cache.pop(site_id, None)
        return removed
