"""Thread reads: a thread by page, its pages of comments, replies, and comment counts."""

from __future__ import annotations

import time
from urllib.parse import urlsplit
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .. import models
from ..auth import identity
from ..errors import ApiError
from ..models import Identity
from ..pages import page_key
from ..state import state
from ..store import keys
from ..store.comments import Page
from ..social import refs
from ..store.sites import Site
from .sites import public_site
from .common import (JSON, comment_id, decode_cursor, encode_cursor, int_param, order_param, read_json,
                     site_for, thread_site)

MAX_COUNT_PAGES = 100


def me(viewer: Identity) -> dict[str, Any]:
    """The viewer as they see themselves: the email address (if the provider gave one) goes to its owner only,
    and tells the widget whether "Notify me" can be offered."""
    if viewer.kind == "user":
        # A session the blog page keeps (see store/sessions.py) is one the page's scripts can read:
        # it never shows the address, only that there is one ("Notify me" can still be offered).
        shown = viewer.email if viewer.kept != "page" else ""
        return {"kind": "user", "name": viewer.name, "avatar": viewer.avatar or None,
                "provider": viewer.provider, "profile": viewer.profile or None, "email": shown or None,
                "has_email": bool(viewer.email), "kept": viewer.kept or "frame"}
    return {"kind": "guest"}


def _on_site(url: str, site: Site) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() in site.origins


def page_body(request: Request, tid: str, page: Page, viewer: Identity, order: str) -> dict[str, Any]:
    edit_ms = state(request).settings.edit_window_seconds * 1000
    by_id = {doc["id"]: doc for doc in page.docs}
    out: list[dict[str, Any]] = []
    replies: dict[str, dict[str, Any]] = {}
    hidden: set[int] = set()
    # page.docs is each root followed by its inline descendants, in that order.
    for doc in page.docs:
        if not models.visible_to(doc, viewer) or doc.get("parent") in hidden:
            # A reply under a comment the viewer may not see is not shown either.
            hidden.add(doc["id"])
            continue
        cid = doc["id"]
        out.append(models.view(doc, viewer, page.likes.get(cid, 0), str(cid) in page.liked, edit_ms))
    for root, shown, left in page.groups:
        if left and root in by_id and root not in hidden:
            last = max([d["id"] for d in page.docs if d.get("root") == root and d["id"] != root] or [0])
            replies[str(root)] = {"left": left, "cursor": f"o{last}"}
    last_root = page.groups[-1][0] if page.groups else None
    return {
        "thread": {**models.thread_view(page.meta, tid), "liked": "post" in page.liked},
        "comments": out,
        "replies": replies,
        "next": _next(request, page, order, last_root) if page.more and last_root is not None else None,
        "me": me(viewer),
    }


def _next(request: Request, page: Page, order: str, last_root: int) -> str:
    if order != "best":
        return encode_cursor(order, last_root)
    # Best: the roots seen so far (the pinned comment leads the first page and is counted in none).
    seen = decode_cursor(request.query_params.get("cursor"), order) or 0
    pinned = page.meta.get("pinned") or ""
    shown = sum(1 for root, _, _ in page.groups if str(root) != pinned or seen)
    return encode_cursor(order, seen + shown)


async def _page(request: Request, site: Site, tid: str, create: dict[str, str] | None,
                viewer: Identity | None = None) -> tuple[Page | None, Identity, str]:
    st = state(request)
    viewer = viewer or await identity.current(request, site.id)
    order = order_param(request)
    cursor = decode_cursor(request.query_params.get("cursor"), order)
    limit = int_param(request, "limit", st.settings.page_size, 1, st.settings.max_page_size)
    page = await st.comments.open_thread(
        tid, order=order, cursor=cursor, limit=limit, inline=st.settings.inline_replies,
        liker=viewer.key, create=create)
    return page, viewer, order


async def _followed(request: Request, site: Site, tid: str, viewer: Identity | None
                    ) -> tuple[str, Page | None, Identity, str]:
    """The thread a remap or a merge moved `tid`'s comments to (store/moving.py), and its page."""
    tid = await state(request).moving.resolve(tid)
    page, viewer, order = await _page(request, site, tid, None, viewer)
    return tid, page, viewer, order


async def open_thread(request: Request) -> JSON:
    """GET /api/threads?site=&page=[&title=&url=]: the thread of a page, first page of comments.

    Creates the thread's record the first time a page is seen (provisional until a first write, and
    counted against the caller's limit), so the widget needs one request. Errors: site_not_found,
    origin_not_allowed, invalid_field, invalid_cursor, invalid_session, rate_limited.
    """
    site = await site_for(request, request.query_params.get("site"))
    return JSON(await open_thread_body(request, site))


