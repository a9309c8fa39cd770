"""What the local Mastodon and Bluesky servers share: a rate-limit window that answers with the real
headers, a log of the requests they got, a picture for avatars, and failure modes a test switches on
(garbage, slow, failing, huge, rate-limited) through /_admin."""

from __future__ import annotations

import argparse
import asyncio
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def png(rgb: tuple[int, int, int] = (90, 120, 200)) -> bytes:
    """A real 8x8 PNG of one colour."""
    raw = b"".join(b"\x00" + bytes(rgb) * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class Control:
    """The server's switches: its mode, its rate-limit window, and what it was asked."""

    mode: str = "ok"  # ok | garbage | slow | fail | huge | rate_limited | wrong_shape
    limit: int = 300
    window: float = 300.0
    spent: int = 0
    window_start: float = field(default_factory=time.time)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def count(self) -> tuple[int, float]:
        now = time.time()
        if now - self.window_start >= self.window:
            self.window_start, self.spent = now, 0
        self.spent += 1
        return max(0, self.limit - self.spent), self.window_start + self.window


def routes(control: Control, reset: Callable[[], None]) -> list[Route]:
    async def set_mode(request: Request) -> JSONResponse:
        body = await request.json()
        control.mode = body.get("mode", control.mode)
        if "limit" in body:
            control.limit, control.window = int(body["limit"]), float(body.get("window", control.window))
            control.spent, control.window_start = 0, time.time()
        return JSONResponse({"mode": control.mode})

    async def get_requests(request: Request) -> JSONResponse:
        return JSONResponse(control.requests)

    async def clear(request: Request) -> JSONResponse:
        reset()
        control.mode, control.limit, control.window, control.spent = "ok", 300, 300.0, 0
        control.requests.clear()
        return JSONResponse({"ok": True})

    return [Route("/_admin/mode", set_mode, methods=["POST"]),
            Route("/_admin/requests", get_requests),
            Route("/_admin/reset", clear, methods=["POST"])]


async def misbehave(control: Control, request: Request, headers: dict[str, str]) -> Response | None:
    """The answer of a server that is not well, when a test asked for one; None when it is well."""
    control.requests.append({"path": request.url.path, "query": str(request.query_params), "at": time.time()})
    if control.mode == "slow":  # until the test switches it off (at most 30 s)
        for _ in range(300):
            if control.mode != "slow":
                break
            await asyncio.sleep(0.1)
    if control.mode == "fail":
        return Response("upstream exploded", status_code=502, media_type="text/html", headers=headers)
    if control.mode == "garbage":
        return Response("<html>not json{", status_code=200, media_type="application/json", headers=headers)
    if control.mode == "wrong_shape":
        return JSONResponse([1, "two", {"three": None}], headers=headers)
    if control.mode == "huge":
        return Response(b'{"pad": "' + b"x" * (3 * 1024 * 1024) + b'"}', media_type="application/json",
                        headers=headers)
    if control.mode == "rate_limited":
        return JSONResponse({"error": "Too many requests"}, status_code=429, headers=headers)
    return None


def serve(app: Starlette) -> None:
    """Run a stand-in on 127.0.0.1:--port (a request left waiting by "slow" does not hold up its stop)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", timeout_graceful_shutdown=2)
