"""A reader's websocket for one thread: checks before accepting, replay from the
reader's last event, then live events through a bounded queue."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import events
from ..api.common import JSON
from ..auth import identity
from ..errors import ApiError
from ..state import state
from ..store import keys
from ..store.sessions import READER
from . import wire

log = logging.getLogger("rejoinder.live")

# Close codes the widget acts on.
RESUME = 4000  # you fell behind or hit a hiccup: reconnect now with your last seq
GOING_AWAY = 1001  # this node is stopping: reconnect (to another node)
HELLO_LATE = 4408
# Longer than the default ping interval plus pong timeout (20 + 20 s).
CLOSE_GRACE_SECONDS = 45.0


class Connection:
    """One open socket: its last delivered sequence number, a queue that exists only
    while the socket cannot take an event at once, and at most one sender task.

    Fan-out is the hot path (10,000 readers x every event), so an event is written
    to the socket synchronously when it can be: its frame, encoded once for every
    reader of the same audience (live/wire.py), goes straight to the transport. Only
    a socket whose transport is paused (the reader's buffers are full) or that the
    fast path cannot serve gets a task, and its events wait in its queue, in order.
    A task per reader per event made the garbage collector's full passes (0.6-1.3 s
    pauses at 10,000 readers) the main cost; see bench/RESULTS.md.

    The queue holds every event still waiting for this reader, the one being sent
    included. When `limit` are waiting and another comes, the reader is cut off
    (4000: it resumes from its last event) and counted in hub.dropped.
    """

    __slots__ = ("ws", "tid", "viewer", "last_seq", "queue", "limit", "sender", "live", "closing",
                 "edit_window_ms", "hub", "_closer", "proto")

    def __init__(self, ws: WebSocket, tid: str, viewer: str, since: int, limit: int, edit_window_ms: int,
                 hub: Any) -> None:
        self.ws = ws
        self.tid = tid
        self.viewer = viewer
        self.last_seq = since
        self.queue: collections.deque[events.Event | None] | None = None
        self.limit = limit
        self.sender: asyncio.Task[None] | None = None
        self.live = False  # False while replaying: events queue until replay is done
        self.closing = False
        self.edit_window_ms = edit_window_ms
        self.hub = hub
        self._closer: asyncio.Task[None] | None = None
        self.proto = wire.server_protocol(ws.scope)  # None: every send goes through ASGI

    # Called by the hub, synchronously, for every event of the thread.
    def push(self, event: events.Event) -> None:
        if self.closing:
            return
        if self.live and self.sender is None and not self.queue:
            if event.seq <= self.last_seq:
                return  # already sent during replay
            if event.seq == self.last_seq + 1 and self._write_now(event):
                return
        self._enqueue(event)

    def push_resync(self) -> None:
        if not self.closing:
            self._enqueue(None)

    def notice(self, notice: Any) -> bool:
        """An advisory message (presence): written only when nothing waits for this reader. False if not."""
        if self.closing or not self.live or self.sender is not None or self.queue or self.proto is None:
            return False
        if notice.frame is None:
            notice.frame = wire.encode(notice.text)
        return bool(wire.write(self.proto, notice.frame))

    def _enqueue(self, event: events.Event | None) -> None:
        queue = self.queue
        if queue is None:
            queue = self.queue = collections.deque()
        if len(queue) >= self.limit:
            # A reader that does not keep up is cut off, never waited for: it resumes.
            self.hub.dropped += 1
            self.cut(RESUME, "resume")
            return
        queue.append(event)
        self._kick()

    def _kick(self) -> None:
        if self.live and self.sender is None and self.queue and not self.closing:
            self.sender = asyncio.create_task(self._drain())

    def start_live(self) -> None:
        self.live = True
        self._kick()

    def waiting(self) -> int:
        """Events waiting for this reader (metrics)."""
        return len(self.queue) if self.queue else 0

    def _write_now(self, event: events.Event) -> bool:
        """Send one in-order event without a task if the transport takes it at once;
        False if it must wait (paused transport, or no fast path): then it is queued."""
        message = event.for_viewer(self.viewer, self.edit_window_ms)
        if message is None:
            self.last_seq = event.seq
            return True
        if self.proto is None or not wire.write(self.proto, _frame(event, message)):
            return False
        self.last_seq = event.seq
        self.hub.delivered += 1
        self.hub.direct += 1
        return True

    def close_soon(self, code: int) -> asyncio.Task[None] | None:
        """Close from outside (node shutdown): returns the closing task."""
        if self.closing:
            return None
        self.cut(code, "going away")
        return self._closer

    def cut(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.queue = None
        self.hub.unsubscribe(self.tid, self)
        if self.sender is not None and self.sender is not asyncio.current_task():
            self.sender.cancel()
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        try:
            # The close frame queues behind what the reader has not read yet: a reader
            # that wakes up reads on and then gets the code. One that never does is
            # dropped by the keepalive timeout; until then it holds only the transport's
            # bounded buffer, not a growing queue.
            await asyncio.wait_for(self.ws.close(code, reason), timeout=CLOSE_GRACE_SECONDS)
        except Exception:
            pass

    async def _drain(self) -> None:
        """Send what waits, in order. An event leaves the queue once it is sent, so the
        one being sent still counts against the limit."""
        queue = self.queue
        try:
            while queue and queue is self.queue and not self.closing:
                event = queue[0]
                if event is None:
                    await self.ws.send_text(events.resync())
                    self.cut(1000, "resync")
                    return
                if event.seq > self.last_seq + 1:
                    # The hub started after this socket's replay: fill the gap from the log.
                    if not await self.replay(event.seq - 1):
                        return
                if event.seq > self.last_seq:  # else already sent during replay
                    await self.send(event)
                if queue is self.queue:
                    queue.popleft()
        except Exception:
            if not self.closing:
                self.cut(RESUME, "resume")
        finally:
            if self.sender is asyncio.current_task():
                self.sender = None
            if not self.closing:
                if self.queue:
                    self._kick()
                else:
                    self.queue = None  # most readers never need one again: give it back

    async def send(self, event: events.Event) -> None:
        message = event.for_viewer(self.viewer, self.edit_window_ms)
        self.last_seq = event.seq
        if message is None:
            return
        if self.proto is not None and wire.write(self.proto, _frame(event, message)):
            self.hub.direct += 1
        else:
            # Waits while the reader's buffers are full (uvicorn's send awaits its transport).
            await self.ws.send_text(message)
        self.hub.delivered += 1

    async def replay(self, upto: int | None) -> bool:
        """Send events after last_seq (up to `upto`) from the log. False if the log no
        longer reaches back that far: then the reader was told to resync."""
        st = state(self.ws)
        entries = await st.redis.xrange(keys.events(self.tid), f"{self.last_seq + 1}-1",
                                        "+" if upto is None else f"{upto}-1")
        expected = self.last_seq + 1
        if entries and events.seq_of(entries[0][0]) != expected or (not entries and upto is not None):
            await self.ws.send_text(events.resync())
            self.cut(1000, "resync")
            return False
        for entry_id, fields in entries:
            await self.send(events.parse(entry_id, fields))
        return True


def _frame(event: events.Event, message: str) -> bytes:
    """The event's websocket frame for this audience, encoded once per event."""
    return wire.once(event, message, "frame", _encode)


