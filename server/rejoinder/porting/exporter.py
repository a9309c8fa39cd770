"""Export a site's comments for its owner: JSON (everything we keep) or WXR (to move to WordPress)."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any, AsyncIterator, TextIO

import orjson

from .. import models
from ..store.porting import PortingStore
from ..store.sites import Site
from .wxr import Writer

FORMAT = "rejoinder-export"
VERSION = 1


def comment_record(doc: dict[str, Any], likes: int, include_emails: bool) -> dict[str, Any]:
    """One comment for the owner: everything public plus its text and true status;
    the email only if asked for; never the hashes (IP, client, edit token)."""
    deleted = doc.get("status") == "deleted"
    author = doc.get("author") or {}
    record: dict[str, Any] = {
        "id": doc["id"],
        "parent": doc.get("parent"),
        "reply_to": doc.get("reply_to"),
        "depth": doc.get("depth", 0),
        "status": doc.get("status"),
        "created": models.iso(doc.get("created")),
        "edited": models.iso(doc.get("edited")),
        "deleted": models.iso(doc.get("deleted")) if deleted else None,
        "author": None if deleted or not author.get("name") else {
            "name": author.get("name", ""),
            "website": author.get("website") or None,
            "kind": author.get("kind", "guest"),
            "provider": author.get("provider") or None,
            "profile": author.get("profile") or None,
        },
        "html": "" if deleted else doc.get("html", ""),
        "text": "" if deleted else doc.get("text", ""),
        "likes": 0 if deleted else likes,
        "source": doc.get("source") or None,
    }
    if include_emails:
        record["email"] = None if deleted else (doc.get("email") or None)
    return record


def thread_record(tid: str, meta: dict[str, str], docs: list[dict[str, Any]], likes: dict[int, int],
                  include_emails: bool) -> dict[str, Any]:
    return {
        "id": tid,
        "page": meta.get("page", ""),
        "url": meta.get("url") or None,
        "title": meta.get("title", ""),
        "created": models.iso(int(meta.get("created") or 0)),
        "locked": meta.get("locked") == "1",
        "likes": int(meta.get("likes", 0)),
        "count": int(meta.get("count", 0)),
        "comments": [comment_record(d, likes.get(d["id"], 0), include_emails) for d in docs],
    }


def _mine(doc: dict[str, Any], email: str, identity: str) -> bool:
    if email:
        return (doc.get("email") or "").lower() == email.lower()
    return bool(identity) and doc.get("owner") == identity


async def export(out: TextIO, *, site: Site, tids: list[str], porting: PortingStore, fmt: str,
                 include_emails: bool, base_url: str = "", email: str = "", identity: str = "") -> dict[str, int]:
    """Write the site's threads to `out`, one consistent snapshot per thread. With
    `email` or `identity`, only that person's comments (their data on request)."""
    counts = {"threads": 0, "comments": 0}
    async for chunk in chunks(site=site, tids=tids, porting=porting, fmt=fmt, include_emails=include_emails,
                              base_url=base_url, email=email, identity=identity, counts=counts):
        out.write(chunk)
    return counts


async def chunks(*, site: Site, tids: list[str], porting: PortingStore, fmt: str, include_emails: bool,
                 base_url: str = "", email: str = "", identity: str = "",
                 counts: dict[str, int] | None = None) -> AsyncIterator[str]:
    """The export as pieces of text: the head, then one piece per thread, then the end.
    The dashboard streams these, so a large site's export is never whole in memory."""
    counts = counts if counts is not None else {"threads": 0, "comments": 0}
    counts.setdefault("threads", 0)
    counts.setdefault("comments", 0)
    buffer = io.StringIO()

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer = Writer(buffer, title=site.name or site.id, base_url=base_url, include_emails=include_emails) \
        if fmt == "wxr" else None
    if writer is None:
        head = {"format": FORMAT, "version": VERSION, "site": {"id": site.id, "name": site.name},
                "exported": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "emails_included": include_emails}
        buffer.write(orjson.dumps(head).decode()[:-1] + ',"threads":[\n')
    yield take()
    for tid in tids:
        meta, docs, likes = await porting.snapshot(tid)
        if not meta or meta.get("site") != site.id:
            continue
        if email or identity:
            docs = [d for d in docs if _mine(d, email, identity)]
        if not docs:
            continue
        record = thread_record(tid, meta, docs, likes, include_emails)
        if writer is not None:
            writer.thread(record)
        else:
            buffer.write(("," if counts["threads"] else "") + orjson.dumps(record).decode() + "\n")
        counts["threads"] += 1
        counts["comments"] += len(docs)
        yield take()
    if writer is not None:
        writer.close()
    else:
        buffer.write("]}\n")
    yield take()
