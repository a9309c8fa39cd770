"""Import a WordPress or Disqus export into a site: read it whole, plan it, then write it thread by thread.

Nothing is written until the whole file has been read and checked: a file that
is not well-formed, not an export, too large or unsafe (an XML bomb) is refused
with ImportFailed and the database is left as it was.

Each thread is then written by one Lua step (comments, indexes, counts, events
and the map of imported ids), so a thread is imported whole or not at all. A
site's threads live in different hash slots of a cluster, so no single step can
write them all: if the process or the database dies half-way, some threads are
in and the rest are not. Running the same import again completes it: the map
(source id -> comment id, in each thread's own slot) makes every comment that
is already in count as "already imported" and only the missing ones are added.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any, Awaitable, Callable

from ..settings import Settings
from ..store.feed import FeedStore
from ..store.porting import PortingStore
from ..store.sites import SiteStore
from . import disqus, plan as planning, wxr
from .source import FORMATS, ImportFailed, Source, detect, parse_xml


def read(data: bytes, fmt: str | None = None) -> Source:
    """Parse and recognise an export; ImportFailed if it is not one we can take."""
    if fmt is not None and fmt not in FORMATS:
        raise ImportFailed("import_invalid", f"Unknown format {fmt!r}: use {' or '.join(FORMATS)}.")
    root = parse_xml(data)
    found = detect(root)
    if fmt is not None and fmt != found:
        raise ImportFailed("import_invalid", f"The file was named a {fmt} export, but it is a {found} export.")
    return wxr.read(root) if found == "wxr" else disqus.read(root)


def _prepare(data: bytes, fmt: str | None, site: str, by: str, settings: Settings
             ) -> tuple[Source, planning.Plan]:
    source = read(data, fmt)
    return source, planning.build(source, site, by=by, secret=settings.secret_key,
                                  max_chars=settings.max_comment_chars, now=int(time.time() * 1000))


# An import holds its site's lock (PortingStore.lock_import) for this long after its last
# progress: one import into a site at a time, and a crashed one blocks the next at most this long.
LOCK_SECONDS = 600

# Told how far an import has got: {"phase": "checking"} while the file is read and planned, then
# {"phase": "writing", "threads_done", "threads_total", "comments_done", "comments_total",
# "writing_ms"} before the first thread and after each one.
Progress = Callable[[dict[str, Any]], Awaitable[None]]


async def run(data: bytes, *, site: str, settings: Settings, sites: SiteStore, porting: PortingStore,
              feed: FeedStore, fmt: str | None = None, by: str = "url",
              progress: Progress | None = None) -> dict[str, Any]:
    """Import `data` into `site` and return the report. ImportFailed before any write."""
    if len(data) > settings.import_max_bytes:
        raise ImportFailed("import_too_large", f"The file is {len(data):,} bytes; the most Rejoinder imports is "
                                               f"{settings.import_max_bytes:,} (REJOINDER_IMPORT_MAX_BYTES).")
    if by not in ("url", "id"):
        raise ImportFailed("import_invalid", "Threads are keyed by url or by id.")
    if await sites.get(site) is None:
        raise ImportFailed("site_not_found", f"There is no site {site!r}: add it with `rejoinder site add` first.")
    # Reading and planning a large file takes seconds of CPU: off the event loop, so a
    # server that imports from the dashboard keeps answering its readers meanwhile.
    if progress:
        await progress({"phase": "checking", "bytes": len(data)})
    source, plan = await asyncio.to_thread(_prepare, data, fmt, site, by, settings)
    comments_total = sum(len(tp.items) for tp in plan.threads)
    comments_done = 0
    writing = time.monotonic()

    async def tell(threads_done: int) -> None:
        if progress:
            await progress({"phase": "writing", "threads_done": threads_done, "threads_total": len(plan.threads),
                            "comments_done": comments_done, "comments_total": comments_total,
                            "writing_ms": int((time.monotonic() - writing) * 1000)})

    statuses: collections.Counter[str] = collections.Counter()
    notes = list(plan.notes)
    written = []
    already = created = 0
    await tell(0)
    for done, tp in enumerate(plan.threads, 1):
        thread = {"site": site, "page": tp.page, "url": tp.url, "title": tp.title, "created": tp.created,
                  "locked": "1" if tp.locked else "0", "likes": tp.likes, "likes_key": tp.likes_key}
        result = await porting.import_thread(tp.tid, thread, [(i.key, i.parent, i.doc, i.likes) for i in tp.items])
        if result.added:
            # After the thread's own step: the feed only says where to look (see store/feed.py).
            await feed.announce(site, result.tid, "comment.created")
        skipped_now = set(result.already)
        for item in tp.items:
            if item.key not in skipped_now:
                statuses[item.doc["status"]] += 1
        for key in result.hidden_parent:
            notes.append({"id": key, "thread": tp.url or tp.page, "reason": "parent_hidden",
                          "message": planning.NOTES["parent_hidden"]})
        already += len(result.already)
        created += result.created_thread
        written.append({"id": result.tid, "page": tp.page, "url": tp.url or None, "title": tp.title,
                        "imported": result.added, "already_imported": len(result.already), "count": result.count})
        comments_done += len(tp.items)
        await tell(done)
    return {
        "site": site,
        "format": source.format,
        "threads_by": by,
        "threads": {"in_file": plan.threads_in_file, "with_comments": len(plan.threads), "created": created,
                    "changed": sum(1 for w in written if w["imported"])},
        "comments": {"in_file": plan.comments_in_file, "imported": sum(statuses.values()),
                     "already_imported": already, "skipped": len(plan.skipped),
                     "imported_by_status": dict(sorted(statuses.items()))},
        "written": written,
        "skipped": plan.skipped,
        "notes": notes,
    }


def publisher(porting: PortingStore, site: str, token: str, seconds: int, every: float = 0.25,
              also: Progress | None = None) -> Progress:
    """A Progress that publishes to the site's import lock (so the dashboard can show it) and
    keeps the lock for `seconds` more each time: at each change of phase and at the end, and
    in between at most every `every` seconds. `also` is told every step."""
    last = {"phase": "", "at": 0.0}

    async def publish(p: dict[str, Any]) -> None:
        now = time.monotonic()
        end = p["phase"] == "writing" and p["threads_done"] == p["threads_total"]
        if p["phase"] != last["phase"] or end or now - last["at"] >= every:
            last.update(phase=p["phase"], at=now)
            # Lost only if it lapsed with no progress for `seconds`: the import goes on (running
            # it again completes it whatever happens), the dashboard just no longer sees it.
            await porting.import_progress(site, token, p, seconds)
        if also:
            await also(p)
    return publish


def summary(report: dict[str, Any]) -> str:
    """The report in a few lines for a person."""
    c, t = report["comments"], report["threads"]
    lines = [f"Imported {c['imported']} comments into {t['changed']} threads of site {report['site']} "
             f"({t['created']} new threads) from a {report['format']} export of {c['in_file']} comments "
             f"in {t['in_file']} threads."]
    if c["imported_by_status"]:
        lines.append("By status: " + ", ".join(f"{n} {s}" for s, n in c["imported_by_status"].items()) + ".")
    if c["already_imported"]:
        lines.append(f"{c['already_imported']} were imported by an earlier run and left as they are.")
    for title, entries in (("Skipped", report["skipped"]), ("Imported with a change", report["notes"])):
        if entries:
            by_reason = collections.Counter(e["reason"] for e in entries)
            lines.append(f"{title}: {len(entries)}")
            for reason, n in by_reason.most_common():
                message = next(e["message"] for e in entries if e["reason"] == reason)
                lines.append(f"  {n} {message} ({reason})")
    return "\n".join(lines)
