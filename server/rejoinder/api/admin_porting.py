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

from ..errors import ApiError
from ..middleware import Larger
from ..porting import exporter, importer
from ..porting.source import FORMATS, ImportFailed
from ..settings import Settings
from ..state import state
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


async def import_site(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/import?format=wxr|disqus&threads=url|id, the export file as the body:
    import it and answer with the importer's report (as `rejoinder import` prints it).

    The file is read and checked whole before anything is written: a bad file imports
    nothing. Running the same file again adds only what is missing. `format` is found
    from the file when left out.
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403,
    invalid_field 422, import_invalid 422, import_unsafe 422, import_too_large 413,
    import_running 409.
    """
    st = state(request)
    site, _ = await require_admin(request)  # before the body is read: a stranger's upload is never buffered
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