def _encode(event: events.Event, message: str) -> bytes:
    return wire.encode(message)


def _deny(ws: WebSocket, code: str) -> Any:
    error = ApiError(code)
    return ws.send_denial_response(JSON(error.body(), status_code=error.status))


def _origin(ws: WebSocket) -> str:
    # Read from the raw scope: Starlette's ws.headers would keep a copy of the
    # header list for the socket's whole life.
    for name, value in ws.scope["headers"]:
        if name == b"origin":
            return value.decode("latin-1")
    return ""


async def watch_thread(ws: WebSocket) -> None:
    """WS /api/threads/{tid}/live?since=N&epoch=E: the thread's events, from after N.

    Refused before accepting (as an HTTP answer): origin_not_allowed 403,
    thread_not_found 404, rate_limited 429 (too many sockets from this IP or on this node).
    This frame lives as long as the socket, so the checks and the opening run in
    helpers whose locals are gone once they return (memory per idle reader).
    """
    st = state(ws)
    admitted = await _admit(ws, st)
    if admitted is None:
        return
    ip, site_id = admitted
    st.live_limits.take(ip)
    conn: Connection | None = None
    try:
        await ws.accept()
        conn = await _open(ws, st, site_id)
        if conn is None:
            return
        while True:
            # Readers have nothing more to say; reading keeps close frames and pings flowing.
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        st.live_limits.release(ip)
        if conn is not None:
            conn.closing = True
            st.hub.unsubscribe(conn.tid, conn)
            if conn.sender is not None:
                conn.sender.cancel()


