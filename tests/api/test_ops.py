"""Operations: health and readiness, Prometheus metrics, structured JSON logs."""

from __future__ import annotations

import contextlib
import json
import time
import tempfile
from pathlib import Path

import httpx
import redis as redis_sync

from rejoinder.embedded import EmbeddedRedis

from ..conftest import register_site
from ..support.api import post
from ..support.servers import SCRAPE, AppServer


def test_health_and_readiness(api) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}


def test_metrics_are_closed_to_anyone_without_the_token(api) -> None:
    """/metrics names every route, how busy the server is and how many readers it has: on the API's
    own port it used to answer anyone."""
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic " + "x" * 20}):
        r = api.get("/metrics", headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert "rejoinder_http_requests_total" not in r.text
    assert api.get("/metrics", headers=SCRAPE).status_code == 200


def test_metrics_without_a_configured_token_are_closed(redis_server) -> None:
    server = AppServer(redis_server.url, env={"REJOINDER_METRICS_TOKEN": ""}).start()
    try:
        assert httpx.get(f"{server.base}/metrics", headers={"Authorization": "Bearer x"}).status_code == 404
        assert httpx.get(f"{server.base}/metrics").status_code == 404
    finally:
        server.stop()


def test_metrics_count_requests_by_route_template(api, thread) -> None:
    post(api, thread["id"], "counted")
    api.get(f"/api/threads/{thread['id']}")
    text = api.get("/metrics", headers=SCRAPE).text
    assert 'rejoinder_http_requests_total{method="POST",route="/api/threads/{tid}/comments",status="201"}' in text
    assert 'rejoinder_http_request_seconds_bucket{le="0.005",method="GET",route="/api/threads/{tid}"}' in text
    assert thread["id"] not in text  # never raw paths: bounded label sets
    for name in ("rejoinder_websockets_open", "rejoinder_events_delivered_total", "rejoinder_live_queue_drops_total",
                 "rejoinder_live_readers_behind", "rejoinder_live_events_waiting",
                 "rejoinder_redis_errors_total"):
        assert name in text


def test_not_ready_without_redis_and_logs_are_json_with_request_id(tmp_path: Path) -> None:
    db = EmbeddedRedis(tmp_path / "db", password="pw").start()
    node = AppServer(db.url, env={"REJOINDER_LOG_LEVEL": "info"}).start()
    fresh = AppServer(db.url).start()  # never reads the registered origins before Redis goes
    try:
        client = redis_sync.Redis.from_url(db.url, decode_responses=True)
        register_site(client, "blog", [node.page_origin, fresh.page_origin])
        client.close()
        with httpx.Client(base_url=node.base, timeout=10) as c:
            page = {"Origin": node.page_origin}
            assert c.get("/api/counts", params={"site": "blog", "page": "p"}, headers=page).status_code == 200
            db.kill()
            assert c.get("/healthz").status_code == 200
            assert c.get("/readyz").status_code == 503
            r = c.get("/api/threads", params={"site": "demo", "page": "p"}, headers={"X-Request-Id": "req-abc-123"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
            assert r.headers["x-request-id"] == "req-abc-123"
            assert "rejoinder_redis_errors_total 1.0" in c.get("/metrics", headers=SCRAPE).text
            # The origins read before Redis went still hold, so the page can read its 503.
            r = c.get("/api/counts", params={"site": "blog", "page": "p"}, headers={**page, "X-Request-Id": "req-page"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
            assert r.headers["access-control-allow-origin"] == node.page_origin and r.headers["retry-after"] == "2"
        with httpx.Client(base_url=fresh.base, timeout=10) as c:
            # A server that never read them refuses a page's request before any handler runs.
            r = c.get("/api/counts", params={"site": "blog", "page": "p"},
                      headers={"Origin": fresh.page_origin, "X-Request-Id": "req-origin-1"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
            assert r.headers["retry-after"] == "2" and r.headers["x-request-id"] == "req-origin-1"
            assert "access-control-allow-origin" not in r.headers
            text = c.get("/metrics", headers=SCRAPE).text
            assert "rejoinder_redis_errors_total 1.0" in text
            assert 'rejoinder_http_requests_total{method="GET",route="unmatched",status="503"} 1.0' in text
    finally:
        node.stop()
        fresh.stop()
    lines = [json.loads(line) for line in node.output().splitlines() if line.startswith("{")]
    assert any(entry.get("request_id") == "req-abc-123" and entry["level"] == "warning" for entry in lines), lines
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)


def test_live_metrics_survive_several_workers(redis_server, redis_client, tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR (several workers), the scrape used to lose the live metrics."""
    import websockets.sync.client as ws_client

    server = AppServer(redis_server.url, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}).start()
    try:
        register_site(redis_client, "demo", [server.page_origin])
        with httpx.Client(base_url=server.base, timeout=10) as c:
            thread = c.get("/api/threads", params={"site": "demo", "page": "p-metrics"}).json()["thread"]
            url = f"{server.ws_base}/api/threads/{thread['id']}/live?since=0&epoch={thread['epoch']}"
            with contextlib.ExitStack() as stack:
                for _ in range(4):
                    stack.enter_context(ws_client.connect(url, origin=server.page_origin))
                deadline = time.monotonic() + 10
                while True:
                    text = c.get("/metrics", headers=SCRAPE).text
                    opened = sum(float(line.split()[-1]) for line in text.splitlines()
                                 if line.startswith("rejoinder_websockets_open"))
                    if opened == 4 or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                assert opened == 4, text
                assert "rejoinder_events_delivered_total" in text and "rejoinder_http_requests_total" in text
                assert "rejoinder_live_events_waiting" in text
    finally:
        server.stop()
