#!/usr/bin/env python3
"""Live updates benchmark: Rejoinder's websocket fan-out next to a bare Starlette broadcast app, in one run.

    .venv/bin/python bench/live_fanout.py             # full run, updates bench/RESULTS.md ("Live updates")
    .venv/bin/python bench/live_fanout.py --quick     # smoke run (small counts), no RESULTS.md
    .venv/bin/python bench/live_fanout.py --profile   # py-spy on the server during the Rejoinder phases, no RESULTS.md
    .venv/bin/python bench/live_fanout.py --only sat  # some phases only (one,one2,sse,many,bare-one,one-c,one2-c,bare-one-c,sat)
    .venv/bin/python bench/live_fanout.py --render bench/.work/live_fanout-last.json   # rewrite the section from raw results

A full run takes about 22 minutes on a quiet machine, longer while it waits for quiet (bounded by
--quiet-wait per measurement and --quiet-wait-total). A run during which other processes used more
than --quiet-threshold % of a core is repeated (--retries) and the quietest attempt is kept.

What it measures (issue 3, "Figures"), on this machine, load generator on the same box:

1. one-thread: 10,000 readers of one thread, a poster at 2 comments/s
   through the HTTP API: delivered/expected, lost, duplicates, out of order,
   latency p50/p99/max from the POST's scheduled send time to each reader
   receiving the comment (the POST goes out on schedule, so this includes
   the whole write path: validation, Lua write, XREAD wake-up, fan-out).
2. many-threads: 10,000 readers spread over 1,000 threads (10 each), the
   same 2 comments/s spread over the threads (seeded random choice).
3. saturation: 5,000 readers of one thread, comments posted back to back
   (the next POST when the previous returned and fewer than --window
   comments are still on their way to some reader), for Rejoinder and for
   the bare broadcast app of ../shared/bench-tools/servers/minimal_app.py
   (run from there under uvicorn with Rejoinder's websocket settings), which
   broadcasts the very bytes Rejoinder sent (a captured comment.created
   event, its marker and seq substituted). --sat-runs runs each, alternating;
   the ratio of the medians is the figure.
4. memory: server RSS (/proc VmRSS) before and after connecting the idle
   readers, per 1,000 readers, for both servers (fresh server each time).
   The bare app also gets the one-thread load (10,000 readers, 2 msg/s):
   the physical ceiling of scenario 1 on this box.

Servers: one Valkey (rejoinder.embedded, append-only file on, appendfsync
everysec, as in production), `rejoinder serve --workers 1` (ONE uvicorn
worker, like the bare app; a fresh process for each phase) with
REJOINDER_LIVE_PER_IP raised to 100,000 (every reader comes from
127.0.0.1; the default is 50), REJOINDER_RATE_IP_WRITES,
REJOINDER_RATE_IDENTITY_WRITES and REJOINDER_RATE_IP_THREADS raised to 10^9
(the poster writes far more than a person may; harness.ALLOWANCES), REJOINDER_LOG_LEVEL=warning (at info uvicorn logs two
lines per websocket), everything else default (REJOINDER_LIVE_PER_NODE
20,000, send queue 256 events, ping 20 s).

Load generator: bench/live/loadgen.mjs (Node + ws, its own package.json and
lock; `npm ci` runs there on first use). Before each measurement the script
waits (bounded) until processes other than its own use less than
--quiet-threshold % of a core, and it records how busy the rest of the
machine was during every measurement. CPU shares are % of one core, from
/proc, over the posting window. The fd soft limit is raised to the hard one.

Everything targets 127.0.0.1; every loop is bounded in count and time; only
the processes this script started are stopped, by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import http.client
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
LIVE = HERE / "live"
LOADGEN = LIVE / "loadgen.mjs"
READERS_C = LIVE / "readers.c"  # the cheaper client (one epoll loop in C), for the one-thread phases "...-c"
READERS_BIN = WORK / "readers"


VENV_BIN = ROOT / ".venv" / "bin"
BARE_DIR = Path("/work/shared/bench-tools/servers")  # the anchor app, run in place (not copied)
PROF_VENV = WORK / "live-prof-venv"
SITE = "bench"
SITE_ORIGIN = "http://127.0.0.1:9999"


sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from harness import (RESULTS, Meter, Quiet, free_port, log, rss_kib, run, sockets_per_worker, tree,  # noqa: E402
                     version, wait_http, write_section)

MARK_BEGIN, MARK_END = harness.markers("live_fanout")
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
         "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.")


# ------------------------------------------------------------------ /proc


# ------------------------------------------------------------------ machine


def machine_info() -> dict[str, Any]:
    ws_version = "-"
    try:
        ws_version = json.loads((LIVE / "node_modules" / "ws" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        pass
    return harness.machine_info(
        websockets=version("websockets"), node=run(["node", "--version"]), ws=ws_version,
        fd_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        somaxconn=Path("/proc/sys/net/core/somaxconn").read_text().strip(),
        tcp_tw_reuse=Path("/proc/sys/net/ipv4/tcp_tw_reuse").read_text().strip())


# ------------------------------------------------------------------ servers


class Server:
    """A server process we started; stopped by its PID only."""

    def __init__(self, kind: str, port: int, proc: subprocess.Popen[bytes], logfile: Path) -> None:
        self.kind, self.port, self.proc, self.logfile = kind, port, proc, logfile

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def rejoinder_env(redis_url: str, port: int, secret: str) -> dict[str, str]:
    return harness.rejoinder_env(redis_url, f"http://127.0.0.1:{port}", secret)


def start_rejoinder(redis_url: str, secret: str, logdir: Path, workers: int = 1) -> Server:
    port = free_port()
    logfile = logdir / f"rejoinder-{port}.log"
    with open(logfile, "ab") as out:
        proc = subprocess.Popen([str(VENV_BIN / "rejoinder"), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], env=rejoinder_env(redis_url, port, secret), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server("rejoinder", port, proc, logfile)
    try:
        wait_http(port, f"/api/threads?site={SITE}&page=" + urllib.parse.quote("https://bench.example/probe"), proc)
    except Exception:
        server.stop()
        raise
    return server


def start_bare(logdir: Path, ws_ping: float, ws_ping_timeout: float) -> Server:
    """The anchor app with the websocket settings `rejoinder serve` gives uvicorn."""
    port = free_port()
    logfile = logdir / f"bare-{port}.log"
    cmd = [str(VENV_BIN / "python"), "-m", "uvicorn", "minimal_app:app", "--app-dir", str(BARE_DIR),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
           "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--ws-max-size", "4096",
           "--ws-ping-interval", str(ws_ping), "--ws-ping-timeout", str(ws_ping_timeout),
           "--no-access-log", "--log-level", "warning"]
    env = dict(os.environ, FANOUT_MODE="seq")
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server("bare", port, proc, logfile)
    try:
        wait_http(port, "/stats", proc)
    except Exception:
        server.stop()
        raise
    return server


def open_threads(port: int, pages: list[str], client: str) -> list[tuple[str, int]]:
    """(thread id, head) of each page, as the widget's first GET gets them (creates the thread)."""
    out = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for page in pages:
            q = urllib.parse.urlencode({"site": SITE, "page": page, "title": "Bench"})
            conn.request("GET", f"/api/threads?{q}", headers={"X-Rejoinder-Client": client})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError(f"GET /api/threads -> {r.status}: {body[:200]!r}")
            t = json.loads(body)["thread"]
            out.append((t["id"], int(t["head"])))
    finally:
        conn.close()
    return out


