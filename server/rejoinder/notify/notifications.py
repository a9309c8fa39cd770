"""Email notifications: what a run of a thread's log means in mail, batches of new
comments, and the outbox that goes to the SMTP server.

Order of work: events -> (subscription requests, confirmation, owner and reply
mail straight into the outbox; new-comment items into a batch per subscriber)
in one atomic step with the cursor; a due batch -> one mail; the outbox -> SMTP,
each entry deleted as soon as the server accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import aiosmtplib
import orjson

from .. import links
from ..settings import Settings
from ..store.comments import CommentStore
from ..store.notify import NotifyStore
from ..store.sites import Site
from ..store.subscriptions import SubscriptionStore
from . import templates
from .mail import Smtp, compose, confirm_url, email_hash, unsubscribe_url

log = logging.getLogger("rejoinder.mail")

# Comments older than a day are not news: when mail is first turned on for a site
# with history, its past is not mailed out.
MAX_EVENT_AGE_MS = 24 * 3600 * 1000
# A message the SMTP server has refused to take for three days is dropped (and logged).
MAX_MAIL_AGE_MS = 3 * 24 * 3600 * 1000
# Most comments listed in one batch mail; more go in the next one.
BATCH_ITEMS = 200
# Event types that bring a new comment: posted, or published by a moderator.
NEW_COMMENT = ("comment.created", "comment.approved")
CONFIRM_EVERY_SECONDS = 24 * 3600


def _item(doc: dict[str, Any], to: str = "") -> dict[str, Any]:
    author = doc.get("author") or {}
    return {"cid": doc["id"], "name": author.get("name") or "?", "text": doc.get("text", ""),
            "html": doc.get("html", ""), "to": to}


class MailWork:
    """Turns events into mail for one site."""

    def __init__(self, settings: Settings, comments: CommentStore, subs: SubscriptionStore, store: NotifyStore) -> None:
        self.settings = settings
        self.comments = comments
        self.subs = subs
        self.store = store

    def _unsubscribe(self, site: Site, ehash: str, tid: str = "") -> str:
        return unsubscribe_url(self.settings, site.id, ehash, tid)

    async def events(self, site: Site, tid: str, entries: list[tuple[str, dict[str, str]]]
                     ) -> dict[str, list[Any]]:
        """The mail and batch items a run of the thread's log produces."""
        meta = await self.comments.meta(tid)
        now = int(time.time() * 1000)
        mail: list[dict[str, str]] = []
        batch: list[tuple[str, int, str]] = []
        for entry_id, fields in entries:
            if fields.get("type") not in NEW_COMMENT or not fields.get("doc") or fields.get("imported"):
                continue  # an imported comment is history, not news
            doc = orjson.loads(fields["doc"])
            if now - int(doc.get("created") or 0) > MAX_EVENT_AGE_MS:
                continue
            status = doc.get("status")
            if status not in ("approved", "pending"):
                continue  # spam makes no mail at all: not even a confirmation to a typed-in address
            if doc.get("notify") and doc.get("email") and status == "approved":
                # Held comments ask nothing: a flood of them cannot send mail to whoever's address it typed.
                # A held comment asks once an admin approves it (comment.approved).
                mail += await self._ask_confirmation(site, tid, meta, doc, f"{tid}:{entry_id}", now)
            if status == "pending":
                mail += await self._owner_mail(site, tid, meta, doc)
            else:
                m, b = await self._new_comment(site, tid, meta, doc, now)
                mail += m
                batch += b
        return {"mail": mail, "batch": batch}

    async def _ask_confirmation(self, site: Site, tid: str, meta: dict[str, str], doc: dict[str, Any],
                                event_id: str, now: int) -> list[dict[str, str]]:
        email = doc["email"]
        ehash = email_hash(self.settings, email)
        if (doc.get("author") or {}).get("provider") == "email":
            # Signed in by a link mailed to this address: its owner proved it already.
            await self.subs.add_confirmed(tid, ehash, email)
            return []
        if await self.subs.request(tid, ehash, email, now, event_id) != "ask":
            return []
        # At most one confirmation a day to one address from one site, whatever the number of threads:
        # the operator's domain must not become a way to mail a stranger again and again.
        if not await self.store.may_ask(site.id, ehash, CONFIRM_EVERY_SECONDS):
            return []
        unsubscribe = self._unsubscribe(site, ehash, tid)
        mail = templates.confirm(site.language, site=site.name or site.id,
                                 confirm_url=confirm_url(self.settings, site.id, tid, ehash),
                                 unsubscribe_url=unsubscribe)
        return [compose(self.settings, to=email, site_name=site.name or site.id, mail=mail,
                        unsubscribe=unsubscribe, kind="confirm")]

    async def _owner_mail(self, site: Site, tid: str, meta: dict[str, str], doc: dict[str, Any]
                          ) -> list[dict[str, str]]:
        if not site.owner_emails:
            return []
        out = []
        opted_out = await self.store.owner_opted_out(site.id)
        reason = ", ".join(r for r in (doc.get("spam_reasons") or "").split(",") if r) or "policy"
        for email in site.owner_emails:
            ehash = email_hash(self.settings, email)
            if ehash in opted_out:
                continue
            unsubscribe = self._unsubscribe(site, ehash)
            mail = templates.held(
                site.language, site=site.name or site.id, title=meta.get("title", ""), url=meta.get("url", ""),
                item=_item(doc), reason=reason, hours=self.settings.moderation_link_hours,
                approve_url=links.moderation_url(self.settings, site.id, tid, doc["id"], "approve"),
                delete_url=links.moderation_url(self.settings, site.id, tid, doc["id"], "delete"),
                unsubscribe_url=unsubscribe)
            out.append(compose(self.settings, to=email, site_name=site.name or site.id, mail=mail,
                               unsubscribe=unsubscribe, kind="held"))
        return out

    async def _new_comment(self, site: Site, tid: str, meta: dict[str, str], doc: dict[str, Any], now: int
                           ) -> tuple[list[dict[str, str]], list[tuple[str, int, str]]]:
        subscribers = await self.subs.confirmed(tid)
        if not subscribers:
            return [], []
        author = email_hash(self.settings, doc["email"]) if doc.get("email") else ""
        parent_hash = ""
        target = doc.get("reply_to") or doc.get("parent")
        if target:
            parent = await self.comments.get(tid, int(target))
            if parent and parent.get("email"):
                parent_hash = email_hash(self.settings, parent["email"])
        # The authors of the comments it mentions (@name), told at once like a reply's parent.
        mentioned: set[str] = set()
        for cid in doc.get("mentions") or []:
            other = await self.comments.get(tid, int(cid))
            if other and other.get("email") and other.get("status") == "approved":
                mentioned.add(email_hash(self.settings, other["email"]))
        mail, batch = [], []
        due = now + int(self.settings.notify_batch_seconds * 1000)
        for ehash, email in subscribers.items():
            if ehash == author:
                continue  # nobody is told of their own comment
            if ehash == parent_hash:
                unsubscribe = self._unsubscribe(site, ehash, tid)
                m = templates.reply(site.language, title=meta.get("title", ""), url=meta.get("url", ""),
                                    item=_item(doc), unsubscribe_url=unsubscribe)
                mail.append(compose(self.settings, to=email, site_name=site.name or site.id, mail=m,
                                    unsubscribe=unsubscribe, kind="reply"))
                continue
            if ehash in mentioned:
                unsubscribe = self._unsubscribe(site, ehash, tid)
                m = templates.reply(site.language, title=meta.get("title", ""), url=meta.get("url", ""),
                                    item=_item(doc), unsubscribe_url=unsubscribe, kind="mention")
                mail.append(compose(self.settings, to=email, site_name=site.name or site.id, mail=m,
                                    unsubscribe=unsubscribe, kind="mention"))
                continue
            batch.append((f"{tid}:{ehash}", due, orjson.dumps(_item(doc, email)).decode()))
        return mail, batch

    async def flush(self, site: Site, stopping: Callable[[], bool]) -> None:
        """Turn every due batch into one mail (or none, if its reader unsubscribed meanwhile)."""
        now = int(time.time() * 1000)
        for member in await self.store.due_batches(site.id, now):
            if stopping():
                return
            items = await self.store.batch_items(site.id, member)
            tid, _, ehash = member.partition(":")
            mail = None
            if items and await self.subs.state(tid, ehash) == "confirmed":
                # A comment deleted (or edited) since is mailed as it is now, or not at all.
                current = []
                for item in items:
                    doc = await self.comments.get(tid, int(item["cid"]))
                    if doc and doc.get("status") == "approved":
                        current.append(_item(doc, item["to"]))
                if current:
                    meta = await self.comments.meta(tid)
                    unsubscribe = self._unsubscribe(site, ehash, tid)
                    m = templates.new_comments(site.language, title=meta.get("title", ""), url=meta.get("url", ""),
                                               items=current, unsubscribe_url=unsubscribe)
                    mail = compose(self.settings, to=items[0]["to"], site_name=site.name or site.id, mail=m,
                                   unsubscribe=unsubscribe, kind="new")
            await self.store.close_batch(site.id, member, len(items), mail)