async def open_thread_body(request: Request, site: Site, viewer: Identity | None = None) -> dict[str, Any]:
    """The answer of GET /api/threads for the request's query (page, title, url) on
    `site` (already origin-checked), as `viewer` sees it (default: the caller).
    Also used by /frame, which embeds the public view (frame.py)."""
    q = request.query_params
    key = page_key(q.get("page") or q.get("url") or "")
    title = models.clean_line(q.get("title"), "title", max_len=300)
    url = q.get("url") or ""
    if url:
        try:
            models.clean_http_url(url, "url", max_len=1024)
        except ApiError:
            raise ApiError("invalid_field", "url must be an http(s) URL.", field="url") from None
    url = url or (key if "://" in key else "")
    if url and not _on_site(url, site):
        # Mail, webhooks and exports link to it: a URL off the site's own origins (a phishing page the
        # first visitor named) is not kept.
        url = ""
    tid = keys.thread_id(site.id, key)
    page, viewer, order = await _page(request, site, tid, None, viewer)
    if page is not None and page.meta.get("moved"):
        tid, page, viewer, order = await _followed(request, site, tid, viewer)
    if page is None:
        # A page nobody opened before. Its record is provisional (it expires unless a comment or a like
        # makes it permanent) and making one counts against the caller's limit: opening pages at random
        # cannot fill the database.
        await state(request).limiter.hit(site.id, [("thread:ip", identity.ip_hash(request),
                                                    state(request).settings.rate_ip_threads)])
        create = {"site": site.id, "page": key, "url": url[:1024], "title": title,
                  "now": str(int(time.time() * 1000))}
        page, viewer, order = await _page(request, site, tid, create, viewer)
    elif (title and title != page.meta.get("title") and page.meta.get("page") == key
          and await state(request).comments.retitle(tid, title)):
        # The post was renamed: its own page may say so, once a day (a stranger's request could
        # claim any title, and the title goes into mail and exports).
        page.meta["title"] = title
    assert page is not None
    await _link_remote(request, site, tid, page.meta)
    # The widget's first request also brings the site's public settings: one round trip less.
    return {**page_body(request, tid, page, viewer, order), "site": public_site(request, site)}


async def _link_remote(request: Request, site: Site, tid: str, meta: dict[str, str]) -> None:
    """The page names its post on Mastodon (?mastodon=<status URL>) or Bluesky (?bluesky=<at:// URI or
    post URL>): the worker follows it and brings its replies into the thread (social/). Only on a site
    that named its own accounts, and only a post by one of them (checked at the first look): a hostile
    page cannot fill a thread with a stranger's conversation. An admin's link is never changed by a page."""
    q = request.query_params
    for source, parse in (("mastodon", refs.mastodon_status), ("bluesky", refs.bluesky_post)):
        value = q.get(source)
        if not value:
            continue
        if parse(value) is None:
            raise ApiError("invalid_field", f"{source} must name a post on {source.capitalize()}.", field=source)
        if not site.remote_authors or meta.get(source) == value or meta.get(source + "_by") == "admin":
            continue
        await state(request).remote.link(site.id, tid, source, value, by_admin=False)


async def get_thread(request: Request) -> JSON:
    """GET /api/threads/{tid}: the thread and its first page (or the page at ?cursor=).

    Errors: thread_not_found, origin_not_allowed, invalid_field, invalid_cursor, invalid_session.
    """
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    page, viewer, order = await _page(request, site, tid, None)
    if page is not None and page.meta.get("moved"):
        tid, page, viewer, order = await _followed(request, site, tid, viewer)
    if page is None:
        raise ApiError("thread_not_found")
    return JSON(page_body(request, tid, page, viewer, order))


async def list_replies(request: Request) -> JSON:
    """GET /api/threads/{tid}/comments/{cid}/replies?cursor=: more replies under a top-level comment.

    Errors: thread_not_found, comment_not_found, origin_not_allowed, invalid_cursor, invalid_field (limit),
    invalid_session.
    """
    st = state(request)
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    root = comment_id(request)
    viewer = await identity.current(request, site.id)
    after = decode_cursor(request.query_params.get("cursor"), "oldest")
    limit = int_param(request, "limit", st.settings.inline_replies, 1, st.settings.max_page_size)
    docs, likes, liked, more = await st.comments.replies(tid, root, after, limit, viewer.key)
    edit_ms = st.settings.edit_window_seconds * 1000
    out = [models.view(d, viewer, likes.get(d["id"], 0), str(d["id"]) in liked, edit_ms)
           for d in docs if models.visible_to(d, viewer)]
    return JSON({"comments": out, "next": encode_cursor("oldest", docs[-1]["id"]) if more else None})


async def count_comments(request: Request) -> JSON:
    """GET /api/counts?site=&page=...  or POST /api/counts {"site", "pages": [...]}: counts of up to 100 pages.

    Answers {"counts": {page: n}} keyed by the page as given. Errors:
    site_not_found, origin_not_allowed, invalid_field, malformed_json.
    """
    if request.method == "POST":
        body = await read_json(request)
        site_id, pages = body.get("site"), body.get("pages")
    else:
        site_id, pages = request.query_params.get("site"), request.query_params.getlist("page")
    site = await site_for(request, site_id)
    if not isinstance(pages, list) or not all(isinstance(p, str) for p in pages):
        raise ApiError("invalid_field", "pages must be a list of page ids or URLs.", field="pages")
    if len(pages) > MAX_COUNT_PAGES:
        raise ApiError("invalid_field", f"At most {MAX_COUNT_PAGES} pages per request.", field="pages")
    tids = [keys.thread_id(site.id, page_key(p)) for p in pages]
    counts = await state(request).comments.counts(tids) if tids else []
    return JSON({"counts": dict(zip(pages, counts))})


routes = [
    Route("/api/threads", open_thread, methods=["GET"], name="threads:open"),
    Route("/api/threads/{tid}", get_thread, methods=["GET"], name="threads:get"),
    Route("/api/threads/{tid}/comments/{cid}/replies", list_replies, methods=["GET"], name="threads:replies"),
    Route("/api/counts", count_comments, methods=["GET", "POST"], name="threads:counts"),
]
