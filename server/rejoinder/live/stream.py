"""A thread's live events as Server-Sent Events, for readers whose network breaks websockets.

Some corporate proxies and old middleboxes refuse the websocket upgrade or cut the
socket. The widget then reads the same resumable stream over plain HTTP: the frame
fetches GET /api/threads/{tid}/stream?since=N&epoch=E (fetch, not EventSource, so
the reader's session travels in a header as everywhere else, never in the URL).
The messages are the websocket's, one per SSE event, in the same order: the replay
from `since`, then `ready`, then live events; `resync` when the log no longer
reaches back. The stream ends after STREAM_SECONDS (proxies drop long answers) and
whenever the reader falls more than REJOINDER_LIVE_QUEUE events behind: the widget
resumes from its last event, so nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .. import events
from ..auth import identity
from ..errors import ApiError
from ..state import state
from ..store import keys
from . import wire

log = logging.getLogger("rejoinder.live")

# A comment line this often keeps proxies from closing an idle answer.
KEEPALIVE_SECONDS = 15.0
# An answer lasts at most this long; the widget resumes at once with what it has.
STREAM_SECONDS = 300.0
RETRY = b"retry: 1000\n\n"


class Stream:
    """The hub's subscriber for one stream. Once live, an event in order goes straight to the
    connection as a pre-encoded chunk of the answer's body (live/wire.py), as the websocket path
    does; events that cannot go at once (the reader's connection is slower than the thread) wait
    here, in order, for the answer's own coroutine to send them."""

    __slots__ = ("queue", "limit", "wake", "ended", "hub", "viewer", "edit_ms", "last", "live", "sending",
                 "cycle")

    def __init__(self, limit: int, hub: Any, viewer: str, edit_ms: int, since: int, cycle: Any) -> None:
        self.queue: collections.deque[events.Event | None] = collections.deque()
        self.limit = limit
        self.wake = asyncio.Event()
        self.ended = False
        self.hub = hub
        self.viewer = viewer
        self.edit_ms = edit_ms
        self.last = since
        self.live = False  # until the replay and "ready" went out through ASGI
        self.sending = False  # the answer's coroutine is writing: nothing may go in between
        self.cycle = cycle  # None: every event goes through ASGI

    def push(self, event: events.Event) -> None:
        if self.ended:
            return
        if self.live and not self.sending and not self.queue:
            if event.seq <= self.last:
                return
            if event.seq == self.last + 1 and self._write_now(event):
                return
        if len(self.queue) >= self.limit:
            self.hub.dropped += 1  # too far behind: end the answer; the reader resumes from the log
            self.end()
            return
        self.queue.append(event)
        self.wake.set()

    def notice(self, notice: Any) -> bool:
        """An advisory message (presence): written only when nothing waits for this reader. False if not."""
        if self.ended or not self.live or self.sending or self.queue or self.cycle is None:
            return False
        if notice.chunk is None:
            notice.chunk = wire.chunk(_sse(notice.text))
        return bool(wire.write_chunk(self.cycle, notice.chunk))

    def _write_now(self, event: events.Event) -> bool:
        message = event.for_viewer(self.viewer, self.edit_ms)
        if message is None:
            self.last = event.seq
            return True
        if self.cycle is None or not wire.write_chunk(self.cycle, _chunk(event, message)):
            return False
        self.last = event.seq
        self.hub.delivered += 1
        self.hub.direct += 1
        return True

    def push_resync(self) -> None:
        if not self.ended:
            self.queue.append(None)
            self.wake.set()

    def close_soon(self, code: int) -> None:
        self.end()  # node shutdown: the reader reconnects (to another node)

    def end(self) -> None:
        self.ended = True
        self.queue.clear()
        self.wake.set()

    def waiting(self) -> int:
        return len(self.queue)


def _sse(message: str, seq: int | None = None) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}data: {message}\n\n".encode()


def _chunk(event: events.Event, message: str) -> bytes:
    """The event for this audience as one framed body chunk, encoded once per event."""
    return wire.once(event, message, "chunk", _framed)


def _framed(event: events.Event, message: str) -> bytes:
    return wire.chunk(_sse(message, event.seq))


