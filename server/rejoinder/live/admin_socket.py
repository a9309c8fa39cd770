"""The dashboard's websocket: follows one site's feed (through the node's AdminFeeds) and tells the page what changed.

The bearer token travels in the Sec-WebSocket-Protocol header (a browser
cannot set Authorization on a websocket, and a URL ends up in logs), so the
admin check runs before the socket is accepted, and again while it is open.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

import orjson
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..api.admin import administers, require_admin
from ..api.common import JSON
from ..auth import identity
from ..errors import ApiError
from ..state import state
from ..store.admins import ADMINS_CHANGED
from ..store.sessions import ADMIN, token_hash
from .admin_feeds import Watcher

log = logging.getLogger("rejoinder.live")

PROTOCOL = "rejoinder.admin"
TOKEN_PREFIX = "bearer."
# An open socket asks again this often whether its session still holds and still
# administers the site (and at once when the site's admins change).
RECHECK_SECONDS = 10.0
# Dashboards open per session on one node: one per tab; more is a script, not a moderator.
PER_SESSION = 8

_per_session: collections.Counter[str] = collections.Counter()


def _token(ws: WebSocket) -> str:
    offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")]
    if PROTOCOL not in offered:
        return ""
    return next((p[len(TOKEN_PREFIX):] for p in offered if p.startswith(TOKEN_PREFIX)), "")


async def watch_site(ws: WebSocket) -> None:
    """WS /api/admin/sites/{site}/live (subprotocols "rejoinder.admin", "bearer.<token>"):
    {"type": "changed", "events": [{"tid", "type"}]} whenever the site's feed grows.

    Refused before accepting (as an HTTP answer): origin_not_allowed 403 (only the
    dashboard's own origin), auth_required 401, invalid_session 401, not_site_admin 403,
    rate_limited 429 (too many sockets from this IP, on this node, or for this session).
    Closed while open: 4401 when the session ends, 4403 when its admin rights are taken away,
    4000 to resume (it fell behind, or the node lost Redis).
    """
    st = state(ws)
    limits = st.live_limits
    try:
        # Another page must not open an admin's socket with the admin's cookies or token.
        if ws.headers.get("origin", "") != st.settings.public_origin:
            raise ApiError("origin_not_allowed")
        token = _token(ws)
        if not token:
            raise ApiError("auth_required")
        site, _ = await require_admin(ws, token)
        ip = identity.client_net(ws)  # an IPv6 client counts by its /64
        session_key = token_hash(token)
        if limits.full(ip, st.settings.live_per_ip, st.settings.live_per_node) \
                or _per_session[session_key] >= PER_SESSION:
            raise ApiError("rate_limited")
    except ApiError as error:
        await ws.send_denial_response(JSON(error.body(), status_code=error.status))
        return
    limits.take(ip)
    _per_session[session_key] += 1
    watcher = Watcher()
    sender: asyncio.Task[None] | None = None
    try:
        await ws.accept(subprotocol=PROTOCOL)
        await st.admin_feeds.watch(site.id, watcher)
        await ws.send_text(orjson.dumps({"type": "ready"}).decode())
        sender = asyncio.create_task(_follow(ws, site.id, token, watcher))
        while True:
            # The dashboard has nothing to say; reading keeps close frames and pings flowing.
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        if sender is not None:
            sender.cancel()
        st.admin_feeds.unwatch(site.id, watcher)
        limits.release(ip)
        _per_session[session_key] -= 1
        if _per_session[session_key] <= 0:
            del _per_session[session_key]


async def _still_admin(ws: WebSocket, site_id: str, token: str) -> int:
    """0 if the socket may stay open, else the close code: 4401 session ended, 4403 rights taken."""
    session = await state(ws).sessions.get(token)
    if session is None or session.audience != ADMIN:
        return 4401
    return 0 if await administers(ws, session, site_id) else 4403


async def _follow(ws: WebSocket, site_id: str, token: str, watcher: Watcher) -> None:
    checked = time.monotonic()
    try:
        while True:
            try:
                batch = await asyncio.wait_for(watcher.queue.get(), RECHECK_SECONDS)
            except asyncio.TimeoutError:
                batch = []
            if batch is None:
                await ws.close(4000, "resume")
                return
            changes = [{"tid": f.get("tid"), "type": f.get("type")} for f in batch if f.get("type") != ADMINS_CHANGED]
            # Rights are asked again before anything is told (a removed admin or an ended session
            # hears of nothing more), when the site's admins change, and at least every RECHECK_SECONDS.
            if batch or time.monotonic() - checked >= RECHECK_SECONDS:
                checked = time.monotonic()
                code = await _still_admin(ws, site_id, token)
                if code:
                    await ws.close(code, "session ended" if code == 4401 else "no longer an admin of this site")
                    return
            if changes:
                await ws.send_text(orjson.dumps({"type": "changed", "events": changes}).decode())
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # Redis went away, or the socket did: the page reconnects and refreshes
        log.info("admin socket stopped: %s", exc)
        try:
            await ws.close(4000, "resume")
        except Exception:
            pass


routes = [WebSocketRoute("/api/admin/sites/{site}/live", watch_site, name="admin:live")]