# ------------------------------------------------------------------ load generator


class LoadGen:
    """One run of bench/live/loadgen.mjs, driven line by line."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        fd, path = tempfile.mkstemp(prefix="loadgen-", suffix=".json", dir=workdir)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        self.config_path = Path(path)
        self.proc = subprocess.Popen(["node", str(LOADGEN), path], cwd=LIVE, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({"event": "log", "message": line.rstrip()})
        self.lines.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"load generator: no '{event}' within {timeout:.0f}s")
            try:
                msg = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise RuntimeError(f"load generator exited (waiting for '{event}'): " + " | ".join(self.stderr[-5:]))
            if msg.get("event") == "log":
                log("  loadgen: " + str(msg.get("message")))
                continue
            if msg.get("event") == "error":
                raise RuntimeError("load generator: " + str(msg.get("message")))
            if msg.get("event") == event:
                return msg

    def send(self, line: str) -> None:
        try:
            assert self.proc.stdin
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def finish(self) -> None:
        self.send("quit")
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.config_path.unlink(missing_ok=True)


class CReaders(LoadGen):
    """One run of bench/live/readers.c: the same line protocol as loadgen.mjs for one thread over
    websockets at a fixed rate, read by one epoll loop in C (a few µs per frame where Node's ws takes ~15)."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:  # noqa: D107 (no super: another process)
        build_readers()
        [thread] = config["threads"]
        ws, post = urllib.parse.urlsplit(thread["ws"]), urllib.parse.urlsplit(thread["post"])
        args = [str(READERS_BIN), "--port", str(ws.port), "--ws-path", ws.path, "--post-path", post.path,
                "--readers", str(thread["readers"]), "--messages", str(config["messages"]),
                "--rate", str(config["rate"]), "--protocol", config["protocol"], "--head", str(thread["head"]),
                "--body", config["body"], "--connect-concurrency", str(config["connect_concurrency"]),
                "--connect-max-s", str(config["connect_max_s"]), "--drain-timeout-s", str(config["drain_timeout_s"]),
                "--max-time-s", str(int(config["max_time_s"])), "--command-timeout-s", str(config["command_timeout_s"]),
                "--run-id", f"bench-c-{os.getpid()}-{time.time_ns()}"]
        if config.get("origin"):
            args += ["--origin", config["origin"]]
        for key, value in config["post_headers"].items():
            args += ["--header", f"{key}: {value}"]
        self.config_path = workdir / "unused"
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()


def build_readers() -> None:
    """Compile bench/live/readers.c into bench/.work/ when the binary is missing or older than its source."""
    if READERS_BIN.exists() and READERS_BIN.stat().st_mtime >= READERS_C.stat().st_mtime:
        return
    WORK.mkdir(exist_ok=True)
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(READERS_BIN), str(READERS_C)], check=True, timeout=120)


