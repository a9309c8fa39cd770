"""create_app(settings): the lifespan that owns shared resources, middleware, and every area's routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from typing import Any, AsyncIterator

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.connection import Connection as RedisConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.utils import HIREDIS_AVAILABLE
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Mount, Route

from . import __version__, admin_pages, frame
from .api import admin, admin_moving, admin_overview, admin_sso, admin_porting, admin_webhook, auth, avatars, bluesky_login, comments, feeds, notify, openapi, passkeys, popup, sites, threads
from .assets import Assets, static_dir
from .auth import providers
from .store.logins import LoginStore
from .store.passkeys import PasskeyStore
from .store.sessions import SessionStore
from .store.users import UserStore
from .errors import ApiError, error_response, handle_api_error, redis_down, redis_out_of_reach
from .live import admin_socket
from .live.admin_feeds import AdminFeeds
from .live import socket as live_socket
from .live import stream as live_stream
from .live.hub import Hub, Limits
from .metrics import Metrics, get_metrics
from .notify.worker import Worker
from .middleware import Edge
from .settings import Settings
from .state import State
from .store.admins import AdminStore
from .store.bans import BanStore
from .store.comments import CommentStore
from .store.moderation import ModerationStore
from .store.queue import ModerationQueue
from .store.feed import FeedStore
from .store.notify import NotifyStore
from .store.subscriptions import SubscriptionStore
from .store.stats import StatsStore
from .store.moving import MovingStore
from .store.remote import RemoteStore
from .store.webhooks import WebhookStore
from .store.porting import PortingStore
from .store.origins import OriginIndex
from .store.ratelimit import RateLimiter
from .store.steps import Steps
from .store.scripts import Scripts
from .store.sites import SiteStore

log = logging.getLogger("rejoinder")


CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


# Longer than any command should take; then the request gets a 503 (redis_unavailable).
POOL_WAIT_SECONDS = 5.0


class _Connection(RedisConnection):
    """redis-py's asyncio connection packs each command in Python (about 5% of a
    comment's CPU here); its sync one uses hiredis, a dependency of ours, when it
    is installed. The same bytes, packed in C. Used for redis:// URLs only:
    rediss:// and unix:// keep redis-py's own classes, and so does the cluster
    client (it fixes its class)."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return self._packer.pack(*args)


def connect(settings: Settings) -> aioredis.Redis:
    """A client for a single Redis, or for a Redis/Valkey Cluster when the URL says
    redis+cluster:// (any node's address; the rest are discovered)."""
    url = settings.redis_url
    if url.startswith(CLUSTER_SCHEMES):
        return RedisCluster.from_url(url.replace("+cluster", "", 1), decode_responses=True,  # type: ignore[return-value]
                                     socket_keepalive=True)
    # redis-py retries a failed command or connect 3 times, 10 ms to 250 ms apart:
    # enough to ride over a dropped connection or a failover, short enough that
    # with Redis down a request gets its 503 in well under a second instead of
    # hanging. Every write here is safe to repeat (creates carry an idempotency
    # key). uvloop can also surface a connection cut during the handshake as
    # RuntimeError: retry that too. The pool waits for a free connection instead
    # of failing: a burst of reconnecting readers queues for a moment rather than
    # getting 503s (redis-py's plain pool raises at its cap).
    pool = BlockingConnectionPool.from_url(
        url, decode_responses=True, health_check_interval=30, socket_keepalive=True,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), 3), retry_on_error=[RuntimeError],
        max_connections=settings.redis_max_connections, timeout=POOL_WAIT_SECONDS,
        **({"connection_class": _Connection} if url.startswith("redis://") and HIREDIS_AVAILABLE else {}))
    return aioredis.Redis.from_pool(pool)


def connect_binary(settings: Settings) -> aioredis.Redis:
    """A client that returns bytes, for backups (DUMP payloads are binary)."""
    url = settings.redis_url
    if url.startswith(CLUSTER_SCHEMES):
        return RedisCluster.from_url(url.replace("+cluster", "", 1))  # type: ignore[return-value]
    return aioredis.Redis.from_url(url)


