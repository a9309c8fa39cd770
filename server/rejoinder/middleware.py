"""Pure ASGI middleware: request id, body cap, CORS for registered origins, security headers, metrics."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs
from .errors import ApiError, redis_down, redis_out_of_reach

if TYPE_CHECKING:
    from .metrics import Metrics

# Headers every response carries. nosniff stops a browser from running a JSON
# or SVG answer as script; the referrer policy keeps page URLs from leaking.
BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, Authorization, Idempotency-Key, X-Rejoinder-Client"


BASE_HEADERS_RAW = tuple((k.encode(), v.encode()) for k, v in BASE_HEADERS.items())


async def _send_error(send: Send, error: ApiError) -> None:
    body = orjson.dumps(error.body())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Larger(NamedTuple):
    """One route that may take a bigger body than the cap, up to its own limit."""

    method: str
    path: re.Pattern[str]
    max_bytes: int
    code: str = "body_too_large"


class Edge:
    """Every HTTP request's way in and out, in one layer (one frame and one wrapped
    send per request, where four layers took four):

    - a request id (the client's X-Request-Id if it is short and plain, else a new
      one), in the logs and on the answer;
    - the body cap: 413 by Content-Length before reading and by counting while
      reading, so a client cannot make the server buffer a huge body. `larger`
      names the few routes (by method and full path) allowed a bigger cap of their
      own; every other request keeps `max_bytes`;
    - CORS on /api/ only for origins some site registered (each handler then checks
      the origin against its own site, so site A's origin cannot act on site B);
    - headers on every answer: nosniff (no JSON or SVG answer runs as script), the
      referrer policy (page URLs do not leak), and no caching of API answers (they
      can be personal);
    - the request counted and timed under its route template, never the raw path.

    Every answer made here (a preflight, a 413) gets the same headers and is counted
    like the app's own."""

    def __init__(self, app: ASGIApp, origins: Any, max_bytes: int, larger: Sequence[Larger] = (),
                 metrics: Callable[[], Metrics | None] = lambda: None) -> None:
        self.app = app
        self.origins = origins  # a callable returning the OriginIndex, set once the lifespan ran
        self.max_bytes = max_bytes
        self.larger = tuple(larger)
        self.metrics = metrics

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hand other scopes straight on: no frame of ours stays alive under a websocket.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    def _limit(self, scope: Scope) -> tuple[int, str]:
        for rule in self.larger:
            if scope["method"] == rule.method and rule.path.fullmatch(scope["path"]):
                return rule.max_bytes, rule.code
        return self.max_bytes, "body_too_large"

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started_at = time.perf_counter()
        request_id = origin = length = None
        preflight = False
        for name, value in scope["headers"]:  # the first of each, as Headers.get
            if name == b"origin":
                if origin is None:
                    origin = value.decode("latin-1")
            elif name == b"content-length":
                if length is None:
                    length = value.decode("latin-1")
            elif name == b"x-request-id":
                if request_id is None:
                    request_id = value.decode("latin-1")
            elif name == b"access-control-request-method":
                preflight = True
        if not (request_id and len(request_id) <= 64 and request_id.isascii()
                and request_id.replace("-", "").isalnum()):
            request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        logs.request_id.set(request_id)
        is_api = scope["path"].startswith("/api/")
        allowed = False
        status = 500
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                raw = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                for name, value in BASE_HEADERS_RAW:
                    if name not in present:
                        raw.append((name, value))
                if b"x-request-id" in present:
                    raw[:] = [(name, value) for name, value in raw if name.lower() != b"x-request-id"]
                raw.append((b"x-request-id", request_id.encode("latin-1")))
                if is_api:
                    if b"cache-control" not in present:
                        raw.append((b"cache-control", b"no-store"))
                    _add_vary_origin(raw, b"vary" in present)
                    if allowed:
                        raw.append((b"access-control-allow-origin", origin.encode("latin-1")))
                        raw.append((b"access-control-expose-headers", b"Retry-After, X-Request-Id"))
            await send(message)

        try:
            try:
                allowed = is_api and bool(origin) and await self.origins().allowed(origin)
            except Exception as exc:
                if not redis_out_of_reach(exc):
                    raise
                # The registered origins were never read and Redis is out of reach:
                # answer as the app would without its database.
                await _send_error(edge_send, redis_down(exc, self.metrics()))
                return
            if is_api and scope["method"] == "OPTIONS" and origin and preflight:
                if not allowed:
                    await _send_error(edge_send, ApiError("origin_not_allowed"))
                    return
                await edge_send({"type": "http.response.start", "status": 204, "headers": [
                    (b"access-control-allow-methods", CORS_METHODS.encode()),
                    (b"access-control-allow-headers", CORS_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                ]})
                await edge_send({"type": "http.response.body", "body": b""})
                return
            await self._bounded(scope, receive, edge_send, length, lambda: started)
        finally:
            metrics = self.metrics()
            if metrics is not None:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                method = scope["method"]
                metrics.requests.labels(route, method, str(status)).inc()
                metrics.latency.labels(route, method).observe(time.perf_counter() - started_at)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, length: str | None,
                       started: Callable[[], bool]) -> None:
        """The app, with the request body held to the route's cap."""
        max_bytes, code = self._limit(scope)
        if length is not None:
            if not (length.isascii() and length.isdigit()):
                await _send_error(send, ApiError("bad_request", "Content-Length is not a number."))
                return
            if int(length) > max_bytes:
                await _send_error(send, ApiError(code))
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            if not started():
                await _send_error(send, ApiError(code))


def _add_vary_origin(raw: list[tuple[bytes, bytes]], has_vary: bool) -> None:
    """Vary: Origin, joined to a Vary the answer already has (as MutableHeaders.add_vary_header)."""
    if has_vary:
        for i, (name, value) in enumerate(raw):
            if name.lower() == b"vary":
                raw[i] = (b"vary", value + b", Origin")
                return
    raw.append((b"vary", b"Origin"))


class _TooLarge(Exception):
    pass
