"""A read file turned into what to write, thread by thread, and what to skip and why: no I/O.

Everything a file can get wrong is decided here, before the first write: which
comments are kept, their sanitised bodies, their statuses, which kept comment
each reply hangs under, and the order (parents first, then by date).
"""

from __future__ import annotations

import heapq
import html as htmllib
import re
from dataclasses import dataclass, field
from typing import Any

import nh3

from .. import models
from ..auth.identity import keyed_hash
from ..errors import ApiError
from ..pages import page_key
from ..render import sanitise
from ..store import keys
from .source import Source, SourceComment, SourceThread

REASONS = {
    "missing_id": "has no id, so a second run could not recognise it",
    "duplicate_id": "has the same id as an earlier comment in the file",
    "not_a_comment": "is a pingback, trackback or other entry that is not a comment",
    "unknown_thread": "belongs to a thread that is not in the file",
    "post_in_trash": "belongs to a post that is in WordPress's trash",
    "thread_deleted": "belongs to a thread deleted in Disqus",
    "thread_without_page": "belongs to a thread without an http(s) link to key it by",
    "invalid_date": "has no valid date",
    "empty": "has no text",
    "too_long": "is longer than REJOINDER_MAX_COMMENT_CHARS",
    "deleted": "was deleted in the old system and has no replies that need it in place",
}
NOTES = {
    "unknown_parent": "answers a comment that is not in this thread of the file: shown at top level",
    "parent_cycle": "its chain of parents loops back to itself: shown at top level",
    "parent_skipped": "answers a comment that is not imported: attached to its nearest imported ancestor",
    "parent_hidden": "answers a comment that is pending or spam: attached to its nearest shown ancestor",
    "email_dropped": "its author email is not a valid address: not kept",
    "website_dropped": "its author website is not an http(s) address: not kept",
}


@dataclass
class Item:
    key: str  # "<format>:<id in the file>": how a second run recognises it
    parent: str  # the key of the kept comment it hangs under, or ""
    doc: dict[str, Any]
    likes: int


@dataclass
class ThreadPlan:
    tid: str
    page: str
    url: str
    title: str
    created: int
    locked: bool
    likes: int
    likes_key: str  # remembers the post's likes were added, so a re-run does not add them again
    items: list[Item] = field(default_factory=list)


@dataclass
class Plan:
    site: str
    format: str
    threads_in_file: int
    comments_in_file: int
    threads: list[ThreadPlan] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)


def plain_text(html: str) -> str:
    """The text of sanitised HTML, with paragraphs and line breaks kept as newlines."""
    text = re.sub(r"<br\s*/?>", "\n", html, flags=re.I)
    text = re.sub(r"</(p|li|blockquote|pre|h[1-6])>", "\n\n", text, flags=re.I)
    text = htmllib.unescape(nh3.clean(text, tags=set()))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _line(value: str, max_len: int) -> str:
    """A title or name from the file as one line of text. Exports often carry HTML
    entities in them ("Tom &amp; Jerry"); they are text here, shown as text."""
    return models.clean_line(htmllib.unescape(value), "name", max_len=1 << 30)[:max_len]


def _page_of(thread: SourceThread, by: str) -> tuple[str, str]:
    """(page key, url) of a thread, or ("", "") if it has nothing to key it by."""
    link = thread.link if re.match(r"^https?://", thread.link, re.I) else ""
    try:
        url = page_key(link) if link else ""  # normalised: no tracking parameters
    except ApiError:
        url = ""
    for candidate in (thread.page, thread.ident if by == "id" else "", url):
        if candidate:
            try:
                return page_key(candidate), url
            except ApiError:
                continue
    return "", ""