def build_state(settings: Settings, redis: aioredis.Redis) -> State:
    hub, limits = Hub(redis, presence=settings.live_presence), Limits()
    scripts, steps = Scripts(redis), Steps(redis)
    return State(
        settings=settings,
        redis=redis,
        sites=SiteStore(redis, settings.site_cache_seconds),
        comments=CommentStore(redis, scripts, events_maxlen=settings.events_maxlen,
                              max_depth=settings.max_depth, idempotency_seconds=settings.idempotency_seconds,
                              steps=steps),
        feed=FeedStore(redis, steps=steps),
        sessions=SessionStore(redis, settings.session_days * 24 * 3600),
        limiter=RateLimiter(redis, settings.rate_window_seconds, steps),
        origins=OriginIndex(redis, settings.site_cache_seconds),
        hub=hub,
        live_limits=limits,
        metrics=Metrics(lambda: (hub, limits)),
        oauth=providers.registry(settings, redis),
        users=UserStore(redis),
        logins=LoginStore(redis),
        passkeys=PasskeyStore(redis),
        admins=AdminStore(redis),
        bans=BanStore(redis),
        moderation=ModerationStore(redis, scripts, events_maxlen=settings.events_maxlen),
        queue=ModerationQueue(redis),
        subscriptions=SubscriptionStore(redis, settings.confirm_link_hours * 3600),
        notify=NotifyStore(redis),
        webhooks=WebhookStore(redis),
        porting=PortingStore(redis, events_maxlen=settings.events_maxlen, max_depth=settings.max_depth),
        admin_feeds=AdminFeeds(redis),
        stats=StatsStore(redis),
        moving=MovingStore(redis, events_maxlen=settings.events_maxlen),
        remote=RemoteStore(redis, scripts, events_maxlen=settings.events_maxlen),
    )


def close_sockets_on_exit(hub: Hub) -> None:
    """On SIGTERM/SIGINT, close every socket with 1001 before uvicorn's own shutdown
    (which would send 1012), so readers reconnect to another node at once."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        async def close_then_exit(sig: int = sig, previous: Any = previous) -> None:
            try:
                await hub.close_all(1001)
            finally:
                previous(sig, None)

        def handler(sig: int, frame: Any, close_then_exit: Any = close_then_exit) -> None:
            loop.call_soon_threadsafe(lambda: loop.create_task(close_then_exit()))

        signal.signal(sig, handler)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    error = ApiError(code, headers=dict(exc.headers or {}))  # a 405 carries the route's Allow
    error.status = exc.status_code
    return error_response(error)


async def on_redis_down(request: Request, exc: Exception) -> JSONResponse:
    return error_response(redis_down(exc, request.state.app.metrics))


async def on_client_error(request: Request, exc: Exception) -> JSONResponse:
    if redis_out_of_reach(exc):  # raised inside the Redis client: its trouble, not a bug of ours
        return await on_redis_down(request, exc)
    return await on_crash(request, exc)


async def on_crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # Sent by Starlette's outermost layer, past the Edge middleware: its own headers,
    # with the request id the log line carries, for matching a report to it.
    return JSONResponse({"error": {"code": "internal", "message": "Something went wrong on our side."}},
                        status_code=500, headers={
                            "x-request-id": request.scope.get("state", {}).get("request_id", ""),
                            "x-content-type-options": "nosniff", "cache-control": "no-store"})


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

HOME = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rejoinder</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/login.css"></head><body><main><h1>Rejoinder</h1>
<p>This server runs <strong>Rejoinder</strong> {version}, the comment system of the blogs that embed it.
There is nothing to read here: comments appear under the blog posts themselves.</p>
<ul><li><a href="/admin/">Moderation dashboard</a> (for the blogs' admins)</li>
<li><a href="/api/openapi.json">API description</a> (OpenAPI)</li></ul></main></body></html>"""


async def home(request: Request) -> Response:
    """GET /: the demo's blog post when the demo runs; else a small page that says what this server is."""
    if request.state.app.settings.demo_page:
        return RedirectResponse("/demo/")
    return HTMLResponse(HOME.format(version=__version__), headers={
        "content-security-policy": "default-src 'none'; style-src 'self'; img-src data:; frame-ancestors 'none'"})