# ------------------------------------------------------------------ the benchmark


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quiet = Quiet(args.quiet_threshold, args.quiet_wait, args.quiet_wait_total)
        self.secret = secrets.token_hex(32)
        self.workdir = Path(tempfile.mkdtemp(prefix="live-", dir=WORK))
        self.redis: Any = None
        self.runs: list[dict[str, Any]] = []
        self.sample_message: str | None = None
        self.profiles: list[dict[str, Any]] = []

    # ---------------------------------------------------------- setup
    def start_valkey(self) -> None:
        from rejoinder.embedded import EmbeddedRedis

        self.redis = EmbeddedRedis(self.workdir / "valkey", password=secrets.token_hex(16)).start()
        env = dict(os.environ, REJOINDER_REDIS_URL=self.redis.url)
        out = subprocess.run([str(VENV_BIN / "rejoinder"), "site", "add", SITE, "--name", "Bench",
                              "--origin", SITE_ORIGIN], env=env, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"site add failed: {out.stderr}")
        log(f"valkey pid {self.redis.proc.pid} on port {self.redis.port}; site '{SITE}' registered")

    def stop_all(self) -> None:
        if self.redis is not None:
            self.redis.stop()
            self.redis = None

    def pids(self, server: Server | None, gen: LoadGen | None = None) -> dict[str, int]:
        out = {"valkey": self.redis.proc.pid if self.redis and self.redis.proc else 0}
        if server:
            out["server"] = server.pid
        if gen:
            out["client"] = gen.pid
        return out

    # ---------------------------------------------------------- one phase
    def phase(self, name: str, server: Server, threads: list[dict[str, Any]], plan: list[int], body: str,
              protocol: str, rate: float, origin: str | None, post_headers: dict[str, str],
              connect_concurrency: int = 100, client: str = "node") -> dict[str, Any]:
        a = self.args
        readers = sum(t["readers"] for t in threads)
        messages = len(plan)
        max_post = (messages / rate if rate > 0 else a.sat_max_s) + a.drain_timeout + 60
        config = {
            "protocol": protocol, "origin": origin, "threads": threads, "plan": plan, "body": body,
            "post_headers": post_headers, "messages": messages, "rate": rate, "window": a.window,
            "window_timeout_s": 10, "connect_concurrency": connect_concurrency, "handshake_timeout_s": 30,
            "connect_max_s": a.connect_max_s, "drain_timeout_s": a.drain_timeout,
            "max_time_s": a.connect_max_s + a.quiet_wait + max_post + 120, "command_timeout_s": a.quiet_wait + 120,
            "resume": True, "max_resumes": 3,
        }
        self.quiet.wait(f"{name}: before connecting", self.pids(server))
        rss_before = rss_kib(tree(server.pid))
        log(f"{name}: connecting {readers} readers ({len(threads)} thread(s)); server RSS {rss_before / 1024:.1f} MiB")
        gen = CReaders(config, self.workdir) if client == "c" else LoadGen(config, self.workdir)
        result: dict[str, Any] = {"phase": name, "server": server.kind, "readers": readers, "client": client,
                                  "threads": len(threads), "rss_before_kib": rss_before}
        profiler = None
        try:
            connected = gen.expect("connected", a.connect_max_s + 60)
            log(f"  {connected['ready']}/{readers} ready in {connected['connect_s']}s, {connected['connect_retried']} retried"
                + (f", errors {connected['errors']}" if connected["errors"] else "")
                + (f", close codes {connected['close_codes']}" if connected["close_codes"] else ""))
            result.update({"ready": connected["ready"], "connect_s": connected["connect_s"],
                           "connect_errors": connected["errors"], "connect_retried": connected["connect_retried"]})
            time.sleep(a.settle)
            # How the kernel spread the readers over the server's workers (sockets per worker; the
            # few that are not readers' are the listener, Redis and the like).
            result["sockets_per_worker"] = sockets_per_worker(server.pid)
            if len(result["sockets_per_worker"]) > 1:
                log(f"  sockets per worker: {result['sockets_per_worker']}")
            rss_idle = rss_kib(tree(server.pid))
            result["rss_idle_kib"] = rss_idle
            if connected["ready"]:
                result["kib_per_1000_idle"] = round((rss_idle - rss_before) / connected["ready"] * 1000)
            log(f"  server RSS with {connected['ready']} idle readers: {rss_idle / 1024:.1f} MiB "
                f"({result.get('kib_per_1000_idle', 0) / 1024:.1f} MiB per 1,000)")
            if not messages:
                return result
            result["quiet_before"] = self.quiet.wait(f"{name}: before posting", self.pids(server, gen))
            if a.profile and server.kind == "rejoinder":
                profiler = self.start_profiler(server.pid, name)
            gen.send("post")
            gen.expect("post_start", 30)
            meter = Meter(self.pids(server, gen) | {"driver": os.getpid()})
            gen.expect("post_end", max_post)
            result.update(meter.stop())
            cpu_s = result.get("server_cpu_pct", 0) / 100 * result.get("wall_s", 0)
            if profiler:
                self.stop_profiler(profiler)
                profiler = None
            res = gen.expect("result", 60)
            result["rss_after_kib"] = rss_kib(tree(server.pid))
            if res.get("sample_message") and server.kind == "rejoinder" and self.sample_message is None:
                self.sample_message = res["sample_message"]
            res.pop("sample_message", None)
            result.update(res)
            if res.get("delivered"):
                result["server_us_per_delivery"] = round(cpu_s / res["delivered"] * 1e6, 1)
            log(f"  {name}: delivered {res['delivered']}/{res['expected']} (lost {res['lost']}, dup {res['duplicates']}, "
                f"ooo {res['out_of_order']}, seq gaps {res['seq_gaps']}, resumes {res['resumes']}); latency p50 "
                f"{res['lat_p50_ms']} p99 {res['lat_p99_ms']} max {res['lat_max_ms']} ms; {res['deliveries_per_s']} "
                f"deliveries/s; CPU server {result.get('server_cpu_pct')}% valkey {result.get('valkey_cpu_pct')}% "
                f"client {result.get('client_cpu_pct')}% other {result.get('other_cpu_pct')}%")
            return result
        finally:
            if profiler:
                self.stop_profiler(profiler)
            gen.finish()
            self.runs.append(result)

    # ---------------------------------------------------------- scenarios
    def rejoinder_headers(self, port: int) -> dict[str, str]:
        return {"Content-Type": "application/json", "X-Rejoinder-Client": "bench-poster-000000000001",
                "Origin": f"http://127.0.0.1:{port}"}

    def rejoinder_threads(self, server: Server, pages: list[str], per_thread: int) -> list[dict[str, Any]]:
        found = open_threads(server.port, pages, "bench-opener-0000000001")
        base = f"127.0.0.1:{server.port}"
        return [{"ws": f"ws://{base}/api/threads/{tid}/live", "post": f"http://{base}/api/threads/{tid}/comments",
                 "head": head, "readers": per_thread} for tid, head in found]

    def comment_body(self) -> str:
        return json.dumps({"text": "{marker} " + LOREM, "name": "Bench poster"})

    def run_rejoinder(self, name: str, pages: list[str], per_thread: int, plan: list[int], rate: float,
                      label: str, workers: int = 1, protocol: str = "rejoinder", client: str = "node"
                      ) -> dict[str, Any]:
        server = start_rejoinder(self.redis.url, self.secret, self.workdir, workers)
        log(f"{name}: rejoinder serve --workers {workers}, pid {server.pid}, port {server.port}")
        try:
            threads = self.rejoinder_threads(server, pages, per_thread)
            res = self.phase(name, server, threads, plan, self.comment_body(), protocol, rate,
                             f"http://127.0.0.1:{server.port}", self.rejoinder_headers(server.port), client=client)
            res["label"] = label
            res["workers"] = workers
            return res
        finally:
            server.stop()

    def bare_body(self) -> str:
        """The exact bytes Rejoinder sent for a comment, marker and seq made placeholders."""
        msg = self.sample_message
        if not msg:
            msg = json.dumps({"type": "comment.created", "seq": 1, "comment": {"html": "<p>bench:0:0 " + LOREM + "</p>"}})
        msg = re.sub(r"bench:\d+:\d+", "{marker}", msg)
        return re.sub(r'"seq":\d+', '"seq":{n}', msg, count=1)

    def run_bare(self, name: str, readers: int, messages: int, rate: float, label: str,
                 client: str = "node") -> dict[str, Any]:
        server = start_bare(self.workdir, 20.0, 20.0)
        log(f"{name}: bare Starlette app (uvicorn 1 worker), pid {server.pid}, port {server.port}")
        try:
            threads = [{"ws": f"ws://127.0.0.1:{server.port}/ws", "post": f"http://127.0.0.1:{server.port}/publish",
                        "head": 0, "readers": readers}]
            res = self.phase(name, server, threads, [0] * messages, self.bare_body(), "bare", rate, None,
                             {"Content-Type": "application/json"}, client=client)
            res["label"] = label
            return res
        finally:
            server.stop()

    def main(self) -> dict[str, Any]:
        a = self.args
        stamp = datetime.now().strftime("%H%M%S")
        self.start_valkey()
        results: dict[str, Any] = {"sat": {"rejoinder": [], "bare": []}}
        only = set(a.only.split(",")) if a.only else {"one", "one2", "sse", "many", "bare-one", "one-c", "one2-c",
                                                            "bare-one-c", "sat"}
        # 1. one thread
        if "one" in only:
            results["one"] = self.measured(lambda n: self.run_rejoinder(
                "one-thread", [f"https://bench.example/{stamp}/one/{n}"], a.readers, [0] * a.comments, a.rate,
                "Rejoinder, 1 thread"))
        # 1b. the same on both cores: `--workers 2`, the readers spread over the workers by the kernel
        if "one2" in only:
            results["one2"] = self.measured(lambda n: self.run_rejoinder(
                "one-thread-2-workers", [f"https://bench.example/{stamp}/one2/{n}"], a.readers, [0] * a.comments,
                a.rate, "Rejoinder, 1 thread, 2 workers", workers=2))
        # 1c. the same readers over Server-Sent Events (the fallback where websockets are blocked)
        if "sse" in only:
            results["sse"] = self.measured(lambda n: self.run_rejoinder(
                "one-thread-sse", [f"https://bench.example/{stamp}/sse/{n}"], a.readers, [0] * a.comments,
                a.rate, "Rejoinder, 1 thread, Server-Sent Events", protocol="rejoinder-sse"))
        # 2. many threads (seeded random choice of thread per comment)
        if "many" in only:
            rng = random.Random(3)
            plan = [rng.randrange(a.threads) for _ in range(a.comments)]
            pages = [f"https://bench.example/{stamp}/many/{i}" for i in range(a.threads)]
            results["many"] = self.measured(lambda n: self.run_rejoinder(
                "many-threads", [f"{p}/{n}" for p in pages], a.readers // a.threads, plan, a.rate,
                f"Rejoinder, {a.threads} threads"))
        # bare app at the one-thread load: the ceiling of scenario 1 (and its idle memory)
        if "bare-one" in only and not a.profile:
            results["bare_one"] = self.measured(lambda n: self.run_bare("bare-one", a.readers, a.comments, a.rate,
                                                                        "bare app, same load"))
        # 1d. the one-thread load read by the C client (bench/live/readers.c): Rejoinder on one and two
        # workers and the bare app, so the latency is less the load generator's own
        if "one-c" in only:
            results["one_c"] = self.measured(lambda n: self.run_rejoinder(
                "one-thread-c", [f"https://bench.example/{stamp}/onec/{n}"], a.readers, [0] * a.comments, a.rate,
                "Rejoinder, 1 thread, C client", client="c"))
        if "one2-c" in only:
            results["one2_c"] = self.measured(lambda n: self.run_rejoinder(
                "one-thread-2-workers-c", [f"https://bench.example/{stamp}/one2c/{n}"], a.readers, [0] * a.comments,
                a.rate, "Rejoinder, 1 thread, 2 workers, C client", workers=2, client="c"))
        if "bare-one-c" in only and not a.profile:
            results["bare_one_c"] = self.measured(lambda n: self.run_bare(
                "bare-one-c", a.readers, a.comments, a.rate, "bare app, same load, C client", client="c"))
        # 3. saturation, alternating
        for i in range(a.sat_runs if "sat" in only else 0):
            for kind in ("rejoinder", "bare"):
                if kind == "bare" and a.profile:
                    continue
                if kind == "rejoinder":
                    r = self.measured(lambda n: self.run_rejoinder(
                        f"sat-rejoinder-{i + 1}", [f"https://bench.example/{stamp}/sat/{i}/{n}"], a.sat_readers,
                        [0] * a.sat_messages, 0, "Rejoinder, back to back"))
                else:
                    r = self.measured(lambda n: self.run_bare(f"sat-bare-{i + 1}", a.sat_readers, a.sat_messages, 0,
                                                              "bare, back to back"))
                results["sat"][kind].append(r)
        return results

    def measured(self, run: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        """Run a phase; if other processes used more than the quiet threshold during it, run it again
        (at most --retries times) and keep the least disturbed attempt."""
        a = self.args
        tried: list[dict[str, Any]] = []
        for attempt in range(a.retries + 1):
            r = run(attempt)
            r["attempt"] = attempt + 1
            r["disturbed"] = r.get("other_cpu_pct", 0) > a.quiet_threshold
            tried.append(r)
            if not r["disturbed"]:
                break
            if attempt < a.retries:
                log(f"  other processes used {r['other_cpu_pct']}% of a core during {r['phase']}: repeating it")
        best = min(tried, key=lambda x: x.get("other_cpu_pct", 0))
        best["attempts"] = len(tried)
        return best

    # ---------------------------------------------------------- profiling
    def start_profiler(self, pid: int, name: str) -> tuple[subprocess.Popen[bytes], Path, str]:
        pyspy = PROF_VENV / "bin" / "py-spy"
        if not pyspy.exists():
            log("installing py-spy into bench/.work/live-prof-venv")
            subprocess.run([sys.executable, "-m", "venv", str(PROF_VENV)], check=True)
            subprocess.run([str(PROF_VENV / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
        out = WORK / f"live-profile-{name}.txt"
        proc = subprocess.Popen([str(pyspy), "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
                                 "--output", str(out), "--duration", "600", "--nonblocking"]
                                + (["--native"] if self.args.native else []),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        return proc, out, name

    def stop_profiler(self, prof: tuple[subprocess.Popen[bytes], Path, str]) -> None:
        proc, out, name = prof
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if out.exists():
            report = profile_report(out)
            (WORK / f"live-profile-{name}-report.txt").write_text(report)
            log(f"profile of {name}: {out.relative_to(ROOT)}\n{report}")
            self.profiles.append({"name": name, "raw": str(out), "report": report})


def profile_report(path: Path, top: int = 25) -> str:
    """Inclusive and self shares of the functions in py-spy's collapsed stacks."""
    incl: dict[str, int] = {}
    selfc: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        frames = [re.sub(r"^(.*?) \((.*?):\d+\)$", r"\1 (\2)", f) for f in stack.split(";")]
        total += count
        for f in set(frames):
            incl[f] = incl.get(f, 0) + count
        selfc[frames[-1]] = selfc.get(frames[-1], 0) + count
    if not total:
        return "(no samples)"
    short = lambda f: re.sub(r"/[^ ]*/(site-packages|lib/python3\.\d+|server)/", "", f)  # noqa: E731
    lines = [f"{total} samples", "inclusive:"]
    lines += [f"  {100 * c / total:5.1f}%  {short(f)}" for f, c in sorted(incl.items(), key=lambda x: -x[1])[:top]]
    lines += ["self:"]
    lines += [f"  {100 * c / total:5.1f}%  {short(f)}" for f, c in sorted(selfc.items(), key=lambda x: -x[1])[:top]]
    return "\n".join(lines)


# ------------------------------------------------------------------ report


def fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def med(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def render_section(info: dict[str, Any], args: argparse.Namespace, results: dict[str, Any], quiet: Quiet,
                   started: datetime, elapsed: float) -> tuple[str, dict[str, Any]]:
    one, many, bare_one = results["one"], results["many"], results.get("bare_one", {})
    one2 = results.get("one2", {})
    sse = results.get("sse", {})
    one_c, one2_c, bare_one_c = results.get("one_c", {}), results.get("one2_c", {}), results.get("bare_one_c", {})
    sat_r, sat_b = results["sat"]["rejoinder"], results["sat"]["bare"]
    r_dps, b_dps = med(sat_r, "deliveries_per_s"), med(sat_b, "deliveries_per_s")
    ratio = (r_dps / b_dps) if r_dps and b_dps else None
    mem_r = [x["kib_per_1000_idle"] for x in (one, many) if x.get("kib_per_1000_idle")]
    mem_b = bare_one.get("kib_per_1000_idle")
    mem_r5 = med(sat_r, "kib_per_1000_idle")
    mem_b5 = med(sat_b, "kib_per_1000_idle")

    def ok(cond: bool | None) -> str:
        return "–" if cond is None else ("**met**" if cond else "**missed**")

    verdict = {
        "one_thread": (one.get("lost") == 0 and (one.get("lat_p99_ms") or 1e9) < 100),
        "one_thread_2_workers": None if not one2 else (one2.get("lost") == 0 and (one2.get("lat_p99_ms") or 1e9) < 100),
        "one_thread_c": None if not one_c else (one_c.get("lost") == 0 and (one_c.get("lat_p99_ms") or 1e9) < 100),
        "one_thread_2_workers_c": None if not one2_c else (one2_c.get("lost") == 0
                                                            and (one2_c.get("lat_p99_ms") or 1e9) < 100),
        "many_threads": (many.get("lost") == 0 and (many.get("lat_p99_ms") or 1e9) < 100),
        "saturation": None if ratio is None else ratio >= 0.6,
        "memory": None if not (mem_r and mem_b) else max(mem_r) <= mem_b,
    }
    L: list[str] = [MARK_BEGIN, "## Live updates", ""]
    L.append(f"Measured {started.strftime('%Y-%m-%d %H:%M')} UTC by `bench/live_fanout.py` "
             f"({elapsed / 60:.0f} min). Issue 3's figures: readers connected to ONE Rejoinder node "
             f"(`rejoinder serve --workers 1`: one uvicorn worker; and, for issue 21, the one-thread load on "
             f"`--workers 2`, the readers spread over the two workers by the kernel as they connect), "
             f"a poster posting through the HTTP API, "
             f"and in the same run the bare ceiling: `../shared/bench-tools/servers/minimal_app.py` under "
             f"uvicorn, one worker, with Rejoinder's websocket settings (websockets-sansio, no compression, "
             f"max frame 4 KiB, ping 20 s), broadcasting the very bytes of a Rejoinder comment event "
             f"({fmt(one.get('mean_frame_bytes'))} bytes).")
    L.append("")
    L.append(f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, Linux {info['kernel']} "
             f"({info['os']}); Python {info['python']}, starlette {info['starlette']}, uvicorn {info['uvicorn']}, "
             f"websockets {info['websockets']}, uvloop {info['uvloop']}, httptools {info['httptools']}, "
             f"redis-py {info['redis-py']}, hiredis {info['hiredis']}, orjson {info['orjson']}, "
             f"valkey-server {info['valkey-server']}; load generator Node {info['node']} + ws {info['ws']} "
             f"(`bench/live/loadgen.mjs`, one process, on the same 2 cores) and, in the runs marked \"C client\", "
             f"`bench/live/readers.c` (one epoll loop in C, gcc -O2, the same readers and poster). "
             f"Rejoinder {info['rejoinder']} at "
             f"{info['git']}. fd limit {info['fd_limit']}.")
    L.append("")
    L.append(f"Server settings for the benchmark: `REJOINDER_LIVE_PER_IP=100000` (all readers come from 127.0.0.1; "
             f"default 50), `REJOINDER_RATE_IP_WRITES`, `REJOINDER_RATE_IDENTITY_WRITES` and "
             f"`REJOINDER_RATE_IP_THREADS` = 10^9 (the poster and the thread opener are one client), `REJOINDER_LOG_LEVEL=warning`; everything else default (per-node cap 20,000 "
             f"sockets, send queue 256 events, ping 20 s / timeout 20 s). Valkey: append-only file, "
             f"appendfsync everysec. Readers send the widget's hello with their own client id and resume with "
             f"`?since=` if the server closes them with a resume code.")
    L.append("")
    L.append("### Targets")
    L.append("")
    L.append("| target | figure | |")
    L.append("|---|---|---|")
    L.append(f"| {fmt(args.readers)} readers, 1 thread, {fmt(args.rate)} comments/s: 0 lost, p99 < 100 ms | lost {fmt(one.get('lost'))}, "
             f"p99 {fmt(one.get('lat_p99_ms'))} ms | {ok(verdict['one_thread'])} |")
    if one2:
        split = " + ".join(fmt(n) for n in one2.get("sockets_per_worker") or [])
        L.append(f"| {fmt(args.readers)} readers, 1 thread, `--workers 2` (sockets per worker {split}): 0 lost, "
                 f"p99 < 100 ms | lost {fmt(one2.get('lost'))}, p99 {fmt(one2.get('lat_p99_ms'))} ms | "
                 f"{ok(verdict['one_thread_2_workers'])} |")
    for c_run, key, what in ((one_c, "one_thread_c", "1 worker"), (one2_c, "one_thread_2_workers_c", "`--workers 2`")):
        if c_run:
            split = " (sockets per worker " + " + ".join(fmt(n) for n in c_run["sockets_per_worker"]) + ")" \
                if len(c_run.get("sockets_per_worker") or []) > 1 else ""
            L.append(f"| {fmt(args.readers)} readers, 1 thread, {what}{split}, read by the C client: 0 lost, "
                     f"p99 < 100 ms | lost {fmt(c_run.get('lost'))}, p99 {fmt(c_run.get('lat_p99_ms'))} ms "
                     f"(bare app, same client: {fmt(bare_one_c.get('lat_p99_ms'))} ms) | {ok(verdict[key])} |")
    L.append(f"| {fmt(args.readers)} readers over {fmt(args.threads)} threads, same: 0 lost, p99 < 100 ms | lost {fmt(many.get('lost'))}, "
             f"p99 {fmt(many.get('lat_p99_ms'))} ms | {ok(verdict['many_threads'])} |")
    L.append(f"| saturation deliveries/s ≥ 60% of the bare app ({fmt(args.sat_readers)} readers) | "
             f"{fmt(r_dps and round(r_dps))} vs {fmt(b_dps and round(b_dps))} = "
             f"{fmt(ratio and 100 * ratio, 0)}% | {ok(verdict['saturation'])} |")
    L.append(f"| memory per idle reader ≤ the bare app's | {fmt(max(mem_r) / 1024 if mem_r else None, 1)} vs "
             f"{fmt(mem_b / 1024 if mem_b else None, 1)} MiB per 1,000 readers | {ok(verdict['memory'])} |")
    L.append("")
    L.append("### Steady rate: delivery and latency")
    L.append("")
    L.append(f"{fmt(args.comments)} comments at {fmt(args.rate)}/s. Latency: from the POST's scheduled send time "
             f"(the poster keeps its schedule) to a reader receiving the comment; \"last reader\": to the last of "
             f"its readers. Out of order: a reader saw the thread's sequence number go back (a duplicate is counted "
             f"only as a duplicate); seq gaps: it skipped a number. Resumes: readers the server closed with a resume "
             f"code that reconnected with `?since=`. Handshakes refused: answered with an HTTP error (retried up to "
             f"3 times, as the widget retries). CPU in % of one core over the posting window (server CPU per delivery: the server's CPU "
             f"seconds in that window over the deliveries); \"other\" = every "
             f"process not started by the benchmark.")
    L.append("")
    L.append("| run | readers ready | connect time (refused, retried) | delivered / expected | lost | dup | "
             "out of order | seq gaps | resumes | p50 | p90 | p99 | max | last reader p99 | POST p50 / p99 | "
             "server CPU | server CPU per delivery | Valkey CPU | client CPU | other CPU |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in (one, one2, sse, many, bare_one, one_c, one2_c, bare_one_c):
        if not r:
            continue
        refused = sum((r.get("connect_errors") or {}).values())
        L.append(f"| {r['label']}{' *' if r.get('disturbed') else ''} | {fmt(r.get('ready'))} / {fmt(r.get('readers'))} | {fmt(r.get('connect_s'))} s "
                 f"({fmt(refused)}, {fmt(r.get('connect_retried'))}) | "
                 f"{fmt(r.get('delivered'))} / {fmt(r.get('expected'))} | "
                 f"{fmt(r.get('lost'))} | {fmt(r.get('duplicates'))} | {fmt(r.get('out_of_order'))} | "
                 f"{fmt(r.get('seq_gaps'))} | {fmt(r.get('resumes'))} | "
                 f"{fmt(r.get('lat_p50_ms'))} ms | {fmt(r.get('lat_p90_ms'))} ms | {fmt(r.get('lat_p99_ms'))} ms | "
                 f"{fmt(r.get('lat_max_ms'))} ms | {fmt(r.get('last_reader_p99_ms'))} ms | "
                 f"{fmt(r.get('post_rtt_p50_ms'))} / {fmt(r.get('post_rtt_p99_ms'))} ms | "
                 f"{fmt(r.get('server_cpu_pct'))}% | {fmt(r.get('server_us_per_delivery'))} µs | "
                 f"{fmt(r.get('valkey_cpu_pct'))}% | {fmt(r.get('client_cpu_pct'))}% | "
                 f"{fmt(r.get('other_cpu_pct'))}% |")
    L.append("")
    if sse and one:
        L.append(f"Server-Sent Events, the fallback where websockets are blocked (`GET /api/threads/{{tid}}/stream`, "
                 f"the same readers through Node's HTTP client): p50 {fmt(sse.get('lat_p50_ms'))} ms, p99 "
                 f"{fmt(sse.get('lat_p99_ms'))} ms, {fmt(sse.get('server_us_per_delivery'))} µs of server CPU per "
                 f"delivery, against p50 {fmt(one.get('lat_p50_ms'))} ms, p99 {fmt(one.get('lat_p99_ms'))} ms and "
                 f"{fmt(one.get('server_us_per_delivery'))} µs over websockets in the same run.")
        L.append("")
    notes = []
    if any(r.get("disturbed") for r in (one, one2, sse, many, bare_one, one_c, one2_c, bare_one_c) if r):
        notes.append(f"* other processes used more than {fmt(args.quiet_threshold, 0)}% of a core during this run "
                     f"(the quietest of {args.retries + 1} attempts is shown)")
    retried = sum((r.get("post_retries") or 0) for r in results_rows(results))
    failed = sum((r.get("post_errors") or 0) for r in results_rows(results))
    if retried or failed:
        notes.append(f"POSTs retried after a network error (same Idempotency-Key): {retried}; POSTs that failed: {failed}")
    if notes:
        L.append("; ".join(notes) + ".")
        L.append("")
    errors: dict[str, int] = {}
    for r in results_rows(results):
        for k, v in (r.get("connect_errors") or {}).items():
            errors[k] = errors.get(k, 0) + v
    if errors:
        L.append("Handshake errors seen while connecting (all runs): "
                 + ", ".join(f"{k} × {v}" for k, v in sorted(errors.items(), key=lambda x: -x[1])) + ".")
        L.append("")
    L.append("### Saturation: back-to-back posting")
    L.append("")
    L.append(f"{fmt(args.sat_readers)} readers of one thread, {fmt(args.sat_messages)} messages per run, the next "
             f"POST as soon as the previous one returned and fewer than {args.window} messages were still on their "
             f"way to some reader (the same rule for both servers: Rejoinder's POST returns before the fan-out, "
             f"the bare app's after it). deliveries/s = deliveries / (first POST → last delivery). "
             f"A fresh server per run, runs alternating; median of {len(sat_r)} each.")
    L.append("")
    L.append("| server | deliveries/s (runs) | p50 | p99 | lost | server CPU | Valkey CPU | client CPU | other CPU |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, rows in (("Rejoinder", sat_r), ("bare app", sat_b)):
        if not rows:
            continue
        runs = ", ".join(fmt(r.get("deliveries_per_s")) + ("*" if r.get("disturbed") else "") for r in rows)
        L.append(f"| {label} | **{fmt(med(rows, 'deliveries_per_s'))}** ({runs}) | {fmt(med(rows, 'lat_p50_ms'))} ms | "
                 f"{fmt(med(rows, 'lat_p99_ms'))} ms | {fmt(sum(r.get('lost') or 0 for r in rows))} | "
                 f"{fmt(med(rows, 'server_cpu_pct'))}% | {fmt(med(rows, 'valkey_cpu_pct'))}% | "
                 f"{fmt(med(rows, 'client_cpu_pct'))}% | {fmt(med(rows, 'other_cpu_pct'))}% |")
    L.append("")
    L.append(f"Ratio Rejoinder / bare: **{fmt(ratio and 100 * ratio, 0)}%** (target ≥ 60%)."
             + (" (* = other processes used more than the quiet threshold during that run)"
                if any(r.get("disturbed") for r in sat_r + sat_b) else ""))
    L.append("")
    L.append("### Memory of idle readers")
    L.append("")
    L.append("Server RSS (VmRSS from /proc) of a fresh server before the readers connect and a few seconds after "
             "the last one is ready (before any comment is posted).")
    L.append("")
    L.append("| server | readers | RSS before | RSS with readers | per 1,000 readers |")
    L.append("|---|---:|---:|---:|---:|")
    mem_rows = [one, one2, sse, many, bare_one, one_c, one2_c, bare_one_c] + sat_r[:1] + sat_b[:1]
    for r in mem_rows:
        if not r or not r.get("rss_idle_kib"):
            continue
        L.append(f"| {r['label']}{' (saturation run 1)' if r['phase'].startswith('sat') else ''} | {fmt(r.get('ready'))} | "
                 f"{fmt(r['rss_before_kib'] / 1024)} MiB | {fmt(r['rss_idle_kib'] / 1024)} MiB | "
                 f"**{fmt(r.get('kib_per_1000_idle', 0) / 1024, 1)} MiB** |")
    L.append("")
    if mem_r5 and mem_b5:
        L.append(f"Median over the {len(sat_r)} saturation runs ({fmt(args.sat_readers)} readers, fresh servers): "
                 f"Rejoinder {fmt(mem_r5 / 1024, 1)} MiB, bare {fmt(mem_b5 / 1024, 1)} MiB per 1,000 readers.")
        L.append("")
    L.append("### How quiet the machine was")
    L.append("")
    waited = sum(c["waited_s"] for c in quiet.checks)
    loud = [c for c in quiet.checks if not c["quiet"]]
    L.append(f"Before each measurement the script waited until processes it did not start used less than "
             f"{fmt(args.quiet_threshold, 0)}% of a core (3-s sample, bounded wait); it waited {waited:.0f} s in "
             f"all, and {len(loud)} of {len(quiet.checks)} checks ended without quiet. \"other CPU\" in the tables is "
             f"what the rest of the machine used during each measurement. Checks: "
             + "; ".join(f"{c['at']} {c['other_cpu_pct']:.0f}%" + ("" if c["quiet"] else " (busy)") for c in quiet.checks)
             + ".")
    L.append("")
    L.append(f"Raw results: `bench/.work/live_fanout-last.json` (not committed). Rerun: "
             f"`.venv/bin/python bench/live_fanout.py`.")
    L.append(MARK_END)
    return "\n".join(L) + "\n", verdict


def results_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [results.get(k) for k in ("one", "one2", "sse", "many", "bare_one", "one_c", "one2_c", "bare_one_c")]
    rows += results.get("sat", {}).get("rejoinder", []) + results.get("sat", {}).get("bare", [])
    return [r for r in rows if r]


# ------------------------------------------------------------------ main


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < needed:
        raise SystemExit(f"fd limit {soft} (hard {hard}) is below the {needed} this run needs: lower --readers")
    return soft


def ensure_node_modules() -> None:
    if (LIVE / "node_modules" / "ws" / "package.json").exists():
        return
    log("installing the load generator's dependencies (npm ci in bench/live)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LIVE, check=True, timeout=300)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readers", type=int, default=10_000, help="readers in scenarios 1 and 2")
    ap.add_argument("--threads", type=int, default=1000, help="threads in scenario 2")
    ap.add_argument("--comments", type=int, default=60, help="comments posted in scenarios 1 and 2")
    ap.add_argument("--rate", type=float, default=2.0, help="comments per second in scenarios 1 and 2")
    ap.add_argument("--sat-readers", type=int, default=5000)
    ap.add_argument("--sat-messages", type=int, default=120)
    ap.add_argument("--sat-runs", type=int, default=3)
    ap.add_argument("--sat-max-s", type=float, default=300, help="time cap of one back-to-back run")
    ap.add_argument("--window", type=int, default=8, help="back to back: most messages on their way at once")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds between the last reader ready and the RSS reading")
    ap.add_argument("--drain-timeout", type=float, default=120.0, help="after the last POST: wait this long for every delivery")
    ap.add_argument("--connect-max-s", type=float, default=300.0)
    ap.add_argument("--quiet-threshold", type=float, default=25.0, help="%% of a core others may use")
    ap.add_argument("--quiet-wait", type=float, default=600.0, help="longest wait for quiet before one measurement")
    ap.add_argument("--quiet-wait-total", type=float, default=3600.0, help="longest wait for quiet in all")
    ap.add_argument("--retries", type=int, default=2, help="repeat a run disturbed by other processes (keep the quietest)")
    ap.add_argument("--quick", action="store_true", help="smoke run: small counts, no RESULTS.md")
    ap.add_argument("--profile", action="store_true", help="py-spy on the Rejoinder server; no RESULTS.md")
    ap.add_argument("--only", default="", help="comma list of phases: one,one2,sse,many,bare-one,one-c,one2-c,bare-one-c,sat (no RESULTS.md)")
    ap.add_argument("--native", action="store_true", help="with --profile: py-spy --native (C frames too)")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--render", metavar="RAW_JSON", help="only rewrite the RESULTS.md section from a raw results file")
    args = ap.parse_args(argv)
    if args.quick:
        args.readers, args.threads, args.comments, args.rate = 1000, 100, 10, 5.0
        args.sat_readers, args.sat_messages, args.sat_runs = 500, 40, 1
        args.quiet_wait, args.quiet_wait_total, args.settle = 20.0, 60.0, 1.0
    if args.profile or args.quick or args.only:
        args.no_write = True
    if args.readers % args.threads:
        ap.error("--readers must be a multiple of --threads")
    return args


def render_only(path: str, write: bool) -> int:
    raw = json.loads(Path(path).read_text())
    args = argparse.Namespace(**raw["args"])
    quiet = Quiet(args.quiet_threshold, 0, 0)
    quiet.checks = raw["quiet_checks"]
    section, verdict = render_section(raw["info"], args, raw["results"], quiet,
                                      datetime.fromisoformat(raw["started"]), raw["elapsed_s"])
    print(section)
    print("targets:", json.dumps(verdict))
    if write:
        write_section("live_fanout", section)
        log(f"updated {RESULTS.relative_to(ROOT)} from {path}")
    return 0


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds: every server and client we started is stopped


def main(argv: list[str] | None = None) -> int:
    # SIGINT may be ignored when started in the background: handle both, so cleanup always runs
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    args = parse_args(argv)
    if args.render:
        return render_only(args.render, not args.no_write)
    WORK.mkdir(exist_ok=True)
    fd = raise_fd_limit(max(args.readers, args.sat_readers) + 500)
    log(f"fd limit {fd}")
    ensure_node_modules()
    info = machine_info()
    started = datetime.now(timezone.utc)
    bench = Bench(args)
    t0 = time.monotonic()
    try:
        results = bench.main()
    finally:
        bench.stop_all()
    elapsed = time.monotonic() - t0
    raw = {"info": info, "args": vars(args), "started": started.isoformat(), "elapsed_s": round(elapsed, 1),
           "results": results, "quiet_checks": bench.quiet.checks, "runs": bench.runs, "profiles": bench.profiles}
    out = WORK / ("live_fanout-last.json" if not (args.quick or args.profile) else "live_fanout-scratch.json")
    out.write_text(json.dumps(raw, indent=1))
    shutil.rmtree(bench.workdir, ignore_errors=True)
    if args.profile or args.only:
        return 0
    section, verdict = render_section(info, args, results, bench.quiet, started, elapsed)
    print(section)
    print("targets:", json.dumps(verdict))
    if not args.no_write:
        write_section("live_fanout", section)
        log(f"updated {RESULTS.relative_to(ROOT)}; raw results in {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
