"""Atom feeds of published comments, a thread's and a site's, built with feedgen; and the "recent
comments" page a blog embeds in its sidebar.

A feed carries what anyone may see: published comments, their sanitised HTML, the author's name
and website; never an address, a hash, or a held or spam comment. Each answer has an ETag and a
Last-Modified, and a reader that sends them back gets 304 until a comment is published, edited or
taken down.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .. import models
from ..errors import ApiError
from ..state import state
from ..store import keys
from ..store.sites import Site

ENTRIES = 50  # comments per feed
SCAN = 200  # newest comments read to find ENTRIES published ones
MAX_AGE = 300  # seconds a feed reader or a proxy may keep an answer without asking again
ATOM = "application/atom+xml; charset=utf-8"


async def _site(request: Request, site_id: str) -> Site:
    site = await state(request).sites.get(site_id) if keys.SITE_ID.match(site_id) else None
    if site is None:
        raise ApiError("site_not_found")
    return site


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def _changed(doc: dict[str, Any]) -> int:
    return int(doc.get("edited") or doc.get("created") or 0)


def _cached(request: Request, docs: list[dict[str, Any]], extra: str) -> tuple[dict[str, str], bool]:
    """The answer's validators, and whether the reader's copy is still good (a 304)."""
    newest = max((_changed(d) for d in docs), default=0)
    tag = hashlib.sha256(orjson.dumps([extra, [(d["site_tid"], d["id"], _changed(d)) for d in docs]])).hexdigest()[:32]
    headers = {"etag": f'W/"{tag}"', "cache-control": f"public, max-age={MAX_AGE}", "vary": "Accept-Encoding"}
    if newest:
        headers["last-modified"] = format_datetime(_when(newest).replace(microsecond=0), usegmt=True)
    sent = request.headers.get("if-none-match")
    if sent is not None:
        return headers, headers["etag"] in [t.strip() for t in sent.split(",")] or sent.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and newest:
        try:
            return headers, _when(newest).replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return headers, False
    return headers, False


def _feed(request: Request, site: Site, *, title: str, self_url: str, page_url: str | None,
          docs: list[dict[str, Any]], metas: dict[str, dict[str, str]]) -> bytes:
    public = state(request).settings.public_url
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(models.xml_safe(title))
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    if page_url:
        fg.link(href=page_url, rel="alternate", type="text/html")
    fg.generator("Rejoinder")
    fg.updated(_when(max((_changed(d) for d in docs), default=int(site.created or 0) or 1)))
    for doc in docs:
        meta = {k: models.xml_safe(v) if v else v for k, v in metas[doc["site_tid"]].items()}
        name = models.xml_safe((doc.get("author") or {}).get("name")) or "Anonymous"
        entry = fg.add_entry(order="append")
        entry.id(f"{public}/api/threads/{doc['site_tid']}/comments/{doc['id']}")
        post = meta.get("title") or meta.get("page") or ""
        entry.title(f"{name} on “{post}”" if post else name)
        author: dict[str, str] = {"name": name}
        website = models.xml_safe((doc.get("author") or {}).get("website"))
        if website:
            author["uri"] = website
        entry.author(author)
        if meta.get("url"):
            entry.link(href=f"{meta['url']}#rj-c{doc['id']}", rel="alternate", type="text/html")
        # Already sanitised when it was written (render.py): the only HTML a comment has.
        entry.content(models.xml_safe(doc.get("html")), type="html")
        entry.published(_when(int(doc["created"])))
        entry.updated(_when(_changed(doc)))
    return fg.atom_str(pretty=False)


async def _newest(request: Request, tid: str, cids: int) -> list[dict[str, Any]]:
    """The newest published comments of a thread (ids are given in order, so the last ids are the newest)."""
    wanted = [str(c) for c in range(cids, max(0, cids - SCAN), -1)]
    raws = await state(request).redis.hmget(keys.comments(tid), wanted) if wanted else []
    docs = [orjson.loads(r) for r in raws if r]
    out = [{**d, "site_tid": tid} for d in docs if d.get("status") == "approved"]
    return out[:ENTRIES]


async def thread_feed(request: Request) -> Response:
    """GET /api/feeds/threads/{tid}.atom: the thread's newest published comments, newest first (Atom).

    Errors: thread_not_found 404.
    """
    tid = request.path_params["tid"]
    st = state(request)
    if not keys.THREAD_ID.match(tid):
        raise ApiError("thread_not_found")
    tid = await st.moving.resolve(tid)
    meta = await st.comments.meta(tid)
    site = await st.sites.get(meta.get("site", "")) if meta.get("site") else None
    if site is None:
        raise ApiError("thread_not_found")
    docs = await _newest(request, tid, int(meta.get("cids") or 0))
    headers, fresh = _cached(request, docs, f"t:{tid}:{meta.get('title', '')}")
    if fresh:
        return Response(status_code=304, headers=headers)
    self_url = f"{st.settings.public_url}/api/feeds/threads/{tid}.atom"
    body = _feed(request, site, title=f"Comments on “{meta.get('title') or meta.get('page', '')}”",
                 self_url=self_url, page_url=meta.get("url") or None, docs=docs, metas={tid: meta})
    return Response(body, media_type=ATOM, headers=headers)


async def _recent(request: Request, site: Site, limit: int) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The site's newest published comments, from the dashboard's "recent" list (no scan)."""
    st = state(request)
    pointers = await st.redis.zrevrange(keys.mod_list(site.id, "recent"), 0, SCAN - 1)
    wanted = []
    for p in pointers:
        tid, _, cid = p.partition(":")
        if keys.THREAD_ID.match(tid) and cid.isdigit():
            wanted.append((tid, int(cid)))
    found = await st.moderation.docs(wanted)
    docs = [{**found[w], "site_tid": w[0]} for w in wanted if w in found and found[w].get("status") == "approved"]
    docs = docs[:limit]
    tids = sorted({d["site_tid"] for d in docs})
    metas: dict[str, dict[str, str]] = {}
    if tids:
        async with st.redis.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.hmget(keys.thread_meta(tid), ["title", "page", "url", "site"])
            for tid, row in zip(tids, await pipe.execute()):
                metas[tid] = dict(zip(("title", "page", "url", "site"), row))
    docs = [d for d in docs if metas[d["site_tid"]].get("site") == site.id]
    return docs, metas