async def _allowed(request: Request, st: Any, site_id: str) -> bool:
    """The comments frame (same origin), or a page the site registered."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    origin = request.headers.get("origin", "")
    if origin == st.settings.public_origin:
        return True
    site = await st.sites.get(site_id)
    return site is not None and bool(origin) and origin in site.origins


class StreamEndpoint:
    """GET /api/threads/{tid}/stream?since=N&epoch=E: the thread's live events as text/event-stream, the
    websocket's messages one per event (the fallback where websockets are blocked).

    The reader is known as on every other request: a reader session of the thread's site in
    Authorization, else the X-Rejoinder-Client id (a guest). Errors: thread_not_found 404,
    origin_not_allowed 403 (only the comments frame and the site's pages), invalid_session 401,
    rate_limited 429 (too many live connections from this address or on this node)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        st = state(request)
        tid = request.path_params["tid"]
        site_id = await st.comments.site_of(tid) if keys.THREAD_ID.match(tid) else None
        if site_id is None:
            raise ApiError("thread_not_found")
        if not await _allowed(request, st, site_id):
            raise ApiError("origin_not_allowed")
        viewer = (await identity.current(request, site_id)).key
        ip = identity.client_net(request)
        if st.live_limits.full(ip, st.settings.live_per_ip, st.settings.live_per_node):
            raise ApiError("rate_limited")
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            since = -1
        epoch = request.query_params.get("epoch")
        sub = Stream(st.settings.live_queue, st.hub, viewer, st.settings.edit_window_seconds * 1000, since,
                     wire.http_cycle(scope))
        st.live_limits.take(ip)
        watcher = asyncio.create_task(_watch(receive, sub))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no")]})
            await _serve(st, tid, site_id, sub, since, epoch, send)
            if not sub.cycle or not sub.cycle.disconnected:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the reader went away mid-write
        except Exception:  # the head went out: the reader can only be told by the end of the answer
            log.exception("stream of thread %s ended by an error", tid)
        finally:
            sub.ended = True
            watcher.cancel()
            st.hub.unsubscribe(tid, sub)
            st.live_limits.release(ip)


async def _watch(receive: Receive, sub: Stream) -> None:
    """End the stream when the reader goes away."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            sub.end()
            return


async def _serve(st: Any, tid: str, site_id: str, sub: Stream, since: int, epoch: str | None, send: Send) -> None:
    """Replay, ready, then whatever could not be written at once; returns when the answer should end."""

    async def out(data: bytes) -> None:
        sub.sending = True
        try:
            await send({"type": "http.response.body", "body": data, "more_body": True})
        finally:
            sub.sending = False

    async def replay(upto: int | None) -> bool:
        entries = await st.redis.xrange(keys.events(tid), f"{sub.last + 1}-1", "+" if upto is None else f"{upto}-1")
        if (entries and events.seq_of(entries[0][0]) != sub.last + 1) or (not entries and upto is not None):
            await out(_sse(events.resync()))
            return False
        for entry_id, fields in entries:
            event = events.parse(entry_id, fields)
            sub.last = event.seq
            message = event.for_viewer(sub.viewer, sub.edit_ms)
            if message is not None:
                await out(_sse(message, event.seq))
                st.hub.delivered += 1
        return True

    await out(RETRY)
    meta = await st.redis.hmget(keys.thread_meta(tid), ["seq", "epoch"])
    head, current = int(meta[0] or 0), meta[1] or ""
    if since < 0 or since > head or (epoch if epoch is not None else current) != current:
        await out(_sse(events.resync()))
        return
    await st.hub.subscribe(tid, sub, site_id, head)
    if not await replay(None):
        return
    await out(_sse(events.ready(sub.last)))
    sub.live = True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    while not sub.ended:
        while sub.queue and not sub.ended:
            event = sub.queue[0]
            if event is None:
                await out(_sse(events.resync()))
                return
            if event.seq > sub.last + 1 and not await replay(event.seq - 1):
                return  # the hub started after the replay: the gap came from the log, or a resync
            if event.seq > sub.last:
                sub.last = event.seq
                message = event.for_viewer(sub.viewer, sub.edit_ms)
                if message is not None:
                    await out(_sse(message, event.seq))
                    st.hub.delivered += 1
            if sub.queue and sub.queue[0] is event:
                sub.queue.popleft()
        if sub.ended:
            return
        left = deadline - loop.time()
        if left <= 0:
            return
        sub.wake.clear()
        try:
            await asyncio.wait_for(sub.wake.wait(), min(KEEPALIVE_SECONDS, left))
        except asyncio.TimeoutError:
            await out(b": keepalive\n\n")


routes = [Route("/api/threads/{tid}/stream", StreamEndpoint(), methods=["GET"], name="live:stream")]
