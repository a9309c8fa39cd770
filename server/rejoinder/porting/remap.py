"""Remap a site's threads to new pages when its domain or permalinks change: the rules, the plan
(what would move, merge or collide), and carrying it out through MovingStore.

A rule is a prefix ({"from": "https://old.example/", "to": "https://new.example/"}), one page
({"page": "https://old.example/a", "to": "https://new.example/b"}: Disqus's URL mapper, pair by
pair) or a pattern ({"pattern": "^https://b.example/\\d{4}/\\d{2}/(.+)$", "replace":
"https://b.example/\\1"}, run with a time limit). The first rule that changes a thread's page (its URL or id) applies;
its URL changes with it. A thread moves to the thread of its new page; where that page
already has comments (or another thread moves there too) the plan says so, and the remap
merges them only when asked. Threads already moved are pointers and are left alone, so
running the same remap twice moves nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import regex

from ..errors import ApiError
from ..pages import page_key
from ..store import keys
from ..store.moving import MoveFailed, MovingStore

MAX_RULES = 50
MAX_RULE = 1024
PATTERN_SECONDS = 0.05  # per pattern and thread: a pattern that backtracks for ever is refused


@dataclass(frozen=True)
class Rule:
    pattern: Any  # a compiled regex, or None for a prefix or page rule
    old: str
    new: str
    exact: bool = False  # a page rule: the whole page, not a prefix

    def apply(self, text: str) -> str:
        if self.exact:
            return self.new if text == self.old or _same_page(text, self.old) else text
        if self.pattern is None:
            return self.new + text[len(self.old):] if text.startswith(self.old) else text
        try:
            return self.pattern.sub(self.new, text, count=1, timeout=PATTERN_SECONDS)
        except TimeoutError:
            raise ApiError("invalid_field", "A pattern took too long on a page: make it simpler.",
                           field="rules") from None
        except (regex.error, IndexError) as exc:
            raise ApiError("invalid_field", f"A replacement does not fit its pattern: {exc}.", field="rules") from None


def _text(rule: dict[str, Any], name: str, empty: bool = False) -> str:
    value = rule.get(name)
    if (not isinstance(value, str) or (not value and not empty) or len(value) > MAX_RULE
            or any(ord(c) < 32 for c in value)):
        raise ApiError("invalid_field", f"Each rule's {name} is a line of at most {MAX_RULE} characters.",
                       field="rules")
    return value


def rules(value: Any) -> list[Rule]:
    """The rules of a request, checked: 422 invalid_field naming `rules` otherwise."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RULES:
        raise ApiError("invalid_field", f"rules is a list of 1 to {MAX_RULES} rules.", field="rules")
    out = []
    for rule in value:
        if not isinstance(rule, dict) or set(rule) not in ({"from", "to"}, {"page", "to"}, {"pattern", "replace"}):
            raise ApiError("invalid_field", 'A rule is {"from", "to"} (a prefix), {"page", "to"} (one page) or '
                                            '{"pattern", "replace"}.', field="rules")
        if "page" in rule:
            out.append(Rule(None, _text(rule, "page"), _text(rule, "to"), exact=True))
            continue
        if "from" in rule:
            out.append(Rule(None, _text(rule, "from"), _text(rule, "to", empty=True)))
            continue
        try:
            compiled = regex.compile(_text(rule, "pattern"))
        except regex.error as exc:
            raise ApiError("invalid_field", f"The pattern is not a regular expression: {exc}.",
                           field="rules") from None
        out.append(Rule(compiled, rule["pattern"], _text(rule, "replace", empty=True)))
    return out


def _same_page(a: str, b: str) -> bool:
    """The same page once normalised as the widget does (tracking parameters, default ports...)."""
    try:
        return page_key(a) == page_key(b)
    except ApiError:
        return False


def remapped(rules_: list[Rule], text: str) -> str:
    """`text` by the first rule that changes it (unchanged if none does)."""
    for rule in rules_:
        new = rule.apply(text)
        if new != text:
            return new
    return text


