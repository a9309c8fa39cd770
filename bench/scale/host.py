"""The simulated host of bench/scale_out.py: many sites, each with threads of comments,
loaded fast through Rejoinder's own store layer (its Lua scripts, pipelined).

Each comment is the document the HTTP API would store for a guest (author, text,
rendered html, owner and IP hashes, edit-token hash, site) written by the same
`create_comment.lua` call with the same keys and arguments, followed by the same
site-feed entry the API writes (`FeedStore.announce`: XADD to the site's feed, ZADD
to its thread index). Threads are created by `open_thread.lua` as the widget's first
GET does. What is skipped: HTTP, rendering each text (one rendered template, its
number substituted), the rate limiter's counters, spam checks.

Idempotency keys (kept 24 h) and duplicate-body keys (kept 1 h) are written as the
API writes them; their names are derived from (thread, comment number), so
`drop_transient` can delete exactly those afterwards to show the memory of a host
whose comments are older than a day.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
from typing import Any

LOREM = ("Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua.")
TOKEN = "QQQNUMQQQ"


def site_id(i: int) -> str:
    return f"host-{i:04d}"


def page_of(j: int) -> str:
    return f"/posts/{j:03d}"


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _keyed(secret: str, value: str, length: int = 24) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:length]


def batch_script() -> str:
    """create_comment.lua itself, wrapped in a function and called once per comment of
    one thread: the same code writes the same keys, with one round trip per thread.
    KEYS: meta, comments, roots, events, then one idempotency key per comment.
    ARGV: prefix, max depth, events maxlen, idempotency ttl, duplicate seconds, and one JSON
    array of [doc JSON, parent or "", fingerprint, body digest] per comment (one argument:
    redis-py packs each argument in Python, which would cost more than the writes)."""
    from rejoinder.store.scripts import source

    body = source("create_comment")  # with its --@include'd helpers
    return (
        "local function create_one(KEYS, ARGV)\n" + body + "\nend\n"
        "local items = cjson.decode(ARGV[6])\n"
        "for i, it in ipairs(items) do\n"
        "  local r = create_one({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[4 + i]},\n"
        "    {ARGV[1], it[1], it[2], ARGV[2], ARGV[3], ARGV[4], it[3], it[4], ARGV[5]})\n"
        "  if r[1] ~= 'ok' then return {'err', i, tostring(r[2])} end\n"
        "end\n"
        "return {'ok', #items}\n"
    )


# FeedStore.announce for many comments of one site: XADD to the feed (MAXLEN ~), ZADD to the index.
# KEYS: feed, threads; ARGV: maxlen, a JSON array of thread id, time ms, thread id, ... in write order.
FEED_LUA = """
local items = cjson.decode(ARGV[2])
for i = 1, #items, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'tid', items[i], 'type', 'comment.created')
  redis.call('ZADD', KEYS[2], items[i + 1], items[i])