async def _admit(ws: WebSocket, st: Any) -> tuple[str, str] | None:
    """The checks before accepting; the client's IP and the thread's site if it may connect,
    else None (refused)."""
    tid = ws.path_params["tid"]
    origin = _origin(ws)
    site_id = await st.comments.site_of(tid) if keys.THREAD_ID.match(tid) else None
    if site_id is None:
        await _deny(ws, "thread_not_found")
        return None
    site = await st.sites.get(site_id)
    # A page the site did not register must not watch its threads with a reader's identity.
    if site is None or (origin != st.settings.public_origin and origin not in site.origins):
        await _deny(ws, "origin_not_allowed")
        return None
    ip = identity.client_net(ws)  # an IPv6 client counts by its /64
    if st.live_limits.full(ip, st.settings.live_per_ip, st.settings.live_per_node):
        await _deny(ws, "rate_limited")
        return None
    return ip, site_id


async def _open(ws: WebSocket, st: Any, site_id: str) -> Connection | None:
    """Hello, the resume point, replay and `ready`: the socket's Connection, now live,
    or None if the socket was closed (late or bad hello, resync)."""
    tid = ws.path_params["tid"]
    query = parse_qs(ws.scope["query_string"].decode("latin-1"))
    try:
        since = int(query.get("since", ["0"])[0])
    except ValueError:
        since = -1
    viewer = await _hello(ws, st.settings.live_hello_seconds, site_id)
    if viewer is None:
        return None
    meta = await st.redis.hmget(keys.thread_meta(tid), ["seq", "epoch"])
    head, epoch = int(meta[0] or 0), meta[1] or ""
    if since < 0 or since > head or query.get("epoch", [epoch])[0] != epoch:
        # The reader's view belongs to another history (Redis lost data, or a bad number).
        await ws.send_text(events.resync())
        await ws.close(1000, "resync")
        return None
    conn = Connection(ws, tid, viewer, since, st.settings.live_queue,
                      st.settings.edit_window_seconds * 1000, st.hub)
    wire.forget_handshake(conn.proto)
    wire.bound_send_buffer(conn.proto, st.settings.live_send_buffer)
    await st.hub.subscribe(tid, conn, site_id, head)
    try:
        if not await conn.replay(None):
            return None
        await ws.send_text(events.ready(conn.last_seq))
    except BaseException:
        conn.closing = True
        st.hub.unsubscribe(tid, conn)
        raise
    conn.start_live()
    return conn


async def _hello(ws: WebSocket, timeout: float, site_id: str) -> str | None:
    """The first message names the reader (tokens travel here, never in the URL): a reader
    session of the thread's own site, or a guest of that site."""
    try:
        raw = await asyncio.wait_for(ws.receive_text(), timeout)
        hello = orjson.loads(raw)
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            raise ValueError
    except asyncio.TimeoutError:
        await ws.close(HELLO_LATE, "say hello first")
        return None
    except (ValueError, KeyError, orjson.JSONDecodeError):
        await ws.close(1008, "bad hello")
        return None
    token, client = hello.get("token"), hello.get("client")
    st = state(ws)
    if isinstance(token, str) and token:
        if _origin(ws) != st.settings.public_origin:
            await ws.close(4403, "sessions work only inside the comments frame")
            return None
        session = await st.sessions.get(token)
        if session is None or session.audience != READER or session.site != site_id:
            # Bound at issue: a token of another blog, or the dashboard's, opens nothing here.
            await ws.close(4401, "invalid session")
            return None
        return identity.user_key(session.user)
    return identity.guest_key(st.settings.secret_key, site_id, client if isinstance(client, str) else "")


routes = [WebSocketRoute("/api/threads/{tid}/live", watch_thread, name="live:watch")]