async def site_feed(request: Request) -> Response:
    """GET /api/feeds/sites/{site}.atom: the site's newest published comments on any thread (Atom).

    Errors: site_not_found 404.
    """
    site = await _site(request, request.path_params["site"])
    docs, metas = await _recent(request, site, ENTRIES)
    headers, fresh = _cached(request, docs, f"s:{site.id}:{site.name}")
    if fresh:
        return Response(status_code=304, headers=headers)
    st = state(request)
    body = _feed(request, site, title=f"Comments on {site.name}",
                 self_url=f"{st.settings.public_url}/api/feeds/sites/{site.id}.atom", page_url=None,
                 docs=docs, metas=metas)
    return Response(body, media_type=ATOM, headers=headers)


RECENT_CSS = """body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
background:transparent}ol{list-style:none;margin:0;padding:0}li{padding:.4rem 0;border-bottom:1px solid #d0d7de}
a{color:#0b57d0}.who{font-weight:600}.on{color:#545d68}.text{margin:.15rem 0 0;overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){body{color:#e6e9ee}a{color:#8ab4f8}.on{color:#a9b1bb}li{border-color:#39414b}}"""
# The page's only style is this inline one, allowed by its hash: no other style or any script can run.
RECENT_CSS_HASH = base64.b64encode(hashlib.sha256(RECENT_CSS.encode()).digest()).decode()


async def recent_page(request: Request) -> Response:
    """GET /recent/{site}?count=5: the site's newest published comments as a small page for a blog's
    sidebar (framed by the site's own pages only). A plain-text excerpt of each, its author and post."""
    st = state(request)
    site_id = request.path_params["site"]
    site = await st.sites.get(site_id) if keys.SITE_ID.match(site_id) else None
    if site is None:
        return HTMLResponse("<!doctype html><title>Unknown site</title><p>This site is not registered.</p>",
                            status_code=404)
    raw = request.query_params.get("count", "5")
    count = min(int(raw), 20) if raw.isdigit() and int(raw) > 0 else 5
    docs, metas = await _recent(request, site, count)
    items = []
    for d in docs:
        meta = metas[d["site_tid"]]
        text = " ".join((d.get("text") or "").split())
        excerpt = text if len(text) <= 140 else text[:139].rstrip() + "…"
        name = html.escape((d.get("author") or {}).get("name") or "Anonymous")
        post = html.escape(meta.get("title") or meta.get("page") or "")
        url = meta.get("url") or ""
        target = (f'<a href="{html.escape(url)}#rj-c{d["id"]}" target="_top">{post}</a>'
                  if url.startswith(("http://", "https://")) else post)
        stamp = models.iso(d.get("created")) or ""
        items.append(f'<li><span class="who">{name}</span> <span class="on">on</span> {target} '
                     f'<time class="on" datetime="{stamp}">{stamp[:10]}</time>'
                     f'<p class="text">{html.escape(excerpt)}</p></li>')
    ancestors = " ".join(site.origins) or "'none'"
    body = (f'<!doctype html><html lang="{html.escape(site.language or "en")}"><meta charset="utf-8">'
            f"<title>Recent comments · {html.escape(site.name)}</title><style>{RECENT_CSS}</style>"
            f'<ol>{"".join(items)}</ol>' + ("" if items else "<p>No comments yet.</p>"))
    return HTMLResponse(body, headers={
        "content-security-policy": (f"default-src 'none'; style-src 'sha256-{RECENT_CSS_HASH}'; "
                                    f"base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"),
        "cache-control": "public, max-age=60"})


routes = [
    Route("/api/feeds/threads/{tid}.atom", thread_feed, methods=["GET"], name="feeds:thread"),
    Route("/api/feeds/sites/{site}.atom", site_feed, methods=["GET"], name="feeds:site"),
]
page_routes = [Route("/recent/{site}", recent_page, methods=["GET"], name="feeds:recent")]