def build(source: Source, site: str, *, by: str, secret: str, max_chars: int, now: int) -> Plan:
    """`by`: "url" keys threads by their link (as the widget does by default), "id" by
    the old system's page id (WordPress post id, Disqus identifier), for sites that
    embed with data-page."""
    plan = Plan(site, source.format, len(source.threads), len(source.comments))
    threads = {t.key: t for t in source.threads}
    groups: dict[str, list[SourceComment]] = {}
    plans: dict[str, ThreadPlan] = {}
    reason: dict[int, str] = {}
    where: dict[int, str] = {}

    pages = {t.key: _page_of(t, by) for t in source.threads if not t.skip}
    for c in source.comments:
        thread = threads.get(c.thread)
        where[id(c)] = (thread.link or thread.key) if thread else c.thread
        if thread is None or thread.skip or not pages[thread.key][0]:
            reason[id(c)] = c.skip or (thread.skip if thread else "unknown_thread") or "thread_without_page"
            continue
        page, url = pages[thread.key]
        tid = keys.thread_id(site, page)
        if tid not in plans:
            plans[tid] = ThreadPlan(tid, page, url[:1024], _line(thread.title, 300), thread.created or now,
                                    thread.closed, thread.likes, f"likes:{source.format}:{thread.key}")
        # Skipped comments join their thread's group too: replies under them find their way up.
        groups.setdefault(tid, []).append(c)
        if c.skip:
            reason[id(c)] = c.skip
        elif c.created is None and c.status != "deleted":
            reason[id(c)] = "invalid_date"

    for tid, comments in groups.items():
        _plan_thread(plan, plans[tid], comments, reason, where, source.format, site, secret, max_chars)
    plan.threads = [p for p in plans.values() if p.items]
    for c in source.comments:
        if id(c) in reason:
            plan.skipped.append(_entry(source.format, c, where[id(c)], reason[id(c)], REASONS))
    return plan


def _entry(fmt: str, c: SourceComment, thread: str, code: str, texts: dict[str, str]) -> dict[str, str]:
    return {"id": f"{fmt}:{c.key}" if c.key else f"{fmt}:?", "thread": thread, "reason": code,
            "message": texts[code]}


def _plan_thread(plan: Plan, tp: ThreadPlan, comments: list[SourceComment], reason: dict[int, str],
                 where: dict[int, str], fmt: str, site: str, secret: str, max_chars: int) -> None:
    by_key: dict[str, SourceComment] = {}
    for c in comments:
        if c.key and c.key not in by_key and reason.get(id(c)) not in ("duplicate_id", "missing_id"):
            by_key[c.key] = c
    bodies: dict[int, tuple[str, str]] = {}
    for c in comments:
        if id(c) in reason or c.status == "deleted":
            continue
        html = sanitise(c.html)
        text = plain_text(html)
        if not text:
            reason[id(c)] = "empty"
        elif len(text) > max_chars:
            reason[id(c)] = "too_long"
        else:
            bodies[id(c)] = (html, text)

    def kept(c: SourceComment) -> bool:
        return id(c) not in reason

    # Every walk up the parents below is linear in the number of comments overall
    # (memos and "already walked" marks), so a file with one very long chain of
    # replies, or a loop of parents, cannot make planning quadratic or endless.
    in_cycle = _cycles(by_key)

    # A comment deleted in the old system stays as a placeholder only where an
    # approved reply hangs under it, so the conversation keeps its shape.
    needed: dict[int, int] = {}
    walked: set[int] = set()
    for c in comments:
        if kept(c) and c.status == "approved":
            cur = c
            while cur.parent and (up := by_key.get(cur.parent)) is not None and id(up) not in walked:
                walked.add(id(up))
                if up.status == "deleted" and kept(up):
                    needed[id(up)] = c.created or 0
                cur = up
    for c in comments:
        if kept(c) and c.status == "deleted" and id(c) not in needed:
            reason[id(c)] = "deleted"

    above: dict[str, tuple[SourceComment | None, str]] = {}

    def nearest_kept_ancestor(c: SourceComment) -> tuple[SourceComment | None, str]:
        """c's nearest kept ancestor, or None and why the walk found none."""
        path, seen, cur = [], {c.key}, c
        result: tuple[SourceComment | None, str] = (None, "")
        while cur.parent:
            up = by_key.get(cur.parent)
            if up is None:
                result = (None, "unknown_parent")
                break
            if up.key in seen:  # a loop of skipped comments above: nothing to hang under
                return None, ""
            if kept(up):
                result = (up, "")
                break
            if up.key in above:
                result = above[up.key]
                break
            seen.add(up.key)
            path.append(up)
            cur = up
        for skipped in path:  # they are skipped: their nearest kept ancestor is c's
            above[skipped.key] = result
        return result

    items: list[tuple[int, int, Item]] = []
    for index, c in enumerate(comments):
        if not kept(c):
            continue
        parent, stop = (None, "parent_cycle") if c.key in in_cycle else nearest_kept_ancestor(c)
        if c.parent and (parent is None or parent.key != c.parent):
            code = stop if parent is None and stop else "parent_skipped"
            plan.notes.append(_entry(fmt, c, where[id(c)], code, NOTES))
        created = c.created if c.created is not None else needed.get(id(c), tp.created)
        doc = _doc(plan, c, bodies.get(id(c)), created, fmt, site, secret, where[id(c)])
        item = Item(f"{fmt}:{c.key}", f"{fmt}:{parent.key}" if parent else "", doc, c.likes)
        items.append((created, index, item))
    tp.items = _parents_first(items)