def on_site(url: str, origins: frozenset[str] | set[str] | list[str]) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() in origins


async def plan(redis: Any, site: str, origins: Any, tids: list[str], rules_: list[Rule], merge: bool
               ) -> list[dict[str, Any]]:
    """What the remap would do to each thread it changes: "move" (to a page with no comments),
    "merge" (asked for, into a page that has some), "url" (the page id stays, its URL changes),
    or "collision" / "refused" with a reason."""
    fields = ["page", "url", "title", "count", "moved"]
    async with redis.pipeline(transaction=False) as pipe:
        for tid in tids:
            pipe.hmget(keys.thread_meta(tid), fields)
        metas = [dict(zip(fields, row)) for row in await pipe.execute()]
    changes = []
    for tid, meta in zip(tids, metas):
        if not meta["page"] or meta["moved"]:
            continue
        page, url = meta["page"], meta["url"] or ""
        new_page, new_url = remapped(rules_, page), remapped(rules_, url) if url else ""
        if new_page == page and new_url == url:
            continue
        entry: dict[str, Any] = {"id": tid, "title": meta["title"] or "", "page": page, "url": url or None,
                                 "count": int(meta["count"] or 0)}
        try:
            key = page_key(new_page)
        except ApiError:
            changes.append({**entry, "to_page": new_page, "action": "refused", "reason": "invalid_page"})
            continue
        if "://" in key and not new_url:
            new_url = key
        if new_url and not (new_url.startswith(("http://", "https://")) and on_site(new_url, origins)):
            changes.append({**entry, "to_page": key, "to_url": new_url, "action": "refused",
                            "reason": "url_not_on_site"})
            continue
        changes.append({**entry, "to_page": key, "to_url": new_url or None, "to_id": keys.thread_id(site, key)})
    # The targets as they are now.
    targets = sorted({c["to_id"] for c in changes if "to_id" in c})
    async with redis.pipeline(transaction=False) as pipe:
        for tid in targets:
            pipe.hmget(keys.thread_meta(tid), ["moved", "count"])
            pipe.exists(keys.comments(tid))
        raw = await pipe.execute()
    state = {tid: (raw[2 * i][0], int(raw[2 * i][1] or 0), bool(raw[2 * i + 1])) for i, tid in enumerate(targets)}
    # A move that was cut short (the copy went in, the source is not a pointer yet) goes on.
    pending = [c for c in changes if "to_id" in c and "action" not in c]
    async with redis.pipeline(transaction=False) as pipe:
        for c in pending:
            pipe.hexists(keys.imported(c["to_id"]), f"moved:{c['id']}:post")
        begun = {c["id"] for c, yes in zip(pending, await pipe.execute()) if yes}
    claimed: set[str] = set()
    for c in changes:
        if "action" in c:
            continue
        dst = c["to_id"]
        if dst == c["id"]:
            c["action"] = "url"
            continue
        moved, count, has_comments = state[dst]
        if c["id"] in begun:
            c["action"] = "move"
        elif moved and moved != c["id"]:
            c.update(action="collision", reason="target_moved")
        elif (has_comments and moved != c["id"]) or dst in claimed:
            c.update(action="merge" if merge else "collision",
                     reason="target_has_comments" if dst not in claimed else "same_target",
                     target_count=count)
        else:
            c["action"] = "move"
        claimed.add(dst)
    return changes


async def carry_out(redis: Any, moving: MovingStore, site: str, changes: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Do what the plan says (moves, merges, URL changes); each entry gets its "result"."""
    for c in changes:
        if c["action"] == "url":
            await redis.hset(keys.thread_meta(c["id"]), "url", c["to_url"] or "")
            c["result"] = "done"
        elif c["action"] in ("move", "merge"):
            try:
                moved = await moving.move(site, c["id"], c["to_id"], page=c["to_page"], url=c["to_url"] or "",
                                          title=c["title"])
                c.update(result="done", moved_comments=moved.comments)
            except MoveFailed as exc:
                c.update(result=exc.code)
    return changes
