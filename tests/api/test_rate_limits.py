"""Write limits slide: a burst straddling a window's edge gets no more than the limit (a fixed window let
twice the limit through: the end of one window, then the start of the next)."""

from __future__ import annotations

import time
from typing import Iterator

import httpx
import pytest

from ..conftest import SITE, new_client_id
from ..support.servers import AppServer

WINDOW = 2
LIMIT = 5


@pytest.fixture
def limited(redis_server) -> Iterator[AppServer]:
    server = AppServer(redis_server.url, env={"REJOINDER_RATE_WINDOW_SECONDS": str(WINDOW),
                                              "REJOINDER_RATE_IP_WRITES": str(LIMIT)}).start()
    yield server
    server.stop()


def write(server: AppServer, tid: str, i: int) -> int:
    return httpx.post(f"{server.base}/api/threads/{tid}/comments", json={"text": f"burst {i}", "name": "Bo"},
                      headers={"X-Rejoinder-Client": new_client_id()}, timeout=10).status_code


def test_a_burst_at_a_windows_edge_gets_the_limit_not_twice_it(limited: AppServer) -> None:
    tid = httpx.get(f"{limited.base}/api/threads", params={"site": SITE, "page": "p-edge"}).json()["thread"]["id"]
    # Just before a window ends: the limit's worth, all accepted.
    while not WINDOW - 0.35 < time.time() % WINDOW < WINDOW - 0.25:
        time.sleep(0.01)
    before = [write(limited, tid, i) for i in range(LIMIT)]
    assert before == [201] * LIMIT
    # Just after the next one starts: a fixed window would take LIMIT more at once.
    while time.time() % WINDOW > 0.2:
        time.sleep(0.01)
    after = [write(limited, tid, LIMIT + i) for i in range(LIMIT)]
    assert after.count(201) <= 1 and after.count(429) >= LIMIT - 1, after
    # A whole window later the writes slid out: the reader may write again.
    time.sleep(WINDOW + 0.1)
    assert write(limited, tid, 99) == 201
