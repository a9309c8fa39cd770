"""How uvicorn runs the app: its options (parser, loop, websocket limits, proxies), for `serve` and the demo alike."""

from __future__ import annotations

import os
from typing import Any

from .http_limits import BoundedHttpToolsProtocol
from .logs import log_config
from .settings import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return dict(
        loop="uvloop",
        # Said, not guessed: app.App's __call__ is a plain function returning Starlette's coroutine.
        interface="asgi3",
        # httptools, with each request head bounded (431 before it is buffered: http_limits.py).
        http=BoundedHttpToolsProtocol,
        # websockets-sansio is uvicorn's current implementation; compression off:
        # measured here it costs 60-75% more CPU per delivery and ~44 KB more per socket.
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=4096,  # a reader sends only its hello: anything bigger is closed with 1009
        ws_ping_interval=settings.ws_ping_seconds,
        ws_ping_timeout=settings.ws_ping_timeout_seconds,
        access_log=False,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        timeout_graceful_shutdown=5,
    )


def serve(settings: Settings) -> None:
    """`rejoinder serve`: uvicorn with `settings.workers` processes, each building the app from the environment."""
    import uvicorn

    os.environ["REJOINDER_SECRET_KEY"] = settings.secret_key  # every worker must hash alike
    uvicorn.run("rejoinder.asgi:app", host=settings.host, port=settings.port, workers=settings.workers,
                **uvicorn_options(settings))