def _doc(plan: Plan, c: SourceComment, body: tuple[str, str] | None, created: int, fmt: str, site: str,
         secret: str, thread: str) -> dict[str, Any]:
    base: dict[str, Any] = {"created": created, "status": c.status, "spam_reasons": "", "owner": "",
                            "edit_hash": "", "site": site, "source": f"{fmt}:{c.key}"}
    if c.status == "deleted" or body is None:
        # A placeholder keeps nothing of its author.
        return {**base, "status": "deleted", "deleted": created, "html": "", "text": "", "email": "", "ip": "",
                "author": {"kind": "guest", "name": "", "website": "", "avatar": ""}}
    name = _line(c.name, 80) or "Anonymous"
    try:
        email = models.clean_email(c.email)
    except ApiError:
        email = ""
        plan.notes.append(_entry(fmt, c, thread, "email_dropped", NOTES))
    try:
        website = models.clean_website(c.website)
    except ApiError:
        website = ""
        plan.notes.append(_entry(fmt, c, thread, "website_dropped", NOTES))
    avatar = f"/api/avatars/{keyed_hash(secret, 'avatar:' + (email or name).lower(), 20)}.svg"
    return {**base, "author": {"kind": "guest", "name": name, "website": website, "avatar": avatar},
            "email": email, "html": body[0], "text": body[1],
            "ip": keyed_hash(secret, "ip:" + c.ip) if c.ip else ""}


def _cycles(by_key: dict[str, SourceComment]) -> set[str]:
    """Keys of comments whose chain of parents loops back to themselves (a corrupt file)."""
    state: dict[str, int] = {}  # 1: on the walk being made, 2: done
    found: set[str] = set()
    for start in by_key.values():
        path: list[SourceComment] = []
        cur: SourceComment | None = start
        while cur is not None and cur.key not in state:
            state[cur.key] = 1
            path.append(cur)
            cur = by_key.get(cur.parent) if cur.parent else None
        if cur is not None and state[cur.key] == 1:
            found.update(c.key for c in path[[c.key for c in path].index(cur.key):])
        for c in path:
            state[c.key] = 2
    return found


def _parents_first(items: list[tuple[int, int, Item]]) -> list[Item]:
    """Oldest first, except that a parent always comes before its replies (a reply
    dated before its parent, from a clock that was off, waits for it)."""
    waiting: dict[str, list[tuple[int, int, Item]]] = {}
    ready: list[tuple[int, int, Item]] = []
    keys_kept = {item.key for _, _, item in items}
    for entry in items:
        parent = entry[2].parent
        if parent and parent in keys_kept:
            waiting.setdefault(parent, []).append(entry)
        else:
            ready.append(entry)
    heapq.heapify(ready)
    out: list[Item] = []
    while ready:
        _, _, item = heapq.heappop(ready)
        out.append(item)
        for child in waiting.pop(item.key, ()):
            heapq.heappush(ready, child)
    # Parents never loop (cycles were cut above); should one, its comments still go in, at top level.
    for _, _, item in sorted(entry for entries in waiting.values() for entry in entries):
        item.parent = ""
        out.append(item)
    return out
