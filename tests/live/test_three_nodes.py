"""Three server nodes on a 3-master Valkey Cluster: one thread read, posted to and watched
live across all of them, with one node killed mid-way."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from ..support.live import connect
from ..support.servers import AppServer


@pytest.mark.parametrize("redis_server", ["cluster"], indirect=True)
async def test_thread_across_three_nodes_survives_a_node_kill(redis_server, app_server, thread) -> None:
    nodes = [AppServer(redis_server.url).start() for _ in range(3)]
    origin = app_server.page_origin
    tid, total = thread["id"], 30
    try:
        readers = [await connect(n.ws_base, tid, origin=origin, client=f"reader-on-node-{i}-00") for i, n in enumerate(nodes)]
        for r in readers:
            assert (await r.next())["type"] == "ready"
        seen: list[list[int]] = [[], [], []]
        clients = [httpx.AsyncClient(base_url=n.base, headers={"X-Rejoinder-Client": "three-node-poster"}) for n in nodes]
        try:
            for i in range(total):
                alive = [c for j, c in enumerate(clients) if not (j == 1 and i >= total // 2)]
                r = await alive[i % len(alive)].post(f"/api/threads/{tid}/comments",
                                                     json={"text": f"comment {i}", "name": "Poster"})
                assert r.status_code == 201, r.text
                if i == total // 2:
                    nodes[1].kill()  # SIGKILL: no goodbye, its reader just loses the connection
            # Node 1's reader notices, then resumes on node 2 from the last event it had.
            try:
                while True:
                    message = await readers[1].next(5)
                    if "seq" in message:
                        seen[1].append(message["seq"])
            except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError):
                pass
            readers[1] = await connect(nodes[2].ws_base, tid, origin=origin, since=seen[1][-1] if seen[1] else 0,
                                       epoch=thread["epoch"], client="reader-on-node-1-00")
            for k, reader in enumerate(readers):
                while len(seen[k]) < total:
                    message = await reader.next(10)
                    if "seq" in message:
                        seen[k].append(message["seq"])
            for k in range(3):
                assert seen[k] == list(range(1, total + 1)), f"reader {k} saw {seen[k]}"
            # The thread reads the same through every surviving node.
            pages = [(await c.get(f"/api/threads/{tid}")).json() for j, c in enumerate(clients) if j != 1]
            assert all(p["thread"]["count"] == total for p in pages)
            assert pages[0]["comments"] == pages[1]["comments"]
        finally:
            for c in clients:
                await c.aclose()
            for r in readers:
                await r.close()
    finally:
        for n in nodes:
            n.stop()
