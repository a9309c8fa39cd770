"""Prometheus metrics: HTTP requests by route and status, latencies, sockets, fan-out, drops, Redis errors."""

from __future__ import annotations

import hmac
import os
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError

# Latency buckets from 1 ms to 2.5 s: our requests are one or two Redis round trips.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self, live: Callable[[], Any]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("rejoinder_http_requests", "HTTP requests", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("rejoinder_http_request_seconds", "HTTP request latency", ["route", "method"],
                                 buckets=BUCKETS, registry=self.registry)
        self.redis_errors = Counter("rejoinder_redis_errors", "Requests that failed because Redis was unreachable",
                                    registry=self.registry)
        self.live = live
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        if self.multiprocess:
            # Each worker's live figures go to the shared files too (sync_live), so a scrape that one
            # worker answers adds up every worker's sockets, follows and deliveries.
            self._gauges = {name: Gauge(name, doc, registry=self.registry, multiprocess_mode="livesum")
                            for name, doc in LIVE_GAUGES.items()}
            self._counters = {name: Counter(name, doc, registry=self.registry) for name, doc in LIVE_COUNTERS.items()}
            self._counted = dict.fromkeys(LIVE_COUNTERS, 0)
        else:
            self.registry.register(_LiveCollector(live))

    def sync_live(self) -> None:
        """Copy this worker's live figures into the multiprocess files (every second: hub.py's
        counters stay plain integers, nothing is added to the fan-out path)."""
        if not self.multiprocess:
            return
        hub, limits = self.live()
        if hub is None:
            return
        values = _live_values(hub, limits)
        for name, gauge in self._gauges.items():
            gauge.set(values[name])
        for name, counter in self._counters.items():
            delta = values[name] - self._counted[name]
            if delta > 0:
                counter.inc(delta)
                self._counted[name] = values[name]

    def render(self) -> bytes:
        # With several workers, PROMETHEUS_MULTIPROC_DIR makes every scrape add them all up.
        if self.multiprocess:
            self.sync_live()
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


LIVE_GAUGES = {"rejoinder_websockets_open": "Open websockets on this node",
               "rejoinder_threads_followed": "Threads this node follows",
               "rejoinder_live_readers_behind": "Readers whose socket cannot take events as fast as they come "
                                                "(their events wait in their queue)",
               "rejoinder_live_events_waiting": "Events waiting in those readers' queues"}
LIVE_COUNTERS = {"rejoinder_events_delivered": "Events sent to readers",
                 "rejoinder_events_written_directly": "Events of those written as a pre-encoded frame straight to "
                                                      "the socket (the rest went through ASGI)",
                 "rejoinder_live_queue_drops": "Readers cut off because their queue was full"}


def _live_values(hub: Any, limits: Any) -> dict[str, float]:
    behind, waiting = hub.backlog()
    return {"rejoinder_websockets_open": limits.total, "rejoinder_threads_followed": len(hub.cursors),
            "rejoinder_live_readers_behind": behind, "rejoinder_live_events_waiting": waiting,
            "rejoinder_events_delivered": hub.delivered, "rejoinder_events_written_directly": hub.direct,
            "rejoinder_live_queue_drops": hub.dropped}


class _LiveCollector:
    """Read the hub's own counters at scrape time: nothing extra on the fan-out path."""

    def __init__(self, live: Callable[[], Any]) -> None:
        self.live = live

    def collect(self) -> Iterator[Any]:
        hub, limits = self.live()
        if hub is None:
            return
        values = _live_values(hub, limits)
        for name, doc in LIVE_GAUGES.items():
            yield GaugeMetricFamily(name, doc, value=values[name])
        for name, doc in LIVE_COUNTERS.items():
            yield CounterMetricFamily(name, doc, value=values[name])


async def get_metrics(request: Request) -> Response:
    """GET /metrics: Prometheus text format, for a scraper that brings REJOINDER_METRICS_TOKEN as a bearer token.

    Closed by default (404, as if there were nothing here): the metrics name every route, how busy the
    server is and how many readers it has, which is nobody else's business. Errors: not_found 404."""
    wanted = request.state.app.settings.metrics_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not wanted or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), wanted.encode()):
        raise ApiError("not_found")
    return Response(request.state.app.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