class Outbox:
    """Sends a site's outbox through SMTP, oldest first."""

    def __init__(self, settings: Settings, store: NotifyStore, site: str) -> None:
        self.settings = settings
        self.store = store
        self.site = site
        self.smtp = Smtp(settings)
        self.backoff = 1.0
        # Entries the server accepted whose deletion did not reach Redis yet: they are
        # deleted, not sent again, when Redis answers (only a crash of this process
        # in that moment can send one twice).
        self.accepted: set[str] = set()

    async def send_some(self, stopping: Callable[[], bool]) -> float:
        """Send what is waiting; the seconds to wait before the next call."""
        entries = await self.store.outbox(self.site, 50)
        if not entries:
            await self.smtp.close()
            return self.settings.worker_poll_seconds
        for entry_id, fields in entries:
            if stopping():
                return 0.0
            if entry_id in self.accepted:
                await self.store.delivered(self.site, entry_id, "sent")
                self.accepted.discard(entry_id)
                continue
            if time.time() * 1000 - int(fields.get("at") or 0) > MAX_MAIL_AGE_MS:
                log.error("mail %s to a reader of %s dropped: undeliverable for 3 days", fields.get("mid"), self.site)
                await self.store.delivered(self.site, entry_id, "failed")
                continue
            try:
                await self.smtp.send(fields)
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPDataError) as exc:
                codes = [r.code for r in getattr(exc, "recipients", [])] or [getattr(exc, "code", 0)]
                if all(500 <= c < 600 for c in codes):
                    # The server will never take this one (unknown address, refused content).
                    log.error("mail %s for %s refused for good (%s): dropped", fields.get("mid"), self.site, exc)
                    await self.store.delivered(self.site, entry_id, "failed")
                    continue
                return await self._failed(exc)
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
                return await self._failed(exc)
            # Marked delivered right after the server accepted it. The window left: a
            # crash between the server's "250 OK" and this XDEL sends it again after a
            # restart, with the same Message-ID.
            self.accepted.add(entry_id)
            await self.store.delivered(self.site, entry_id, "sent")
            self.accepted.discard(entry_id)
            self.backoff = 1.0
        return 0.0

    async def _failed(self, exc: BaseException) -> float:
        await self.store.deferred(self.site)
        wait = self.backoff
        log.warning("SMTP server %s:%s failed (%s); mail for %s kept, retrying in %.0fs",
                    self.settings.smtp_host, self.settings.smtp_port, exc, self.site, wait)
        await self.smtp.close()
        self.backoff = min(self.backoff * 2, max(self.settings.smtp_retry_max_seconds, 0.1))
        return wait

    async def close(self) -> None:
        await self.smtp.close()
