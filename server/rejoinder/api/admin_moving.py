"""Moving a blog: remap a site's threads to new pages in bulk (with a dry run), and merge two
threads that turned out to be one page. The work is in porting/remap.py and store/moving.py.

Both hold the site's porting lock (the one imports take), so a remap, a merge and an import
of one site never run at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .. import models
from ..errors import ApiError
from ..pages import page_key
from ..porting import remap
from ..state import state
from ..store import keys
from ..store.moving import MoveFailed
from .admin import SITE, require_admin
from .common import JSON, read_json

LOCK_SECONDS = 600


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ApiError("invalid_field", f"{name} must be true or false.", field=name)
    return value


async def remap_threads(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/remap {"rules": [...], "dry_run": true, "merge": false}: move every
    thread whose page a rule changes to the thread of its new page. A dry run lists what would move,
    merge or collide and changes nothing; a collision (the new page has comments already) moves only
    with "merge": true. Running it again moves nothing more.

    Errors: invalid_field (rules, dry_run, merge), malformed_json, unsupported_media_type,
    site_busy 409, auth_required 401, invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    body = await read_json(request)
    unknown = set(body) - {"rules", "dry_run", "merge"}
    if unknown:
        raise ApiError("unknown_field", f"Unknown field {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    rules = remap.rules(body.get("rules"))
    dry_run, merge = _flag(body, "dry_run", True), _flag(body, "merge", False)
    st = state(request)
    tids = await st.porting.site_threads(site.id, scan=False)
    changes = await remap.plan(st.redis, site.id, site.origins, tids, rules, merge)
    if not dry_run:
        token = await st.porting.lock_import(site.id, LOCK_SECONDS)
        if token is None:
            raise ApiError("site_busy")
        try:
            await remap.carry_out(st.redis, st.moving, site.id, changes)
            for c in changes:
                if c.get("result") == "done" and c["action"] in ("move", "merge"):
                    await _announce(request, site.id, c["id"], c["to_id"])
        finally:
            await st.porting.unlock_import(site.id, token)
    actions = [c["action"] for c in changes]
    return JSON({"dry_run": dry_run, "threads": changes,
                 "summary": {a: actions.count(a) for a in ("move", "merge", "url", "collision", "refused")}})


async def _announce(request: Request, site: str, src: str, dst: str) -> None:
    st = state(request)
    await st.feed.announce(site, dst, "comment.created")
    await st.feed.announce(site, src, "thread.moved")


async def _thread_of(request: Request, site_id: str, value: Any, field: str) -> tuple[str, dict[str, str]]:
    if not isinstance(value, str):
        raise ApiError("invalid_field", f"{field} is the page (its URL or id) of a thread.", field=field)
    st = state(request)
    tid = await st.moving.resolve(keys.thread_id(site_id, page_key(value)))
    meta = await st.comments.meta(tid)
    if not meta or meta.get("site") != site_id:
        raise ApiError("thread_not_found")
    return tid, meta


async def merge_threads(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/merge {"from": page, "into": page, "dry_run": false}: move every comment,
    reply, like and subscriber of one page's thread into another's (pages by URL or id); the first page
    then leads to the second. With "dry_run": true, only says what would move.

    Errors: invalid_field (from, into, dry_run), thread_not_found 404, same_thread 422, thread_moved 409,
    move_busy 409, site_busy 409, malformed_json, unsupported_media_type, auth_required 401,
    invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    body = await read_json(request)
    unknown = set(body) - {"from", "into", "dry_run"}
    if unknown:
        raise ApiError("unknown_field", f"Unknown field {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    dry_run = _flag(body, "dry_run", False)
    src, src_meta = await _thread_of(request, site.id, body.get("from"), "from")
    dst, dst_meta = await _thread_of(request, site.id, body.get("into"), "into")
    if src == dst:
        raise ApiError("same_thread")
    st = state(request)
    out: dict[str, Any] = {"dry_run": dry_run, "from": models.thread_view(src_meta, src),
                           "into": models.thread_view(dst_meta, dst)}
    if dry_run:
        return JSON({**out, "moved_comments": await st.redis.hlen(keys.comments(src))})
    token = await st.porting.lock_import(site.id, LOCK_SECONDS)
    if token is None:
        raise ApiError("site_busy")
    try:
        moved = await st.moving.move(site.id, src, dst, page=dst_meta.get("page", ""), url=dst_meta.get("url", ""))
    except MoveFailed as exc:
        raise ApiError("thread_not_found" if exc.code == "thread_of_another_site" else exc.code) from None
    finally:
        await st.porting.unlock_import(site.id, token)
    await _announce(request, site.id, src, dst)
    return JSON({**out, "moved_comments": moved.comments, "into": models.thread_view(await st.comments.meta(dst), dst)})


routes = [
    Route(SITE + "/remap", remap_threads, methods=["POST"], name="admin:remap"),
    Route(SITE + "/merge", merge_threads, methods=["POST"], name="admin:merge"),
]