end
return #items / 2
"""


class HostLoader:
    def __init__(self, redis_url: str, secret: str, sites: int, threads: int, comments: int,
                 reply_frac: float = 0.25, seed: int = 7) -> None:
        self.redis_url = redis_url
        self.secret = secret
        self.sites = sites
        self.threads = threads
        self.comments = comments
        self.reply_frac = reply_frac
        self.seed = seed

    def thread_list(self) -> list[tuple[str, str, str]]:
        """(site, page, thread id) of every thread, grouped by site in site order."""
        from rejoinder.pages import page_key
        from rejoinder.store import keys

        return [(site_id(i), page_of(j), keys.thread_id(site_id(i), page_key(page_of(j))))
                for i in range(self.sites) for j in range(self.threads)]

    async def _client(self) -> Any:
        from rejoinder.app import connect
        from rejoinder.settings import Settings

        redis = connect(Settings.from_env(redis_url=self.redis_url))
        if hasattr(redis, "initialize"):
            # redis-py's cluster client: concurrent first commands on an uninitialised
            # client can fail (AttributeError in its connect); initialise it first
            await redis.initialize()
        return redis

    async def register_sites(self) -> float:
        """Every site through SiteStore.create (as `rejoinder site add`), then the origin index once."""
        from rejoinder.store.origins import OriginIndex
        from rejoinder.store.sites import Site, SiteStore

        t0 = time.monotonic()
        redis = await self._client()
        try:
            store = SiteStore(redis)
            sem = asyncio.Semaphore(32)

            async def one(i: int) -> None:
                async with sem:
                    await store.create(Site(id=site_id(i), name=f"Blog {i}",
                                            origins=[f"https://blog{i:04d}.bench.invalid"]))

            await asyncio.gather(*(one(i) for i in range(self.sites)))
            await OriginIndex(redis, 2.0).rebuild({f"https://blog{i:04d}.bench.invalid" for i in range(self.sites)})
        finally:
            await redis.aclose()
        return time.monotonic() - t0

    async def load(self, concurrency: int = 6, progress: Any = None) -> dict[str, Any]:
        """Create every thread and comment; returns counts and seconds."""
        import orjson
        from rejoinder.render import render
        from rejoinder.settings import Settings
        from rejoinder.store import keys
        from rejoinder.store.comments import DUPLICATE_SECONDS, PROVISIONAL_SECONDS, RETITLE_SECONDS
        from rejoinder.store.scripts import Scripts

        settings = Settings.from_env(redis_url=self.redis_url)
        html_tpl = render(f"Host comment {TOKEN}. {LOREM}")
        assert TOKEN in html_tpl
        redis = await self._client()
        scripts = Scripts(redis)
        await scripts.load()
        sha_open = scripts["open_thread"].sha
        batch = redis.register_script(batch_script())
        feed = redis.register_script(FEED_LUA)
        for s in (batch, feed):
            await redis.script_load(s.script)
        threads = self.thread_list()
        by_site: dict[str, list[tuple[str, str]]] = {}
        for s_, p, t in threads:
            by_site.setdefault(s_, []).append((p, t))
        names = [f"Reader {n}" for n in range(500)]
        avatars = {n: f"/api/avatars/{_keyed(self.secret, 'avatar:' + n.lower(), 20)}.svg" for n in names}
        ip = _keyed(self.secret, "ip:127.0.0.1")
        stats = {"comments": 0, "replies": 0, "threads": 0, "calls": 0}
        t0 = time.monotonic()
        done_sites = 0
        sem = asyncio.Semaphore(concurrency)

        async def call(coro: Any) -> Any:
            async with sem:
                stats["calls"] += 1
                return await coro

        async def one_thread(site: str, j: int, page: str, tid: str, now: int, rng: random.Random) -> None:
            await call(redis.evalsha(sha_open, 4, keys.thread_meta(tid), keys.comments(tid), keys.roots(tid),
                                     keys.like_counts(tid), keys.thread_prefix(tid), "oldest", "", 1,
                                     settings.inline_replies, "", "1", site, page, "", f"Post {page}", now,
                                     rng.getrandbits(64).to_bytes(8, "big").hex(), PROVISIONAL_SECONDS,
                                     RETITLE_SECONDS))
            roots: list[int] = []
            idem_keys: list[str] = []
            items: list[list[Any]] = []
            for c in range(self.comments):
                cid = c + 1  # a fresh thread numbers its comments 1, 2, ...
                parent: int | str = ""
                if roots and rng.random() < self.reply_frac:
                    parent = rng.choice(roots)
                    stats["replies"] += 1
                else:
                    roots.append(cid)
                name = names[rng.randrange(len(names))]
                num = f"{site}-{j}-{c}"
                text = self.text(site, j, c)
                owner = self.owner(site, j, c)
                doc = {"author": {"kind": "guest", "name": name, "website": "", "avatar": avatars[name]},
                       "email": "", "text": text, "html": html_tpl.replace(TOKEN, num),
                       "created": now + c * 60_000 + j, "status": "approved", "spam_reasons": "",
                       "owner": owner,
                       "edit_hash": _sha(f"edit-{num}"), "ip": ip, "site": site}
                fingerprint = _sha(f"{doc['owner']}\n{parent or None}\n{text}\n{name}")[:32]
                idem_keys.append(keys.idempotency(tid, self.idem_digest(tid, c)))
                items.append([orjson.dumps(doc).decode(), str(parent), fingerprint, self.body_digest(owner, text)])
            argv = [keys.thread_prefix(tid), settings.max_depth, settings.events_maxlen, settings.idempotency_seconds,
                    DUPLICATE_SECONDS, orjson.dumps(items).decode()]
            result = await call(batch(keys=[keys.thread_meta(tid), keys.comments(tid), keys.roots(tid),
                                            keys.events(tid), *idem_keys], args=argv))
            if result[0] != "ok":
                raise RuntimeError(f"{site} {page}: comment {result[1]} refused: {result[2]}")
            stats["threads"] += 1
            stats["comments"] += self.comments

        async def one_site(site: str, pages: list[tuple[str, str]]) -> None:
            nonlocal done_sites
            rng = random.Random(f"{self.seed}-{site}")
            now = int(time.time() * 1000) - 86_400_000
            seeds = [random.Random(rng.getrandbits(32)) for _ in pages]
            await asyncio.gather(*(one_thread(site, j, page, tid, now, seeds[j])
                                   for j, (page, tid) in enumerate(pages)))
            # the site feed entries FeedStore.announce writes after each create, in one call per site
            pairs: list[Any] = []
            for c in range(self.comments):
                for j, (_, tid) in enumerate(pages):
                    pairs += [tid, now + c * 60_000 + j]
            await call(feed(keys=[keys.site_feed(site), keys.site_threads(site)],
                            args=[100_000, orjson.dumps(pairs).decode()]))
            done_sites += 1
            if progress and done_sites % 100 == 0:
                progress(done_sites, time.monotonic() - t0)

        try:
            # a few sites at a time; within a site its threads' calls run concurrently (bounded)
            site_sem = asyncio.Semaphore(4)

            async def guarded(site: str, pages: list[tuple[str, str]]) -> None:
                async with site_sem:
                    await one_site(site, pages)

            await asyncio.gather(*(guarded(s_, p) for s_, p in by_site.items()))
        finally:
            await redis.aclose()
        stats["seconds"] = round(time.monotonic() - t0, 1)
        return stats

    @staticmethod
    def text(site: str, j: int, c: int) -> str:
        return f"Host comment {site}-{j}-{c}. {LOREM}"

    def idem_digest(self, tid: str, c: int) -> str:
        return _sha(f"host-load\n{tid}\n{c}")

    def owner(self, site: str, j: int, c: int) -> str:
        """A guest's key, as identity.py derives it from the reader's browser key."""
        return "g:" + _keyed(self.secret, f"client:{site}-{j}-{c}-reader")

    @staticmethod
    def body_digest(owner: str, text: str) -> str:
        """The author's duplicate key, as api/comments.py writes it (one per way the author is known)."""
        said = " ".join(text.lower().split())
        return _sha(f"{owner}\n{said}")[:32]

    async def drop_transient(self, concurrency: int = 8) -> float:
        """Delete the idempotency and duplicate-body keys the load wrote (they expire after
        24 h and 1 h): what is left is what a host keeps for comments older than a day.
        One DEL per thread (its keys share the thread's slot), a few threads at a time."""
        from rejoinder.store import keys

        t0 = time.monotonic()
        redis = await self._client()
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int, site: str, tid: str) -> None:
            j = i % self.threads
            names = []
            for c in range(self.comments):
                names.append(keys.idempotency(tid, self.idem_digest(tid, c)))
                names.append(keys.thread_prefix(tid) + "body:" + self.body_digest(self.owner(site, j, c), self.text(site, j, c)))
            async with sem:
                await redis.execute_command("DEL", *names)

        try:
            await asyncio.gather(*(one(i, site, tid) for i, (site, _, tid) in enumerate(self.thread_list())))
        finally:
            await redis.aclose()
        return time.monotonic() - t0
