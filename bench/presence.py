"""What "N reading now" costs the server: the same readers joining one thread, staying, and leaving,
with presence on and with it off (REJOINDER_LIVE_PRESENCE=False), same machine, back to back.

For each run: the server's CPU (its process tree) while N readers join, while they sit for a while
(presence refreshes its counts every few seconds), and while they leave; the presence messages the
readers received; and how long until every reader was told the full count. The difference between
the two runs is presence's cost; divided by N, its cost per reader.

    .venv/bin/python bench/presence.py [--readers 500 2000] [--idle 20] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

sys.path.insert(0, str(harness.ROOT / "server"))
import websockets  # noqa: E402

from rejoinder.embedded import EmbeddedRedis  # noqa: E402

VENV_BIN = harness.ROOT / ".venv" / "bin"
SITE = "bench"
ORIGIN = "http://bench.example"


class Server:
    def __init__(self, redis_url: str, folder: Path, presence: bool) -> None:
        self.port = harness.free_port()
        self.secret = secrets.token_hex(16)
        env = harness.rejoinder_env(redis_url, f"http://127.0.0.1:{self.port}", self.secret)
        env["REJOINDER_LIVE_PRESENCE"] = "True" if presence else "False"
        env["REJOINDER_LIVE_PER_IP"] = "100000"
        env["REJOINDER_LIVE_PER_NODE"] = "100000"
        env["REJOINDER_RATE_IP_THREADS"] = "100000"
        self.log = (folder / f"server-{self.port}.log").open("wb")
        self.proc = subprocess.Popen([str(VENV_BIN / "rejoinder"), "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        harness.wait_http(self.port, "/healthz", self.proc)
        self.pids = harness.tree(self.proc.pid)

    def cpu(self) -> float:
        return harness.cpu_seconds(self.pids)

    def stop(self) -> None:
        harness.stop_tree(self.proc, self.pids)
        self.log.close()


async def run(server: Server, tid: str, readers: int, idle: float, presence: bool) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/api/threads/{tid}/live?since=0"
    told: list[list[int]] = [[] for _ in range(readers)]
    sockets: list[Any] = []
    full_at: list[float] = []

    async def listen(i: int, ws: Any) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "presence":
                    told[i].append(message["readers"])
                    if message["readers"] == readers and len(full_at) < readers:
                        full_at.append(time.monotonic())
        except websockets.ConnectionClosed:
            pass

    tasks = []
    cpu0, t0 = server.cpu(), time.monotonic()
    for start in range(0, readers, 100):
        batch = await asyncio.gather(*(websockets.connect(url, origin=ORIGIN, open_timeout=30, max_queue=None)
                                       for _ in range(start, min(readers, start + 100))))
        for j, ws in enumerate(batch):
            await ws.send(json.dumps({"type": "hello", "client": f"bench-reader-{start + j:08d}", "token": None}))
            sockets.append(ws)
            tasks.append(asyncio.create_task(listen(start + j, ws)))
    joined = time.monotonic() - t0
    # Settle: every reader told the full count (or a few seconds more when presence is off).
    deadline = time.monotonic() + 20
    while presence and time.monotonic() < deadline and len(full_at) < readers:
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)
    join_cpu = server.cpu() - cpu0
    join_messages = sum(len(t) for t in told)
    everyone_told = (max(full_at) - t0) if len(full_at) == readers else None

    cpu1 = server.cpu()
    before_idle = sum(len(t) for t in told)
    await asyncio.sleep(idle)
    idle_cpu = server.cpu() - cpu1
    idle_messages = sum(len(t) for t in told) - before_idle

    cpu2 = server.cpu()
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(3)
    leave_cpu = server.cpu() - cpu2
    return {"readers": readers, "join_s": round(joined, 2), "join_cpu_s": round(join_cpu, 3),
            "join_messages": join_messages, "everyone_told_s": None if everyone_told is None else round(everyone_told, 2),
            "idle_s": idle, "idle_cpu_s": round(idle_cpu, 3), "idle_messages": idle_messages,
            "leave_cpu_s": round(leave_cpu, 3)}


def open_thread(port: int) -> str:
    status, body = harness.http_get(port, f"/api/threads?site={SITE}&page=presence-bench&title=Bench",
                                    headers={"Origin": ORIGIN})
    assert status == 200, body
    return json.loads(body)["thread"]["id"]


def register(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.hset(f"rj:{{s:{SITE}}}:site", mapping={"id": SITE, "name": "Bench", "origins": json.dumps([ORIGIN]),
                                                   "moderation": "publish", "created": 1, "blocklist": "[]"})
    client.sadd("rj:sites", SITE)
    client.sadd("rj:origins", ORIGIN)
    client.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readers", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--idle", type=float, default=20.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="rejoinder-presence-"))
    db = EmbeddedRedis(folder / "valkey").start()
    rows = []
    try:
        register(db.url)
        for readers in args.readers:
            # Off, on, off, on: each configuration's better run counts (the first start of a server is
            # slower whatever it does).
            for presence in (False, True, False, True):
                db_client_flush(db.url)
                register(db.url)
                server = Server(db.url, folder, presence)
                try:
                    tid = open_thread(server.port)
                    harness.log(f"{readers} readers, presence {'on' if presence else 'off'}")
                    row = asyncio.run(run(server, tid, readers, args.idle, presence))
                    row["presence"] = presence
                    rows.append(row)
                    harness.log(json.dumps(row))
                finally:
                    server.stop()
    finally:
        db.stop()
    lines = ["| readers | presence | join: server CPU | presence messages | everyone told after | idle "
             f"{args.idle:.0f} s: server CPU | leave: server CPU |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['readers']:,} | {'on' if r['presence'] else 'off'} | {r['join_cpu_s'] * 1000:,.0f} ms | "
                     f"{r['join_messages'] + r['idle_messages']:,} | "
                     f"{'-' if r['everyone_told_s'] is None else str(r['everyone_told_s']) + ' s'} | "
                     f"{r['idle_cpu_s'] * 1000:,.0f} ms | {r['leave_cpu_s'] * 1000:,.0f} ms |")
    per_reader = []
    best = {}
    for r in rows:
        key = (r["readers"], r["presence"])
        if key not in best or r["join_cpu_s"] + r["idle_cpu_s"] < best[key]["join_cpu_s"] + best[key]["idle_cpu_s"]:
            best[key] = r
    for readers in args.readers:
        on, off = best[(readers, True)], best[(readers, False)]
        join = (on["join_cpu_s"] - off["join_cpu_s"]) / readers * 1e6
        idle = (on["idle_cpu_s"] - off["idle_cpu_s"]) / readers / args.idle * 1e6
        leave = (on["leave_cpu_s"] - off["leave_cpu_s"]) / readers * 1e6
        per_reader.append(f"- {readers:,} readers: presence cost {join:,.0f} µs of server CPU per reader joining, "
                          f"{idle:,.1f} µs per reader per second while they read, {leave:,.0f} µs per reader leaving.")
    begin, end = harness.markers("presence")
    section = "\n".join([begin, "## Presence: what \"N reading now\" costs the server", "",
                         harness.machine_line(), "",
                         "The same readers join one thread (100 at a time), read for a while and leave, with "
                         "presence on and off (`REJOINDER_LIVE_PRESENCE`), back to back on one server and one "
                         "Valkey, each twice (off, on, off, on); the table has every run, the costs below compare "
                         "each configuration's cheaper run. Server CPU is its process tree's; the load generator "
                         "is one Python process.",
                         "", *lines, "", *per_reader, "", end])
    print(section)
    if not args.no_write:
        harness.write_section("presence", section)
    return 0


def db_client_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()


if __name__ == "__main__":
    sys.exit(main())
