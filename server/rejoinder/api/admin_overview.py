"""A site at a glance: new comments per day by status, what caught the spam, the week's busiest
threads, readers live now, and how mail and webhook deliveries went. Read from the counters of
store/stats.py (a day is one small hash), never from a scan of threads or keys.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.routing import Route

from .. import models
from ..errors import ApiError
from ..state import state
from ..store import keys, stats
from .admin import SITE, require_admin
from .common import JSON

SPANS = (7, 30, 365)


def _rate(ok: int, failed: int) -> float | None:
    """The share of deliveries that succeeded, or None when there were none."""
    return round(ok / (ok + failed), 4) if ok + failed else None


async def get_overview(request: Request) -> JSON:
    """GET /api/admin/sites/{site}/overview?days=30: the overview's figures over the last 7, 30 or 365 UTC days.

    Errors: invalid_field (days), auth_required 401, invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    raw = request.query_params.get("days", "30")
    if not raw.isdigit() or int(raw) not in SPANS:
        raise ApiError("invalid_field", f"days must be one of {', '.join(map(str, SPANS))}.", field="days")
    st = state(request)
    now = int(time.time() * 1000)
    days = await st.stats.days(site.id, int(raw), now)
    busiest = await st.stats.busiest(site.id, now)
    metas: list[dict[str, str]] = []
    if busiest:
        async with st.redis.pipeline(transaction=False) as pipe:
            for tid, _n in busiest:
                pipe.hmget(keys.thread_meta(tid), ["title", "url", "page", "count", "moved"])
            metas = [dict(zip(("title", "url", "page", "count", "moved"), row)) for row in await pipe.execute()]
    totals = stats.summary(days)
    d = totals["deliveries"]
    return JSON({
        "site": site.id,
        "days": [{"day": f"{day[:4]}-{day[4:6]}-{day[6:]}",
                  **{s: fields.get(f"new:{s}", 0) for s in stats.STATUSES}} for day, fields in days],
        "totals": totals["new"],
        "caught": [{"reason": reason, "comments": n} for reason, n in totals["caught"].items()],
        "busiest": [{"id": tid, "title": m.get("title") or "", "url": m.get("url") or None,
                     "page": m.get("page") or "", "new_comments": n, "count": int(m.get("count") or 0)}
                    for (tid, n), m in zip(busiest, metas) if m.get("page") and not m.get("moved")],
        "readers_now": await st.stats.readers(site.id, now),
        "deliveries": {
            "mail": {"sent": d["mail:sent"], "deferred": d["mail:deferred"], "failed": d["mail:failed"],
                     "success_rate": _rate(d["mail:sent"], d["mail:failed"] + d["mail:deferred"])},
            "webhooks": {"ok": d["hook:ok"], "failed": d["hook:failed"],
                         "success_rate": _rate(d["hook:ok"], d["hook:failed"])},
        },
        "as_of": models.iso(now),
    })


routes = [Route(SITE + "/overview", get_overview, methods=["GET"], name="admin:overview")]
