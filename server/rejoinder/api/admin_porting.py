"""Export and import from the dashboard: a site's comments as a JSON or WXR download, a WordPress or Disqus file in.

Every route checks that the caller administers the site (admin.require_admin),
exactly as the moderation routes do. The export never carries email addresses:
a site's admin on a shared host is not the operator, and the addresses stay
with the operator (`rejoinder export --include-emails`).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from ..auth import identity, sso
from ..errors import ApiError
from ..middleware import Larger
from ..porting import exporter, importer
from ..porting.source import FORMATS, ImportFailed
from ..settings import Settings
from ..state import state
from ..store import keys
from ..store.sites import Site
from .admin import SITE, require_admin
from .common import JSON, enum_param

EXPORTS = {"json": ("application/json", "json"), "wxr": ("application/rss+xml; charset=utf-8", "xml")}
IMPORT_PATH = re.compile(r"/api/admin/sites/[^/]+/import")
# One import of a site at a time: a second would only find the first one's threads
# "already imported", and two large files at once would double the memory the
# server needs. The lock outlives a crashed import by at most this long.
IMPORT_LOCK_SECONDS = importer.LOCK_SECONDS


def body_limits(settings: Settings) -> list[Larger]:
    """The import route takes files up to REJOINDER_IMPORT_MAX_BYTES; all else keeps the body cap."""
    return [Larger("POST", IMPORT_PATH, max(settings.import_max_bytes, settings.max_body_bytes),
                   "import_too_large")]


async def export_site(request: Request) -> StreamingResponse:
    """GET /api/admin/sites/{site}/export?format=json|wxr: download the site's comments, streamed.

    Without email addresses (the operator's `rejoinder export --include-emails` has them).
    Threads are those with a write since the site's thread index began (see README).
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403,
    invalid_field 422.
    """
    st = state(request)
    site, _ = await require_admin(request)
    fmt = enum_param(request, "format", tuple(EXPORTS), "json")
    # Read before the answer starts: a database that is down is a 503, not a cut download.
    tids = await st.porting.site_threads(site.id, scan=False)
    base = site.origins[0] if site.origins else st.settings.public_url
    pieces = exporter.chunks(site=site, tids=tids, porting=st.porting, fmt=fmt, include_emails=False,
                             base_url=base)

    async def body() -> AsyncIterator[bytes]:
        async for piece in pieces:
            if piece:
                yield piece.encode()

    media, ext = EXPORTS[fmt]
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    # The site id matches keys.SITE_ID ([a-z0-9-]): safe in a header as it is.
    return StreamingResponse(body(), media_type=media, headers={
        "content-disposition": f'attachment; filename="{site.id}-comments-{day}.{ext}"',
        "cache-control": "no-store"})


async def _read_file(request: Request, limit: int, progress: importer.Progress) -> bytes:
    """The request body, counted as it arrives (the Edge middleware counts too, at the same limit)."""
    parts: list[bytes] = []
    size = 0
    await progress({"phase": "receiving", "bytes": 0})
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("import_too_large", f"The file is larger than {limit:,} bytes, the most Rejoinder "
                                               "imports (REJOINDER_IMPORT_MAX_BYTES).")
        parts.append(chunk)
        await progress({"phase": "receiving", "bytes": size})
    return b"".join(parts)


async def _importer(request: Request) -> Site:
    """The site a caller may import into: one they administer, or (a bearer JWT, not a session) the blog
    itself, with a token signed by the site's single sign-on secret for this use (auth/sso.py verify_import),
    each token once."""
    st = state(request)
    token = identity.bearer(request)
    if token is None or token.count(".") != 2:
        site, _ = await require_admin(request)
        return site
    site_id = request.path_params["site"]
    site = await st.sites.get(site_id) if keys.SITE_ID.match(site_id) else None
    secret = await st.redis.get(keys.sso_secret(site_id)) if site is not None else None
    if site is None or not secret:
        raise ApiError("sso_invalid", "This site takes no import token (it has no single sign-on secret).")
    claims = sso.verify_import(token, secret, site.id)
    ttl = max(1, int(claims["exp"] - time.time()) + sso.SKEW)
    if not await st.redis.set(keys.sso_used(site.id, sso.jti_digest(site.id, "import:" + claims["jti"])), "1",
                              nx=True, ex=ttl):
        raise ApiError("sso_used", "This import token was used already.")
    return site


async def import_site(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/import?format=wxr|disqus&threads=url|id, the export file as the body:
    import it and answer with the importer's report (as `rejoinder import` prints it).

    The file is read and checked whole before anything is written: a bad file imports
    nothing. Running the same file again adds only what is missing. `format` is found
    from the file when left out.
    The caller is a site admin, or the blog itself with an import token (a JWT signed with the site's
    single sign-on secret: {"aud": site, "scope": "import", "iat", "exp", "jti"}, at most ten minutes, once;
    the WordPress plugin sends one).
    Errors: auth_required 401, invalid_session 401, sso_invalid 401, sso_expired 401, sso_used 409,
    not_site_admin 403, origin_not_allowed 403, invalid_field 422, import_invalid 422, import_unsafe 422,
    import_too_large 413, import_running 409.
    """
    st = state(request)
    site = await _importer(request)  # before the body is read: a stranger's upload is never buffered
    fmt = enum_param(request, "format", tuple(FORMATS), None)
    by = enum_param(request, "threads", ("url", "id"), "url")
    token = await st.porting.lock_import(site.id, IMPORT_LOCK_SECONDS)
    if token is None:
        raise ApiError("import_running")
    started = time.monotonic()
    progress = importer.publisher(st.porting, site.id, token, IMPORT_LOCK_SECONDS)
    try:
        data = await _read_file(request, st.settings.import_max_bytes, progress)
        report = await importer.run(data, site=site.id, settings=st.settings, sites=st.sites, porting=st.porting,
                                    feed=st.feed, fmt=fmt, by=by, progress=progress)
    except ImportFailed as exc:
        raise ApiError(exc.code, exc.message) from None
    finally:
        await st.porting.unlock_import(site.id, token)
    return JSON({"report": report, "summary": importer.summary(report),
                 "seconds": round(time.monotonic() - started, 2)})


async def import_status(request: Request) -> JSON:
    """GET /api/admin/sites/{site}/import: whether an import into the site is running (from the
    dashboard or `rejoinder import`) and how far it has got.

    `progress` is null, or `{"phase": "receiving", "bytes"}` while the file uploads,
    `{"phase": "checking", "bytes"}` while it is read and checked, then `{"phase": "writing",
    "threads_done", "threads_total", "comments_done", "comments_total", "writing_ms"}`.
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403.
    """
    st = state(request)
    site, _ = await require_admin(request)
    running, progress = await st.porting.running_import(site.id)
    return JSON({"running": running, "progress": progress})


routes = [
    Route(SITE + "/import", import_status, methods=["GET"], name="admin:import_status"),
    Route(SITE + "/export", export_site, methods=["GET"], name="admin:export"),
    Route(SITE + "/import", import_site, methods=["POST"], name="admin:import"),
]
