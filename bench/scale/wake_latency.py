"""How late the live hub's wake-up loop sees a sharded pub/sub message, one Valkey vs a cluster.

This is the loop of `rejoinder.live.hub.Hub._collect_wakeups` reduced to its client calls:
follow --threads threads' wake channels (SSUBSCRIBE), wait for a message with a 0.25 s
timeout (get_sharded_message on a cluster, get_message on one Valkey), and measure from
SPUBLISH to the loop seeing it. On a cluster, redis-py's async ClusterPubSub.get_sharded_message
polls the per-master pub/sub connections one after another, each with the whole timeout, so
a wake-up on one master waits while the loop sits on another.

    .venv/bin/python bench/scale/wake_latency.py            # both, the bare client call and the
                                                            # server's own Hub._next_message
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "server"))
sys.path.insert(0, str(HERE.parent))


async def _measure(url: str, cluster: bool, threads: int, messages: int, timeout: float,
                   use_hub: bool = False) -> dict[str, Any]:
    import redis.asyncio as aioredis
    from redis.asyncio.cluster import RedisCluster
    from rejoinder.store import keys

    if cluster:
        r: Any = RedisCluster.from_url(url.replace("+cluster", "", 1), decode_responses=True)
        await r.initialize()
    else:
        r = aioredis.Redis.from_url(url, decode_responses=True)
    ps = r.pubsub(ignore_subscribe_messages=True)

    def get(t: float) -> Any:
        if cluster:
            return ps.get_sharded_message(ignore_subscribe_messages=True, timeout=t)
        return ps.get_message(ignore_subscribe_messages=True, timeout=t)

    if use_hub:  # the server's own wait (Hub._next_message) instead of the bare client call
        from rejoinder.live.hub import Hub

        hub = Hub(r)
        hub._pubsub = ps
        get = hub._next_message  # noqa: F811

    tids = [f"{i:024x}" for i in range(threads)]
    try:
        if cluster:
            for t in tids:
                await ps.ssubscribe(keys.wake(t))
        else:
            await ps.ssubscribe(*[keys.wake(t) for t in tids])
        for _ in range(threads * 2):  # the subscribe confirmations
            await get(0.0)
        seen: dict[str, float] = {}

        async def loop() -> None:
            while True:
                m = await get(timeout)
                if m and m.get("type") == "smessage":
                    seen[m["channel"]] = time.monotonic()

        task = asyncio.create_task(loop())
        await asyncio.sleep(0.5)
        lat = []
        try:
            for i in range(messages):
                ch = keys.wake(tids[i % threads])
                seen.pop(ch, None)
                t0 = time.monotonic()
                await r.spublish(ch, str(i))
                while ch not in seen and time.monotonic() - t0 < 2.0:
                    await asyncio.sleep(0.001)
                lat.append(1000 * (seen.get(ch, t0 + 2.0) - t0))
                await asyncio.sleep(0.137)  # not in step with the loop's timeout
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        lat.sort()
        return {"messages": messages, "threads": threads, "shards": len(getattr(ps, "node_pubsub_mapping", {})) or 1,
                "p50_ms": round(statistics.median(lat), 1), "p90_ms": round(lat[int(0.9 * (len(lat) - 1))], 1),
                "max_ms": round(lat[-1], 1)}
    finally:
        await ps.aclose()
        await r.aclose()


def measure(kind: str, folder: Path, threads: int = 30, messages: int = 60, timeout: float = 0.25,
            use_hub: bool = False) -> dict[str, Any]:
    from scale.topology import Valkey

    v = Valkey(kind, folder).start()
    try:
        return asyncio.run(_measure(v.url, kind == "cluster", threads, messages, timeout, use_hub))
    finally:
        v.stop()
        v.cleanup()


if __name__ == "__main__":
    import tempfile

    for kind in ("single", "cluster"):
        for use_hub in (False, True):
            with tempfile.TemporaryDirectory() as d:
                print(kind, "Hub._next_message" if use_hub else "client call", measure(kind, Path(d) / "valkey",
                                                                                     use_hub=use_hub))
