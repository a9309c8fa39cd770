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
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from .. import events
from ..auth import identity
from ..errors import ApiError
from ..state import state
from ..store import keys

# A comment line this often keeps proxies from closing an idle answer.
KEEPALIVE_SECONDS = 15.0
# An answer lasts at most this long; the widget resumes at once with what it has.
STREAM_SECONDS = 300.0
RETRY = b"retry: 1000\n\n"


class Stream:
    """The hub's subscriber for one stream: events wait here until the response writes them
    (it writes as fast as the reader's connection takes them)."""

    __slots__ = ("queue", "limit", "wake", "ended", "hub")

    def __init__(self, limit: int, hub: Any) -> None:
        self.queue: collections.deque[events.Event | None] = collections.deque()
        self.limit = limit
        self.wake = asyncio.Event()
        self.ended = False
        self.hub = hub

    def push(self, event: events.Event) -> None:
        if self.ended:
            return
        if len(self.queue) >= self.limit:
            self.hub.dropped += 1  # too far behind: end the answer; the reader resumes from the log
            self.end()
            return
        self.queue.append(event)
        self.wake.set()

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


async def _allowed(request: Request, st: Any, site_id: str) -> bool:
    """The comments frame (same origin), or a page the site registered."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    origin = request.headers.get("origin", "")
    if origin == st.settings.public_origin:
        return True
    site = await st.sites.get(site_id)
    return site is not None and bool(origin) and origin in site.origins


async def stream_thread(request: Request) -> StreamingResponse:
    """GET /api/threads/{tid}/stream?since=N&epoch=E: the thread's live events as text/event-stream, the
    websocket's messages one per event (the fallback where websockets are blocked).

    The reader is known as on every other request: a reader session of the thread's site in
    Authorization, else the X-Rejoinder-Client id (a guest). Errors: thread_not_found 404,
    origin_not_allowed 403 (only the comments frame and the site's pages), invalid_session 401,
    rate_limited 429 (too many live connections from this address or on this node)."""
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
    body = _events(st, tid, viewer, since, epoch, ip)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _events(st: Any, tid: str, viewer: str, since: int, epoch: str | None, ip: str) -> AsyncIterator[bytes]:
    sub = Stream(st.settings.live_queue, st.hub)
    edit_ms = st.settings.edit_window_seconds * 1000
    subscribed = False
    st.live_limits.take(ip)  # here, not in the handler: released by this generator's own finally
    try:
        yield RETRY
        meta = await st.redis.hmget(keys.thread_meta(tid), ["seq", "epoch"])
        head, current = int(meta[0] or 0), meta[1] or ""
        if since < 0 or since > head or (epoch if epoch is not None else current) != current:
            yield _sse(events.resync())
            return
        await st.hub.subscribe(tid, sub)
        subscribed = True
        last = since
        # Replay what the reader missed, then live events; a gap (the hub started after the
        # replay read the log) is filled from the log. Seq numbers drop what was sent twice.
        upto: int | None = None
        replayed = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        while True:
            if not replayed or upto is not None:
                entries = await st.redis.xrange(keys.events(tid), f"{last + 1}-1",
                                                "+" if upto is None else f"{upto}-1")
                if (entries and events.seq_of(entries[0][0]) != last + 1) or (not entries and upto is not None):
                    yield _sse(events.resync())
                    return
                for entry_id, fields in entries:
                    event = events.parse(entry_id, fields)
                    last = event.seq
                    message = event.for_viewer(viewer, edit_ms)
                    if message is not None:
                        yield _sse(message, event.seq)
                        st.hub.delivered += 1
                if not replayed:
                    yield _sse(events.ready(last))
                    replayed = True
                upto = None
            while sub.queue and not sub.ended:
                event = sub.queue[0]
                if event is None:
                    yield _sse(events.resync())
                    return
                if event.seq > last + 1:
                    upto = event.seq - 1
                    break
                sub.queue.popleft()
                if event.seq <= last:
                    continue
                last = event.seq
                message = event.for_viewer(viewer, edit_ms)
                if message is not None:
                    yield _sse(message, event.seq)
                    st.hub.delivered += 1
            if sub.ended:
                return
            if upto is not None:
                continue
            left = deadline - loop.time()
            if left <= 0:
                return
            sub.wake.clear()
            try:
                await asyncio.wait_for(sub.wake.wait(), min(KEEPALIVE_SECONDS, left))
            except asyncio.TimeoutError:
                yield b": keepalive\n\n"
    finally:
        sub.ended = True
        if subscribed:
            st.hub.unsubscribe(tid, sub)
        st.live_limits.release(ip)


routes = [Route("/api/threads/{tid}/stream", stream_thread, methods=["GET"], name="live:stream")]
