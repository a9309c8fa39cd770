"""An anonymous flood of every route a stranger can reach, and a census of what it left in Valkey:
for tests/test_flood.py and bench/flood.py."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import orjson
import redis as redis_sync
import websockets

from .login import FROM_FRAME, secret_pair
from .servers import AppServer

SITE = "demo"
ROUNDS = 120  # each round: 13 requests, one of every kind, so 1,560 in all (and 12 live sockets)


def census(client: redis_sync.Redis) -> tuple[int, int, int]:
    keys = list(client.scan_iter(count=1000))
    lasting = sum(1 for k in keys if client.ttl(k) == -1)
    return len(keys), lasting, int(client.info("memory")["used_memory"])


async def flood(server: AppServer) -> dict[int, int]:
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as c:
        seed = (await c.get("/api/threads", params={"site": SITE, "page": "https://blog.example/seed"})).json()
        tid, epoch = seed["thread"]["id"], seed["thread"]["epoch"]
        for i in range(ROUNDS):
            me = {"X-Rejoinder-Client": secrets.token_urlsafe(16)}  # a fresh reader every time
            calls = [
                c.get("/api/threads", params={"site": SITE, "page": f"https://blog.example/{secrets.token_hex(8)}",
                                              "title": "t" * 300, "url": "https://evil.example/phish"}),
                c.post(f"/api/threads/{tid}/comments", headers=me,
                       json={"text": f"flood {i} {secrets.token_hex(4)}", "name": "Flo", "email": f"v{i}@mail.example",
                             "notify": True}),
                c.put(f"/api/threads/{tid}/like", headers=me),
                c.put(f"/api/threads/{tid}/comments/1/like", headers=me),
                c.get(f"/api/threads/{tid}/comments/1/replies", headers=me),
                c.get("/api/counts", params={"site": SITE, "page": [f"p{j}" for j in range(20)]}),
                c.get(f"/auth/github/start", params={"site": SITE, "h": secret_pair()[1]}, headers=FROM_FRAME),
                c.post("/api/auth/handover", json={"secret": secrets.token_urlsafe(32)}),
                c.get(f"/api/avatars/{secrets.token_hex(10)}.svg"),
                c.get("/api/notify/confirm", params={"token": secrets.token_urlsafe(40)}),
                c.post("/api/notify/unsubscribe", params={"token": secrets.token_urlsafe(40)}),
                c.get(f"/api/sites/{SITE}"),
                c.get("/frame", params={"site": SITE, "page": f"https://blog.example/{secrets.token_hex(8)}"}),
            ]
            for r in await asyncio.gather(*calls):
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if i % 10 == 0:  # and a live socket now and then, saying hello and leaving
                url = f"{server.ws_base}/api/threads/{tid}/live?since=0&epoch={epoch}"
                async with websockets.connect(url, origin=server.page_origin, open_timeout=5) as ws:
                    await ws.send(orjson.dumps({"type": "hello", "client": me["X-Rejoinder-Client"]}).decode())
    return statuses


