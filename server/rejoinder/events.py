"""Event types with stable names, parsed from a thread's event log, and their wire form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from . import models

COMMENT_CREATED = "comment.created"
COMMENT_EDITED = "comment.edited"
COMMENT_DELETED = "comment.deleted"
LIKE_CHANGED = "like.changed"
REACTION_CHANGED = "reaction.changed"
COUNT_CHANGED = "count.changed"
THREAD_LOCKED = "thread.locked"
# An admin's status changes: approved (now public: readers add it), hidden (no
# longer public: readers drop it; its author sees it pending), pinned.
COMMENT_APPROVED = "comment.approved"
COMMENT_HIDDEN = "comment.hidden"
THREAD_PINNED = "thread.pinned"
# A remap or a merge moved the thread's comments to another thread (store/moving.py): its readers
# open the page again, which leads there.
THREAD_MOVED = "thread.moved"
# The post's likes, boosts and reposts on Mastodon and Bluesky changed (social/).
THREAD_REMOTE = "thread.remote"


@dataclass(slots=True)
class Event:
    """One entry of a thread's log, with its public wire form rendered once for every reader."""

    seq: int
    type: str
    public: str | None  # the JSON every reader may see, or None if only its author may
    doc: dict[str, Any] | None = None
    likes: int = 0
    count: int | None = None
    frame: bytes | None = None  # the public form as a websocket frame, encoded once (live/wire.py)
    own: str | None = None  # the author's own view, rendered once for all the author's tabs
    own_frame: bytes | None = None
    chunk: bytes | None = None  # the public form as a Server-Sent Event in a chunk of an HTTP body
    own_chunk: bytes | None = None

    @property
    def owner(self) -> str:
        return (self.doc or {}).get("owner", "")

    def for_viewer(self, viewer_key: str, edit_window_ms: int) -> str | None:
        """The message this viewer gets: the public form, the author's own view, or nothing."""
        if self.doc is not None and viewer_key and self.owner == viewer_key and self.doc.get("status") != "deleted":
            if self.own is None:
                self.own = _wire(self, models.owner(self.doc, self.likes, False, edit_window_ms))
            return self.own
        return self.public


def _wire(event: Event, comment: dict[str, Any]) -> str:
    body: dict[str, Any] = {"type": event.type, "seq": event.seq, "comment": comment}
    if event.count is not None:
        body["count"] = event.count
    return orjson.dumps(body).decode()


def seq_of(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


def parse(entry_id: str, fields: dict[str, str]) -> Event:
    seq = seq_of(entry_id)
    kind = fields.get("type", "")
    if kind == REACTION_CHANGED:
        body = {"type": kind, "seq": seq, "target": int(fields.get("target") or 0), "emoji": fields.get("emoji", ""),
                "count": int(fields.get("count", 0))}
        return Event(seq, kind, orjson.dumps(body).decode())
    if kind == LIKE_CHANGED:
        body = {"type": kind, "seq": seq, "target": fields.get("target"), "likes": int(fields.get("likes", 0))}
        return Event(seq, kind, orjson.dumps(body).decode())
    if kind in (COUNT_CHANGED, THREAD_LOCKED):
        body = {"type": kind, "seq": seq}
        if "count" in fields:
            body["count"] = int(fields["count"])
        if "locked" in fields:
            body["locked"] = fields["locked"] == "1"
        return Event(seq, kind, orjson.dumps(body).decode())
    if kind == THREAD_MOVED:
        body = {"type": kind, "seq": seq, "to": fields.get("to", ""), "url": fields.get("url") or None}
        return Event(seq, kind, orjson.dumps(body).decode())
    if kind == THREAD_REMOTE:
        body = {"type": kind, "seq": seq, "remote": models.remote_counts(fields.get("remote"))}
        return Event(seq, kind, orjson.dumps(body).decode())
    if kind == THREAD_PINNED:
        pinned = fields.get("pinned") or ""
        body = {"type": kind, "seq": seq, "pinned": int(pinned) if pinned.isdigit() else None}
        return Event(seq, kind, orjson.dumps(body).decode())
    doc = orjson.loads(fields.get("doc", "{}"))
    count = int(fields["count"]) if fields.get("count") not in (None, "") else None
    event = Event(seq, kind, None, doc, int(fields.get("likes", 0) or 0), count)
    if doc.get("status") in ("approved", "deleted"):
        event.public = _wire(event, models.public(doc, event.likes, False))
    elif kind == COMMENT_HIDDEN:
        # Readers learn only which comment to take away, never why.
        event.public = orjson.dumps({"type": kind, "seq": seq, "id": doc.get("id"), "count": count}).decode()
    return event


def resync() -> str:
    return '{"type":"resync"}'


def ready(head: int) -> str:
    return orjson.dumps({"type": "ready", "head": head}).decode()
