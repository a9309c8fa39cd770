"""Following a site's remote posts: the worker's loop that looks at each thread's Mastodon status and
Bluesky post when it is due, and brings their replies into the thread as comments.

- A reply becomes a comment through the same atomic write as a reader's, after the same rules: the
  site's policy, blocked words, links, bans (on the remote account). It is announced like any comment,
  so it reaches open widgets live, the dashboard's queues, mail and webhooks.
- An edit at the source edits the comment (and goes through the rules again: it can be held, never
  published by it); a reply gone at its source (asked for alone first: a list that came back short proves
  nothing) is deleted here. An admin's hiding sticks: a hidden reply is never brought back.
- A page may name a post only of one of the site's own accounts (Site.remote_authors), checked at the
  first look; an admin may name any.
- Each thread is looked at again after a wait that grows with its quiet (from REJOINDER_REMOTE_POLL_SECONDS
  for a new or lively post to 6 hours), doubles with each failure, and never comes before the time a
  server asked for in its rate-limit headers (kept per host, for every site and node).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import httpx2
import orjson

from .. import spam
from ..auth.avatars import copy_avatar
from ..errors import ApiError
from ..models import Identity
from ..render import render
from ..state import State
from ..store import keys
from ..store.remote import SOURCES
from ..store.sites import Site
from . import bluesky, mastodon, refs
from .fetch import NotFound, RemoteError
from .posts import RemotePost, RemoteThread

log = logging.getLogger("rejoinder.social")

# Threads looked at in one step, and at once.
BATCH = 20
CONCURRENCY = 8
MAX_INTERVAL = 6 * 3600.0
# Replies missing from a post's answer that are asked for alone in one look (the rest wait for the next).
MAX_GONE_CHECKS = 20
HOUR = 3600 * 1000


def interval(base: float, quiet_ms: int, fails: int) -> float:
    """Seconds until the next look: `base` for a post quiet for less than an hour, then 3x, 15x, 60x
    and 360x as it stays quiet a day, a week, a month; doubled per failure in a row; at most 6 hours."""
    if fails:
        return min(MAX_INTERVAL, base * 2 ** min(fails, 12))
    factor = 1 if quiet_ms < HOUR else 3 if quiet_ms < 24 * HOUR else 15 if quiet_ms < 168 * HOUR \
        else 60 if quiet_ms < 720 * HOUR else 360
    return min(MAX_INTERVAL, base * factor)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def owner_key(source: str, post: RemotePost) -> str:
    """The remote account as an identity of the site: what bans and the dashboard name it by."""
    return f"r:{source}:{_digest(post.profile or post.handle)[:24]}"


class Follower:
    """One site's remote posts, while this node holds the site's lease (notify/worker.py)."""

    def __init__(self, st: State, site_id: str) -> None:
        self.state = st
        self.settings = st.settings
        self.site_id = site_id
        self._avatars: OrderedDict[str, str] = OrderedDict()

    async def step(self) -> float:
        """Look at the threads that are due; the seconds until the next one is."""
        st = self.state
        now = int(time.time() * 1000)
        due = await st.remote.claim_due(self.site_id, now, BATCH)
        if not due:
            nxt = await st.remote.next_due(self.site_id)
            return self.settings.worker_poll_seconds if nxt is None else \
                min(self.settings.worker_poll_seconds, max(0.05, (nxt - now) / 1000))
        site = await st.sites.get(self.site_id)
        if site is None:
            return self.settings.worker_poll_seconds
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(tid: str) -> None:
            async with gate:
                try:
                    await self.look(client, site, tid)
                except (ApiError, ValueError, KeyError, TypeError) as exc:
                    # A thread that cannot be looked at must not stop the others: try it later.
                    log.warning("following remote replies of %s failed: %r", tid, exc)
                    await st.remote.schedule(site.id, tid, int((time.time() + MAX_INTERVAL) * 1000))

        async with httpx2.AsyncClient(timeout=self.settings.remote_timeout_seconds) as client:
            await asyncio.gather(*(one(tid) for tid in due))
        return 0.0 if len(due) == BATCH else 0.05

    async def look(self, client: httpx2.AsyncClient, site: Site, tid: str) -> None:
        st = self.state
        meta = await st.comments.meta(tid)
        if not meta or meta.get("site") != site.id or meta.get("moved"):
            await st.remote.unschedule(site.id, tid)
            return
        now = int(time.time() * 1000)
        notes = await st.remote.state(tid)
        before: dict[str, Any] = orjson.loads(meta.get("remote") or "{}")
        counts = dict(before)
        waits: list[float] = []
        for source in SOURCES:
            ref_text = meta.get(source) or ""
            if not ref_text:
                counts.pop(source, None)
                continue
            if notes.get(f"{source}:error") == "not_site_account":
                continue  # a page named someone else's post: not followed until it names another
            wait = await self._look_at(client, site, tid, source, ref_text, meta, notes, counts, now)
            if wait is not None:
                waits.append(wait)
        if counts != before:
            await st.remote.set_counts(tid, counts)
        if waits:
            await st.remote.schedule(site.id, tid, now + int(min(waits) * 1000))
        else:
            await st.remote.unschedule(site.id, tid)

    async def _look_at(self, client: httpx2.AsyncClient, site: Site, tid: str, source: str, ref_text: str,
                       meta: dict[str, str], notes: dict[str, str], counts: dict[str, Any], now: int
                       ) -> float | None:
        """One source of one thread: fetch, check, bring in. The seconds until its next look (None: never)."""
        st = self.state
        ref: refs.Status | refs.Post | None = (refs.mastodon_status(ref_text) if source == "mastodon"
                                               else refs.bluesky_post(ref_text))
        if ref is None:
            await st.remote.note(tid, {f"{source}:error": "bad_url"})
            return None
        if isinstance(ref, refs.Post) and not ref.who.startswith("did:") and notes.get(f"{source}:did"):
            ref = refs.Post(notes[f"{source}:did"], ref.rkey)  # its handle was resolved at an earlier look
        host = urlsplit(ref.server if isinstance(ref, refs.Status) else self.settings.bluesky_appview).netloc
        fails = int(notes.get(f"{source}:fails") or 0)
        held = await st.remote.host_wait(host)
        if held > now:
            return (held - now) / 1000 + 0.05
        try:
            if isinstance(ref, refs.Status):
                remote, asked = await mastodon.thread(client, self.settings, ref)
            else:
                remote, asked = await bluesky.thread(client, self.settings, ref)
        except RemoteError as exc:
            if exc.wait_until_ms:
                await st.remote.hold_host(host, exc.wait_until_ms)
            log.info("%s post of thread %s: %s (%s)", source, tid, exc.category, exc)
            fails += 1
            await st.remote.note(tid, {f"{source}:fails": fails, f"{source}:error": exc.category,
                                       f"{source}:checked": now})
            if isinstance(exc, NotFound):
                counts.pop(source, None)  # the post is gone: so are its counts
            base = interval(self.settings.remote_poll_seconds, 0, fails)
            return max(base, (exc.wait_until_ms - now) / 1000) if exc.wait_until_ms else base
        if asked:
            await st.remote.hold_host(host, asked)
        if meta.get(source + "_by") != "admin" and notes.get(f"{source}:verified") != "1":
            if not self._sites_own(site, source, remote):
                log.info("%s post of thread %s is not by one of %s's accounts: not followed", source, tid, site.id)
                await st.remote.note(tid, {f"{source}:error": "not_site_account", f"{source}:checked": now})
                counts.pop(source, None)
                return None
            await st.remote.note(tid, {f"{source}:verified": "1"})
        if isinstance(ref, refs.Post) and not ref.who.startswith("did:") and refs.DID.match(remote.author):
            await st.remote.note(tid, {f"{source}:did": remote.author})
        new = await self._bring_in(client, site, tid, source, ref, remote)
        counts[source] = {**remote.counts, "url": remote.url}
        last_new = now if new else int(notes.get(f"{source}:new") or meta.get("created") or now)
        update: dict[str, str | int] = {f"{source}:fails": 0, f"{source}:error": "", f"{source}:checked": now}
        if new:
            update[f"{source}:new"] = now
        await st.remote.note(tid, update)
        wait = interval(self.settings.remote_poll_seconds, now - last_new, 0)
        return max(wait, (asked - now) / 1000) if asked else wait

    @staticmethod
    def _sites_own(site: Site, source: str, remote: RemoteThread) -> bool:
        if source == "mastodon":
            return bool(remote.author) and refs.same_account(remote.author, site.remote_authors)
        return bool(remote.author) and (remote.author in site.remote_authors
                                        or remote.handle.lower() in site.remote_authors)

    # --- replies into comments ------------------------------------------------------------

    async def _bring_in(self, client: httpx2.AsyncClient, site: Site, tid: str, source: str,
                        ref: refs.Status | refs.Post, remote: RemoteThread) -> int:
        """Create, edit and delete the thread's comments of this source to match `remote`; how many are new."""
        st = self.state
        mapping = await st.remote.mapping(tid)
        seen: set[str] = set()
        new = 0
        for post in remote.replies:
            key = f"{source}:{post.id}"
            seen.add(key)
            digest = _digest(post.text)[:16]
            known = mapping.get(key)
            if known is not None:
                if known[1] != digest:
                    await self._edit(site, tid, known[0], source, post)
                    await st.remote.remember(tid, key, known[0], digest)
                continue
            parent = mapping.get(f"{source}:{post.parent}") if post.parent else None
            cid = await self._create(site, tid, source, post, parent[0] if parent else None)
            if cid is not None:
                await st.remote.remember(tid, key, cid, digest)
                mapping[key] = (cid, digest)
                new += 1
        missing = [k for k in mapping if k.startswith(source + ":") and k not in seen][:MAX_GONE_CHECKS]
        if missing:
            ids = [k.split(":", 1)[1] for k in missing]
            try:
                if isinstance(ref, refs.Status):
                    gone = await mastodon.gone(client, self.settings, ref, ids)
                else:
                    gone = await bluesky.gone(client, self.settings, ids)
            except RemoteError:
                gone = []  # asked and not told: they stay
            for rid in gone:
                key = f"{source}:{rid}"
                await self._delete(site, tid, mapping[key][0])
                await st.remote.forget(tid, key)
        return new

    def _verdict(self, site: Site, owner: str, text: str, html: str, banned: bool) -> spam.Verdict:
        viewer = Identity(kind="remote", key=owner)
        verdict = spam.local_rules(site, text, html, {}, viewer, self.settings, int(time.time() * 1000), True)
        if banned:
            spam.banned(verdict)
        return verdict

    async def _avatar(self, source: str, post: RemotePost) -> str:
        """The author's picture, copied here once per worker (a reader's browser never asks their server)."""
        if not post.avatar:
            return ""
        if post.avatar in self._avatars:
            self._avatars.move_to_end(post.avatar)
            return self._avatars[post.avatar]
        local = await copy_avatar(self.state, f"{source}:{post.handle}", post.avatar)
        self._avatars[post.avatar] = local
        if len(self._avatars) > 5000:
            self._avatars.popitem(last=False)
        return local

    async def _create(self, site: Site, tid: str, source: str, post: RemotePost, parent: int | None) -> int | None:
        st = self.state
        owner = owner_key(source, post)
        html = render(post.text)
        banned = bool(await st.redis.hexists(keys.bans(site.id), f"identity:{owner}"))
        verdict = self._verdict(site, owner, post.text, html, banned)
        now = int(time.time() * 1000)
        created = post.created_ms if 0 < post.created_ms <= now else now
        doc = {
            "author": {"kind": "remote", "name": post.name, "avatar": await self._avatar(source, post),
                       "provider": source, "profile": post.profile, "website": "", "handle": post.handle},
            "email": "", "text": post.text, "html": html,
            "remote": {"via": source, "url": post.url, "id": post.id},
            "created": created, "status": verdict.status, "spam_reasons": ",".join(verdict.reasons),
            "owner": owner, "edit_hash": "", "ip": "", "site": site.id,
        }
        # Keyed by the reply's id at its source: a look repeated after a crash finds the comment it made.
        key = _digest(f"remote\n{source}\n{post.id}")
        for attempt in (parent, None):
            try:
                written = await st.comments.create(tid, doc, attempt, idempotency=key, fingerprint=key[:32])
                break
            except ApiError as exc:
                if exc.code in ("parent_not_found", "comment_deleted") and attempt is not None:
                    continue  # what it answers is held, hidden or deleted here: it stands on its own
                if exc.code in ("thread_locked", "thread_not_found"):
                    return None
                raise
        else:
            return None
        stored = written.doc
        await st.feed.announce(site.id, tid, "comment.created", pointer=(stored["id"], stored["status"],
                                                                          stored["created"]),
                               reasons=stored.get("spam_reasons", ""))
        return int(stored["id"])

    async def _edit(self, site: Site, tid: str, cid: int, source: str, post: RemotePost) -> None:
        st = self.state
        doc = await st.comments.get(tid, cid)
        if doc is None or doc.get("status") == "deleted":
            return
        html = render(post.text)
        banned = bool(await st.redis.hexists(keys.bans(site.id), f"identity:{doc.get('owner', '')}"))
        verdict = self._verdict(site, doc.get("owner", ""), post.text, html, banned)
        try:
            written = await st.comments.edit(tid, cid, html, post.text, int(time.time() * 1000), verdict.status,
                                             verdict.reasons)
        except ApiError:
            return
        await st.feed.announce(site.id, tid, written.extra["event"],
                               pointer=(cid, written.doc.get("status", ""), written.doc.get("created", 0)))

    async def _delete(self, site: Site, tid: str, cid: int) -> None:
        try:
            await self.state.comments.delete(tid, cid, int(time.time() * 1000))
        except ApiError:
            return  # already deleted here
        await self.state.feed.announce(site.id, tid, "comment.deleted")
