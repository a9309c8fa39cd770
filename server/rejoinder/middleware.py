"""Pure ASGI middleware: request id, security headers, CORS for registered origins, body cap."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Sequence
from typing import Any, NamedTuple

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs
from .errors import ApiError

# Headers every response carries. nosniff stops a browser from running a JSON
# or SVG answer as script; the referrer policy keeps page URLs from leaking.
BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Content-Type, Authorization, Idempotency-Key, X-Rejoinder-Client"


async def _send_error(send: Send, error: ApiError, extra: dict[str, str] | None = None) -> None:
    body = orjson.dumps(error.body())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    for k, v in {**BASE_HEADERS, **(extra or {})}.items():
        headers.append((k.encode(), v.encode()))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Request id, nosniff, referrer policy, and no caching of API answers (they can be personal)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hand other scopes straight on: no frame of ours stays alive under a websocket.
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                # The server's own send, before Starlette wraps it: live/wire.py writes
                # pre-encoded event frames through it (see there).
                scope["rejoinder.server_send"] = send
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = Headers(scope=scope).get("x-request-id", "")
        if not (0 < len(request_id) <= 64 and request_id.replace("-", "").isalnum()):
            request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        logs.request_id.set(request_id)
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in BASE_HEADERS.items():
                    headers.setdefault(k, v)
                headers["x-request-id"] = request_id
                if is_api:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Cors:
    """CORS only for origins some site registered. Each handler then checks the
    origin against its own site, so site A's origin cannot act on site B."""

    def __init__(self, app: ASGIApp, origins: Any) -> None:
        self.app = app
        self.origins = origins  # a callable returning the OriginIndex, set once the lifespan ran

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Hand other scopes straight on: no frame of ours stays alive under a websocket.
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = bool(origin) and await self.origins().allowed(origin)
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            if not allowed:
                await _send_error(send, ApiError("origin_not_allowed"))
                return
            await send({"type": "http.response.start", "status": 204, "headers": [
                (b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-methods", CORS_METHODS.encode()),
                (b"access-control-allow-headers", CORS_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
                (b"vary", b"Origin"),
            ]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.add_vary_header("Origin")
                if allowed:
                    out["access-control-allow-origin"] = origin
                    out["access-control-expose-headers"] = "Retry-After, X-Request-Id"
            await send(message)

        await self.app(scope, receive, send_with_cors)


class Larger(NamedTuple):
    """One route that may take a bigger body than the cap, up to its own limit."""

    method: str
    path: re.Pattern[str]
    max_bytes: int
    code: str = "body_too_large"


class BodyLimit:
    """Refuse bodies over the cap with 413, by Content-Length before reading and by
    counting while reading, so a client cannot make the server buffer a huge body.
    `larger` names the few routes (by method and full path) allowed a bigger cap of
    their own; every other request keeps `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Sequence[Larger] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

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
        max_bytes, code = self._limit(scope)
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            if not length.isdigit():
                await _send_error(send, ApiError("bad_request", "Content-Length is not a number."))
                return
            if int(length) > max_bytes:
                await _send_error(send, ApiError(code))
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_error(send, ApiError(code))


class _TooLarge(Exception):
    pass
