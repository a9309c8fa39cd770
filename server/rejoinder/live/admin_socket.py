"""The dashboard's websocket: follows one site's feed and tells the page what changed.

The bearer token travels in the Sec-WebSocket-Protocol header (a browser
cannot set Authorization on a websocket, and a URL ends up in logs), so the
admin check runs before the socket is accepted.
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..api.admin import require_admin
from ..api.common import JSON
from ..auth import identity
from ..errors import ApiError
from ..state import state
from ..store import keys

log = logging.getLogger("rejoinder.live")

PROTOCOL = "rejoinder.admin"
TOKEN_PREFIX = "bearer."
# A blocking read returns at least this often, to check the session still holds.
BLOCK_MS = 10_000
# Feed entries read per wake-up: more than any burst a dashboard needs to hear of one by one.
READ_COUNT = 200


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
    rate_limited 429.
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
        ip = identity.client_ip(ws)
        if limits.full(ip, st.settings.live_per_ip, st.settings.live_per_node):
            raise ApiError("rate_limited")
    except ApiError as error:
        await ws.send_denial_response(JSON(error.body(), status_code=error.status))
        return
    limits.take(ip)
    reader: asyncio.Task[None] | None = None
    try:
        await ws.accept(subprotocol=PROTOCOL)
        last = (await st.redis.xrevrange(keys.site_feed(site.id), count=1) or [("0-0", {})])[0][0]
        await ws.send_text(orjson.dumps({"type": "ready"}).decode())
        reader = asyncio.create_task(_follow(ws, site.id, token, last))
        while True:
            # The dashboard has nothing to say; reading keeps close frames and pings flowing.
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        if reader is not None:
            reader.cancel()
        limits.release(ip)


async def _follow(ws: WebSocket, site_id: str, token: str, last: str) -> None:
    st = state(ws)
    try:
        while True:
            found = await st.redis.xread({keys.site_feed(site_id): last}, count=READ_COUNT, block=BLOCK_MS)
            user = await st.sessions.get(token)
            if user is None:
                await ws.close(4401, "session ended")
                return
            entries = found[0][1] if found else []
            if not entries:
                continue
            last = entries[-1][0]
            changes = [{"tid": f.get("tid"), "type": f.get("type")} for _, f in entries]
            await ws.send_text(orjson.dumps({"type": "changed", "events": changes}).decode())
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # Redis went away: the page reconnects and refreshes
        log.info("admin feed reader stopped: %s", exc)
        try:
            await ws.close(4000, "resume")
        except Exception:
            pass


routes = [WebSocketRoute("/api/admin/sites/{site}/live", watch_site, name="admin:live")]