async def no_such_endpoint(request: Request) -> JSONResponse:
    """Any other /api path or method: a JSON 404, or a 405 with the path's methods in Allow."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if route is not request.scope.get("route") and route.matches(request.scope)[0] == Match.PARTIAL:
            allowed |= set(getattr(route, "methods", None) or ())
    if allowed:
        return error_response(ApiError("method_not_allowed", headers={"Allow": ", ".join(sorted(allowed))}))
    return error_response(ApiError("not_found"))


async def _sync_live_metrics(state: State) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, this worker's sockets and deliveries reach the shared files each second."""
    while True:
        state.metrics.sync_live()
        await asyncio.sleep(1.0)


class App(Starlette):
    """Starlette, keeping the server's own `send` in the scope before any layer wraps it:
    live/wire.py writes pre-encoded websocket frames and event-stream chunks through it."""

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        # Not async: no frame of ours stays alive under a websocket or a stream.
        scope["rejoinder.server_send"] = send
        return super().__call__(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    holder: dict[str, State] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, State]]:
        redis = connect(settings)
        state = build_state(settings, redis)
        holder["state"] = state
        await state.hub.start()
        await state.admin_feeds.start()
        # Mail and webhooks: every node runs the worker; a lease per site makes one consume it.
        worker = Worker(state) if settings.worker_in_server else None
        if worker is not None:
            await worker.start()
        if threading.current_thread() is threading.main_thread():
            close_sockets_on_exit(state.hub)
        live_metrics = asyncio.create_task(_sync_live_metrics(state)) if state.metrics.multiprocess else None
        try:
            yield {"app": state}
        finally:
            if live_metrics is not None:
                live_metrics.cancel()
            if worker is not None:
                await worker.stop()
            await state.admin_feeds.stop()
            await state.hub.stop()
            await redis.aclose()

    async def healthz(request: Request) -> JSONResponse:
        """GET /healthz: the process is up (no dependency checked)."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        """GET /readyz: Redis answers and our scripts are loaded; 503 otherwise."""
        state = holder["state"]
        try:
            await state.redis.ping()
            await state.comments.scripts.load()
            await state.comments.steps.load()
        except Exception as exc:  # any failure means: do not send traffic here yet
            log.warning("not ready: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    routes = [
        Route("/healthz", healthz, methods=["GET"], name="ops:healthz"),
        Route("/readyz", readyz, methods=["GET"], name="ops:readyz"),
        Route("/metrics", get_metrics, methods=["GET"], name="ops:metrics"),
        *threads.routes, *comments.routes, *sites.routes, *avatars.routes, *openapi.routes, *frame.routes,
        *live_socket.routes, *live_stream.routes, *auth.routes, *passkeys.routes, *admin.routes, *admin_webhook.routes, *admin_porting.routes,
        *admin_overview.routes, *admin_moving.routes, *admin_sso.routes, *feeds.routes, *feeds.page_routes,
        *admin_socket.routes, *admin_pages.routes,
        *notify.routes,
        Mount("/auth", routes=passkeys.popup_routes + bluesky_login.popup_routes + auth.popup_routes, middleware=[Middleware(
            SessionMiddleware, secret_key=settings.secret_key, session_cookie="rejoinder_login", max_age=600,
            same_site="lax", https_only=settings.public_url.startswith("https://")), Middleware(popup.Language)]),
        Route("/api/{rest:path}", no_such_endpoint, methods=ALL_METHODS, name="api:missing"),
        Route("/", home, methods=["GET"], name="home"),
        Mount("/", Assets(directory=static_dir(), html=True, check_dir=False), name="static"),
    ]
    return App(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(Edge, origins=lambda: holder["state"].origins, max_bytes=settings.max_body_bytes,
                       larger=admin_porting.body_limits(settings),
                       metrics=lambda: holder["state"].metrics if "state" in holder else None),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: on_http_error,
            RedisConnectionError: on_redis_down,
            RedisTimeoutError: on_redis_down,
            RuntimeError: on_client_error,
            AttributeError: on_client_error,
            Exception: on_crash,
        },
    )
