"""A write is all or nothing: connections killed and the database killed mid-load leave no half-written comment."""

from __future__ import annotations

import concurrent.futures
import tempfile
import threading
import time
from pathlib import Path

import httpx
import redis as redis_sync

from rejoinder.embedded import EmbeddedRedis

from ..conftest import SITE, register_site
from ..support.invariants import thread_problems
from ..support.servers import AppServer


def _hammer(base: str, tid: str, count: int) -> list[int]:
    """Post `count` comments from 4 threads; return the ids the server confirmed."""
    confirmed: list[int] = []

    def one(i: int) -> None:
        with httpx.Client(base_url=base, timeout=10, headers={"X-Rejoinder-Client": f"hammer-client-{i:06d}"}) as c:
            try:
                r = c.post(f"/api/threads/{tid}/comments", json={"text": f"load {i}", "name": "Load"})
            except httpx.HTTPError:
                return
            if r.status_code == 201:
                confirmed.append(r.json()["comment"]["id"])
            else:
                assert r.status_code == 503, r.text  # Redis away: a clear, retryable refusal

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(count)))
    return confirmed


def test_killed_connections_leave_no_half_written_comment(app_server, redis_client, api) -> None:
    tid = api.get("/api/threads", params={"site": SITE, "page": "atomic"}).json()["thread"]["id"]
    stop = threading.Event()

    def killer() -> None:
        # Cut every other client's connection again and again while comments are written.
        while not stop.is_set():
            redis_client.client_kill_filter(_type="normal", skipme=True)
            time.sleep(0.005)

    t = threading.Thread(target=killer)
    t.start()
    try:
        confirmed = _hammer(app_server.base, tid, 150)
    finally:
        stop.set()
        t.join()
    assert thread_problems(redis_client, tid) == []
    stored = redis_client.hkeys(f"rj:{{t:{tid}}}:comments")
    assert set(confirmed) <= {int(c) for c in stored}, "a confirmed comment was lost"


def test_database_killed_mid_write_restarts_consistent() -> None:
    """SIGKILL the database while comments pour in; after restart from its append-only
    file every thread is whole: each script's writes were all kept or all dropped."""
    folder = Path(tempfile.mkdtemp(prefix="rejoinder-kill-"))
    db = EmbeddedRedis(folder, password="pw").start()
    app = AppServer(db.url).start()
    client = redis_sync.Redis.from_url(db.url, decode_responses=True)
    try:
        register_site(client, SITE, [app.page_origin])
        client.config_set("appendfsync", "always")  # every acknowledged write is on disk
        with httpx.Client(base_url=app.base, headers={"X-Rejoinder-Client": "k" * 20}) as c:
            tid = c.get("/api/threads", params={"site": SITE, "page": "killed"}).json()["thread"]["id"]
        result: list[list[int]] = []
        t = threading.Thread(target=lambda: result.append(_hammer(app.base, tid, 200)))
        t.start()
        deadline = time.monotonic() + 20
        while client.hlen(f"rj:{{t:{tid}}}:comments") < 30 and time.monotonic() < deadline:
            time.sleep(0.01)  # kill mid-stream, once the load is well under way
        db.kill()
        t.join()
        db = EmbeddedRedis(folder, port=db.port, password="pw").start()
        client = redis_sync.Redis.from_url(db.url, decode_responses=True)
        assert thread_problems(client, tid) == []
        stored = {int(c) for c in client.hkeys(f"rj:{{t:{tid}}}:comments")}
        assert stored, "the load did not reach the database before the kill"
        assert set(result[0]) <= stored, "a comment confirmed to its author was lost"
    finally:
        app.stop()
        db.stop()
