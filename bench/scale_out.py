#!/usr/bin/env python3
"""Scale-out benchmark (issue 7's figures): one node vs three, one Valkey vs a 3-master
Valkey Cluster, and a simulated 1,000-site host, all on this one machine.

    .venv/bin/python bench/scale_out.py            # full run (~15-20 min), writes its section of bench/RESULTS.md
    .venv/bin/python bench/scale_out.py --quick    # smoke run (small sizes, ~3 min), no RESULTS.md
    .venv/bin/python bench/scale_out.py --phases host --host-sites 100   # some phases / sizes (no RESULTS.md
                                                                           unless --write)
    .venv/bin/python bench/scale_out.py --render bench/.work/scale_out/last.json   # rewrite the section

What it measures:

1. Nodes x Redis ("matrix"), for each of {1 Valkey, 3-master cluster} x {1 node, 3 nodes}
   (a node = one `rejoinder serve --workers 1` process; three nodes = three processes on
   three ports sharing one REJOINDER_REDIS_URL, REJOINDER_SECRET_KEY and public URL):
   - create: bench/core_http.py's create benchmark (wrk + bench/wrk_sequence.lua, unique
     ~190-byte comments posted to one new thread, closed loop) at concurrency 16 split over
     the nodes (one wrk per node: 16 / 6+5+5 connections);
   - live, one thread: --live-readers websocket readers of one thread, reader j on node
     j mod N, a poster at --live-rate comments/s whose k-th comment goes through node
     k mod N (bench/live/loadgen.mjs with a URL per node: readers and posts spread
     over nodes); delivered / expected, cross-node deliveries, latency p50/p99 from the POST's
     scheduled time;
   - live, many threads: the same readers spread over --live-threads threads.
2. Host: a fresh Valkey (or cluster), --host-sites sites registered through SiteStore, each
   with --host-threads threads of --host-comments comments, loaded through the store's own
   Lua (bench/scale/host.py; time and Valkey memory reported, also after deleting the
   24-h idempotency and 1-h duplicate-body keys the load wrote); then a bounded mixed
   workload (bench/scale/wrk_mixed.lua: --host-write of sequences are creates, the rest
   whole-thread reads as the widget does them; site by Zipf s=1 or uniform, thread uniform
   within the site) against --host-nodes nodes with --host-workers workers each.

Everything runs on this machine's 2 cores: nodes, Valkey (or the three cluster masters),
wrk and the Node load generator share them. Three nodes therefore show correctness and
the overhead of coordination, not added capacity. Before each measurement the script
waits (bounded) for processes it did not start to use less than --quiet-threshold % of a
core; a measurement during which they used more is marked disturbed (*) and, with
--retries, repeated (the least disturbed attempt is kept). The 1-minute load average at
the start is recorded.

Every load loop is bounded in count and time; every target is 127.0.0.1; only processes
this script started are stopped, by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
RUN = WORK / "scale_out"


SCALE = HERE / "scale"
LOADGEN = HERE / "live" / "loadgen.mjs"
SEQ_LUA = HERE / "wrk_sequence.lua"
MIX_LUA = SCALE / "wrk_mixed.lua"
SITE = "bench"
SITE_ORIGIN = "http://127.0.0.1:9999"


sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(HERE))

import core_http  # noqa: E402  (the create benchmark's body and formatting)
import harness  # noqa: E402
import live_fanout  # noqa: E402  (machine info, the load generator's driver)
from harness import (RESULTS, Meter, Quiet, child_cpu_delta, http_get, loadavg1, log, run,  # noqa: E402
                     write_section)
from scale.host import HostLoader  # noqa: E402
from scale.topology import PUBLIC_URL, Node, Valkey, register_site  # noqa: E402
from scale.wake_latency import measure as wake_latency  # noqa: E402

MARK_BEGIN, MARK_END = harness.markers("scale_out")
T0 = time.monotonic()


def server_code_state() -> str:
    """The committed tree of server/ plus a digest of uncommitted changes in it (others may commit while we run)."""
    import hashlib

    tree = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD:server"])
    diff = subprocess.run(["git", "-C", str(ROOT), "diff", "HEAD", "--", "server"], capture_output=True).stdout
    return tree + (f"+{hashlib.sha256(diff).hexdigest()[:8]}" if diff else "")


def pct(values: list[float], p: float) -> float | None:
    return harness.pct(values, p) if values else None


# --------------------------------------------------------------------------- a topology


class Topology:
    """A running Valkey (single or cluster) and N nodes on it."""

    def __init__(self, valkey: Valkey, nodes: list[Node]) -> None:
        self.valkey, self.nodes = valkey, nodes

    @property
    def label(self) -> str:
        n = len(self.nodes)
        return f"{n} node{'s' if n > 1 else ''}, {self.valkey.label}"

    def pids(self) -> dict[str, int]:
        out = {f"node{i}": n.pid for i, n in enumerate(self.nodes)}
        out.update({f"valkey{i}": p for i, p in enumerate(self.valkey.pids())})
        return out

    def rss_kib(self) -> int:
        return sum(n.rss_kib() for n in self.nodes)

    def stop_nodes(self) -> None:
        for n in self.nodes:
            n.stop()
        self.nodes = []


def start_nodes(valkey: Valkey, count: int, workers: int, secret: str, logdir: Path, probe_site: str) -> list[Node]:
    nodes: list[Node] = []
    try:
        for _ in range(count):
            nodes.append(Node(valkey.url, secret, workers, logdir).start(probe_site))
    except BaseException:
        for n in nodes:
            n.stop()
        raise
    return nodes


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def meter_split(used: dict[str, float]) -> dict[str, float]:
    """Meter output (per pid name) -> nodes / valkey / driver / other, % of one core."""
    out = {"server_cpu_pct": round(sum(v for k, v in used.items() if k.startswith("node") and k.endswith("_cpu_pct")), 1),
           "valkey_cpu_pct": round(sum(v for k, v in used.items() if k.startswith("valkey") and k.endswith("_cpu_pct")), 1),
           "machine_cpu_pct": used["machine_cpu_pct"], "other_cpu_pct": used["other_cpu_pct"], "wall_s": used["wall_s"]}
    return out


# --------------------------------------------------------------------------- wrk over nodes


def run_wrk_nodes(topo: Topology, script: Path, env_for: Callable[[int, int, int], dict[str, str]], conc: int,
                  count: int, cap_s: int, tag: str, parse: Callable[[list[str]], list[int] | None]) -> dict[str, Any]:
    """One wrk per node, started together, `conc` connections and `count` sequences split over
    the nodes; every sequence's start/end from the Lua logs. Bounded by count and by cap_s."""
    n = len(topo.nodes)
    concs, counts = split(conc, n), split(count, n)
    outdir = RUN / "wrk" / tag
    shutil.rmtree(outdir, ignore_errors=True)
    procs = []
    meter = Meter(topo.pids() | {"driver": os.getpid()})
    child_cpu_delta()
    t0 = time.monotonic()
    try:
        for i, node in enumerate(topo.nodes):
            if concs[i] == 0:
                continue
            d = outdir / f"n{i}"
            d.mkdir(parents=True)
            env = dict(os.environ) | env_for(i, concs[i], counts[i]) | {"SEQ_OUT": str(d), "MIX_OUT": str(d)}
            procs.append(subprocess.Popen(
                ["wrk", f"-t{concs[i]}", f"-c{concs[i]}", f"-d{cap_s}s", "--timeout", "30s", "-s", str(script),
                 f"http://127.0.0.1:{node.port}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        outs = []
        for p in procs:
            try:
                outs.append(p.communicate(timeout=cap_s + 60))
            except subprocess.TimeoutExpired:
                p.kill()
                outs.append(p.communicate())
    except BaseException:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        raise
    wall = time.monotonic() - t0
    used = meter.stop()
    client = child_cpu_delta()
    errors = answered = 0
    for stdout, stderr in outs:
        summary = None
        for line in stdout.decode(errors="replace").splitlines():
            if line.startswith(("SEQ_WRK ", "MIX_WRK ")):
                summary = json.loads(line[8:])
        if summary is None:
            raise RuntimeError(f"wrk gave no summary: {stdout[-500:]!r} {stderr[-500:]!r}")
        errors += sum(summary[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
        answered += summary["requests"]
    rows = []
    for f in outdir.glob("n*/t*.txt"):
        for line in f.read_text().splitlines():
            row = parse(line.split())
            if row is not None:
                rows.append(row)
    shutil.rmtree(outdir, ignore_errors=True)
    res = meter_split(used)
    res["client_cpu_pct"] = round(100 * client / wall, 1)
    res["other_cpu_pct"] = round(max(0.0, res["other_cpu_pct"] - res["client_cpu_pct"]), 1)
    res.update({"rows": rows, "socket_errors": errors, "answered": answered, "wall_s": round(wall, 2), "count": count})
    return res


def latency_summary(rows: list[list[int]], ok_status: Callable[[int], bool] = lambda s: 200 <= s < 300,
                    status_col: int = 4) -> dict[str, Any]:
    ok = [r for r in rows if ok_status(r[status_col])]
    bad = [r for r in rows if not ok_status(r[status_col])]
    lat = sorted((r[1] - r[0]) / 1000 for r in ok)
    window = (max(r[1] for r in rows) - min(r[0] for r in rows)) / 1e6 if rows else 0.0
    return {"ok": len(ok), "non2xx": len(bad), "non2xx_statuses": sorted({r[status_col] for r in bad}),
            "window_s": round(window, 3), "rate": round(len(ok) / window, 1) if window else 0.0,
            "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99), "max_ms": lat[-1] if lat else None}


# --------------------------------------------------------------------------- live load generator


class LoadGen(live_fanout.LoadGen):
    """bench/live/loadgen.mjs with a URL per node, driven as bench/live_fanout.py drives it."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:  # noqa: D107 (same protocol as the parent)
        fd, path = tempfile.mkstemp(prefix="loadgen-", suffix=".json", dir=workdir)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        self.config_path = Path(path)
        self.proc = subprocess.Popen(["node", str(LOADGEN), path], cwd=SCALE, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()


# --------------------------------------------------------------------------- the benchmark


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quiet = Quiet(args.quiet_threshold, args.quiet_wait, args.quiet_wait_total)
        self.secret = secrets.token_hex(32)
        RUN.mkdir(parents=True, exist_ok=True)
        self.workdir = Path(tempfile.mkdtemp(prefix="run-", dir=RUN))
        self.results: dict[str, Any] = {"matrix": [], "host": []}
        self.valkey: Valkey | None = None
        self.topo: Topology | None = None
        self.stamp = datetime.now().strftime("%H%M%S")

    # ------------------------------------------------------------------ helpers
    def measured(self, label: str, run: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        """Run a measurement after a (bounded) wait for quiet; repeat it (--retries) if other
        processes used more than --quiet-threshold % of a core; keep the least disturbed."""
        tried = []
        for attempt in range(self.args.retries + 1):
            pids = self.topo.pids() if self.topo else {}
            check = self.quiet.wait(f"{label} (attempt {attempt + 1})", pids)
            r = run(attempt)
            r["quiet_before"] = check
            r["load1"] = loadavg1()
            r["disturbed"] = r.get("other_cpu_pct", 0) > self.args.quiet_threshold
            r["attempt"] = attempt + 1
            tried.append(r)
            if not r["disturbed"]:
                break
            log(f"  other processes used {r['other_cpu_pct']}% of a core during {label}"
                + (": repeating" if attempt < self.args.retries else ": kept, marked disturbed"))
        best = min(tried, key=lambda x: x.get("other_cpu_pct", 0))
        best["attempts"] = len(tried)
        return best

    def stop_all(self) -> None:
        if self.topo:
            self.topo.stop_nodes()
            self.topo = None
        if self.valkey:
            self.valkey.stop()
            self.valkey.cleanup()
            self.valkey = None

    # ------------------------------------------------------------------ matrix
    def matrix(self) -> None:
        a = self.args
        for kind in a.redis:
            self.valkey = Valkey(kind, self.workdir / f"valkey-{kind}").start()
            register_site(self.valkey.url, SITE, SITE_ORIGIN)
            log(f"{self.valkey.label} up (pids {self.valkey.pids()}), site '{SITE}' registered")
            try:
                for n in a.nodes:
                    nodes = start_nodes(self.valkey, n, a.workers, self.secret, self.workdir, SITE)
                    self.topo = Topology(self.valkey, nodes)
                    log(f"{self.topo.label}: ports {[x.port for x in nodes]}, pids {[x.pid for x in nodes]}")
                    try:
                        entry: dict[str, Any] = {"redis": kind, "nodes": n, "label": self.topo.label}
                        if "create" in a.matrix_parts:
                            entry["create"] = self.create_runs()
                        if "live" in a.matrix_parts:
                            # fresh node processes for each live run, so their RSS growth is the readers'
                            self.restart_nodes()
                            entry["live_one"] = self.measured(f"{self.topo.label}: live, 1 thread",
                                                              lambda att: self.live(1, att))
                            self.restart_nodes()
                            entry["live_many"] = self.measured(f"{self.topo.label}: live, {a.live_threads} threads",
                                                               lambda att: self.live(a.live_threads, att))
                        self.results["matrix"].append(entry)
                        self.save_partial()
                    finally:
                        self.topo.stop_nodes()
                        self.topo = None
            finally:
                self.valkey.stop()
                self.valkey.cleanup()
                self.valkey = None

    def restart_nodes(self) -> None:
        assert self.topo and self.valkey
        n = len(self.topo.nodes)
        self.topo.stop_nodes()
        self.topo.nodes = start_nodes(self.valkey, n, self.args.workers, self.secret, self.workdir, SITE)

    def wake(self) -> None:
        """The live hub's wake-up loop alone (bench/scale/wake_latency.py), one Valkey vs a cluster."""
        for kind in self.args.redis:
            r = wake_latency(kind, self.workdir / f"wake-{kind}")
            r["redis"] = kind
            r["load1"] = loadavg1()
            log(f"wake-up loop on {kind}: {r['shards']} pub/sub connection(s), seen after p50 {r['p50_ms']} ms, "
                f"p90 {r['p90_ms']} ms, max {r['max_ms']} ms")
            self.results.setdefault("wake", []).append(r)

    def create_runs(self) -> list[dict[str, Any]]:
        a = self.args
        assert self.topo
        body = core_http.REJOINDER_BODY

        def env(tid: str, tag: str, role: str) -> Callable[[int, int, int], dict[str, str]]:
            return lambda i, c, n: {"SEQ_PATH": f"/api/threads/{tid}/comments", "SEQ_NEXT": "", "SEQ_METHOD": "POST",
                                    "SEQ_BODY": body, "SEQ_MAX": str(n), "SEQ_THREADS": str(c),
                                    "SEQ_TAG": f"{tag}n{i}",
                                    "SEQ_HEADERS": f"X-Rejoinder-Client: bench-{role}-n{i}-{{t}}-0123456789"}

        def parse(p: list[str]) -> list[int] | None:
            return [int(x) for x in p] if len(p) == 5 else None

        port0 = self.topo.nodes[0].port
        # warm every node (imports, script cache, pools), unmeasured
        [(warm_tid, _)] = live_fanout.open_threads(port0, [f"/scale-{self.stamp}-warm-{len(self.topo.nodes)}"],
                                                   "bench-opener-0000000001")
        run_wrk_nodes(self.topo, SEQ_LUA, env(warm_tid, f"warm{self.stamp}", "warm"), 2 * len(self.topo.nodes),
                      300, 20, "warm", parse)
        runs = []
        for r in range(a.runs):
            def one(attempt: int) -> dict[str, Any]:
                assert self.topo
                page = f"/scale-{self.stamp}-{self.topo.valkey.kind}-{len(self.topo.nodes)}-{r}-{attempt}"
                [(tid, _)] = live_fanout.open_threads(port0, [page], "bench-opener-0000000001")
                res = run_wrk_nodes(self.topo, SEQ_LUA, env(tid, f"c{self.stamp}{r}{attempt}", "writer"),
                                    a.create_conc, a.creates, a.create_cap, f"create-{r}-{attempt}", parse)
                res.update(latency_summary(res.pop("rows")))
                # every 201 is in the thread, read back through another node when there are several
                other = self.topo.nodes[-1].port
                q = urllib.parse.urlencode({"site": SITE, "page": page, "limit": 1})
                status, data = http_get(other, f"/api/threads?{q}")
                res["stored"] = int(json.loads(data)["thread"]["count"]) if status == 200 else -1
                res["cpu_ms_per_op"] = (round((res["server_cpu_pct"] + res["valkey_cpu_pct"]) / 100 / res["rate"] * 1000, 3)
                                        if res["rate"] else None)
                # wrk keeps every connection busy (unrecorded) until all are done: all its answered
                # requests were creates, and at most one per connection can land after it stopped
                res["stored_ok"] = 0 <= res["stored"] - res["answered"] <= a.create_conc
                log(f"  create c{a.create_conc} run {r + 1}: {res['rate']:.0f}/s p50 {res['p50_ms']:.1f} p99 "
                    f"{res['p99_ms']:.1f} ms, ok {res['ok']} (answered {res['answered']}) stored {res['stored']} "
                    f"non2xx {res['non2xx']} "
                    f"{res['non2xx_statuses'] or ''} sock err {res['socket_errors']}; CPU nodes {res['server_cpu_pct']}% "
                    f"valkey {res['valkey_cpu_pct']}% wrk {res['client_cpu_pct']}% other {res['other_cpu_pct']}%")
                return res

            runs.append(self.measured(f"{self.topo.label}: create run {r + 1}", one))
        return runs

    def live(self, threads: int, attempt: int) -> dict[str, Any]:
        a = self.args
        assert self.topo
        topo = self.topo
        pages = [f"https://bench.example/{self.stamp}/{topo.valkey.kind}/{len(topo.nodes)}/{threads}/{attempt}/{i}"
                 for i in range(threads)]
        found = live_fanout.open_threads(topo.nodes[0].port, pages, "bench-opener-0000000001")
        per_thread = a.live_readers // threads
        conf_threads = [{"ws": [f"ws://127.0.0.1:{n.port}/api/threads/{tid}/live" for n in topo.nodes],
                         "post": [f"http://127.0.0.1:{n.port}/api/threads/{tid}/comments" for n in topo.nodes],
                         "head": head, "readers": per_thread} for tid, head in found]
        rng = random.Random(3)
        plan = [0] * a.live_comments if threads == 1 else [rng.randrange(threads) for _ in range(a.live_comments)]
        body = json.dumps({"text": "{marker} " + live_fanout.LOREM, "name": "Bench poster"})
        max_post = a.live_comments / a.live_rate + a.drain_timeout + 60
        config = {
            "protocol": "rejoinder", "origin": PUBLIC_URL, "threads": conf_threads, "plan": plan, "body": body,
            "post_headers": {"Content-Type": "application/json", "X-Rejoinder-Client": "bench-poster-000000000001",
                             "Origin": PUBLIC_URL},
            "messages": len(plan), "rate": a.live_rate, "window": 8, "window_timeout_s": 10,
            "connect_concurrency": 100, "handshake_timeout_s": 30, "connect_max_s": a.connect_max_s,
            "drain_timeout_s": a.drain_timeout, "max_time_s": a.connect_max_s + max_post + 180,
            "command_timeout_s": 180, "resume": True, "max_resumes": 3, "run_id": f"scale-{self.stamp}-{attempt}-{threads}",
        }
        readers = per_thread * threads
        rss_before = topo.rss_kib()
        name = f"live {threads} thread{'s' if threads > 1 else ''}"
        log(f"  {name}: connecting {readers} readers over {len(topo.nodes)} node(s)")
        gen = LoadGen(config, self.workdir)
        result: dict[str, Any] = {"readers": readers, "threads": threads, "rss_before_kib": rss_before,
                                  "fresh_nodes": attempt == 0}
        try:
            connected = gen.expect("connected", a.connect_max_s + 60)
            result.update({"ready": connected["ready"], "connect_s": connected["connect_s"],
                           "connect_errors": connected["errors"], "connect_retried": connected["connect_retried"],
                           "per_node_ready": connected.get("per_node_ready")})
            time.sleep(a.settle)
            rss_idle = topo.rss_kib()
            result["rss_idle_kib"] = rss_idle
            if connected["ready"]:
                result["kib_per_1000_idle"] = round((rss_idle - rss_before) / connected["ready"] * 1000)
            log(f"    {connected['ready']}/{readers} ready in {connected['connect_s']} s "
                f"(per node {connected.get('per_node_ready')}), retried {connected['connect_retried']}"
                + (f", errors {connected['errors']}" if connected["errors"] else "")
                + f"; nodes' RSS +{(rss_idle - rss_before) / 1024:.1f} MiB")
            gen.send("post")
            gen.expect("post_start", 30)
            meter = Meter(topo.pids() | {"client": gen.pid, "driver": os.getpid()})
            gen.expect("post_end", max_post)
            used = meter.stop()
            res = gen.expect("result", 60)
            res.pop("sample_message", None)
            result.update(res)
            result.update(meter_split(used))
            result["client_cpu_pct"] = used.get("client_cpu_pct")
            log(f"    delivered {res['delivered']}/{res['expected']} (lost {res['lost']}, dup {res['duplicates']}, "
                f"ooo {res['out_of_order']}, resumes {res['resumes']}, post errors {res['post_errors']}); "
                f"cross-node {res['cross_delivered']:.0f}/{res['cross_expected']:.0f}; p50 {res['lat_p50_ms']} "
                f"p99 {res['lat_p99_ms']} max {res['lat_max_ms']} ms (same node p99 {res['same_p99_ms']}, cross "
                f"{res['cross_p99_ms']}); CPU nodes {result['server_cpu_pct']}% valkey {result['valkey_cpu_pct']}% "
                f"client {result['client_cpu_pct']}% other {result['other_cpu_pct']}%")
            return result
        finally:
            gen.finish()

    # ------------------------------------------------------------------ host
    def host(self) -> None:
        a = self.args
        for kind in a.host_redis:
            spent = [h["seconds"] for h in self.results["host"] if h.get("seconds")]
            if spent and time.monotonic() - T0 + max(spent) > a.budget_min * 60:
                log(f"host on {kind}: skipped (the previous host run took {max(spent):.0f} s; over --budget-min)")
                self.results["host"].append({"redis": kind, "skipped": f"over the --budget-min of {a.budget_min:g} min"})
                continue
            h_t0 = time.monotonic()
            entry: dict[str, Any] = {"redis": kind, "sites": a.host_sites, "threads_per_site": a.host_threads,
                                     "comments_per_thread": a.host_comments}
            self.valkey = Valkey(kind, self.workdir / f"host-{kind}").start()
            try:
                entry["valkey"] = self.valkey.label
                log(f"host on {self.valkey.label}: {a.host_sites} sites x {a.host_threads} threads x "
                    f"{a.host_comments} comments")
                loader = HostLoader(self.valkey.url, self.secret, a.host_sites, a.host_threads, a.host_comments,
                                    reply_frac=a.host_reply_frac)
                entry["mem_empty"] = self.valkey.memory()
                entry["load1_before_load"] = loadavg1()
                cpu0 = Meter({f"valkey{i}": p for i, p in enumerate(self.valkey.pids())}
                                         | {"driver": os.getpid()})
                entry["register_s"] = round(asyncio.run(loader.register_sites()), 2)
                log(f"  {a.host_sites} sites registered in {entry['register_s']} s")
                entry["load"] = asyncio.run(loader.load(progress=lambda n, s: log(f"  loaded {n} sites ({s:.0f} s)")))
                used = cpu0.stop()
                entry["load"].update({"valkey_cpu_pct": round(sum(v for k, v in used.items() if k.startswith("valkey")
                                                                  and k.endswith("_cpu_pct")), 1),
                                      "driver_cpu_pct": used.get("driver_cpu_pct"),
                                      "other_cpu_pct": used["other_cpu_pct"]})
                entry["mem_loaded"] = self.valkey.memory()
                entry["drop_s"] = round(asyncio.run(loader.drop_transient()), 1)
                entry["mem_steady"] = self.valkey.memory()
                n = entry["load"]["comments"]
                for k in ("mem_loaded", "mem_steady"):
                    entry[k]["per_1000_comments_kib"] = round(
                        (entry[k]["used_memory"] - entry["mem_empty"]["used_memory"]) / n * 1000 / 1024, 1)
                log(f"  loaded {n:,} comments ({entry['load']['replies']:,} replies) in {entry['load']['seconds']} s "
                    f"({n / entry['load']['seconds']:,.0f}/s); Valkey used_memory {entry['mem_loaded']['used_memory'] / 2**20:,.0f}"
                    f" MiB ({entry['mem_loaded']['per_1000_comments_kib']} KiB per 1,000), after dropping the "
                    f"idempotency/duplicate keys {entry['mem_steady']['used_memory'] / 2**20:,.0f} MiB "
                    f"({entry['mem_steady']['per_1000_comments_kib']} KiB per 1,000)")
                threads_file = self.workdir / f"threads-{kind}.txt"
                threads_file.write_text("".join(f"{s} {p} {t}\n" for s, p, t in loader.thread_list()))
                nodes = start_nodes(self.valkey, a.host_nodes, a.host_workers, self.secret, self.workdir,
                                    "host-0000")
                self.topo = Topology(self.valkey, nodes)
                try:
                    entry["label"] = self.topo.label
                    entry["check"] = self.host_check(loader)
                    # warm-up: a short unmeasured mix
                    self.mixed(threads_file, 4, 2000, 5, "warm")
                    entry["mixed"] = self.measured(f"host, {self.topo.label}: mixed",
                                                   lambda att: self.mixed(threads_file, a.host_conc, a.host_requests,
                                                                          a.host_duration, f"mix-{att}"))
                    entry["mem_after_mix"] = self.valkey.memory()
                finally:
                    self.topo.stop_nodes()
                    self.topo = None
                entry["seconds"] = round(time.monotonic() - h_t0, 1)
                self.results["host"].append(entry)
                self.save_partial()
            finally:
                self.valkey.stop()
                self.valkey.cleanup()
                self.valkey = None

    def host_check(self, loader: HostLoader) -> dict[str, Any]:
        """A few whole-thread reads through the API: every loaded comment is there."""
        assert self.topo
        rng = random.Random(11)
        threads = loader.thread_list()
        seen = []
        for site, page, tid in rng.sample(threads, min(5, len(threads))):
            q = urllib.parse.urlencode({"site": site, "page": page, "limit": 100})
            status, data = http_get(self.topo.nodes[-1].port, f"/api/threads?{q}")
            body = json.loads(data)
            if status != 200 or body["thread"]["id"] != tid:
                raise RuntimeError(f"reading {site} {page}: HTTP {status} {data[:200]!r}")
            shown = len(body["comments"])
            seen.append({"count": body["thread"]["count"], "shown": shown})
            if body["thread"]["count"] != loader.comments or shown != loader.comments:
                raise RuntimeError(f"{site} {page}: count {body['thread']['count']}, {shown} comments shown, "
                                   f"expected {loader.comments}")
        log(f"  check: 5 threads read through the API hold {loader.comments} comments each")
        return {"threads": seen}

    def mixed(self, threads_file: Path, conc: int, count: int, cap: int, tag: str) -> dict[str, Any]:
        a = self.args
        assert self.topo

        def env(i: int, c: int, n: int) -> dict[str, str]:
            return {"MIX_THREADS": str(threads_file), "MIX_WRITE": str(a.host_write), "MIX_DIST": a.host_dist,
                    "MIX_ZIPF_S": str(a.host_zipf_s), "MIX_LIMIT": "100", "MIX_MAX": str(n), "MIX_THREADS_N": str(c),
                    "MIX_TAG": f"{self.stamp}{tag}n{i}", "MIX_SEED": str(17 + i)}

        def parse(p: list[str]) -> list[int] | None:
            return [int(x) for x in p] if len(p) == 5 else None

        res = run_wrk_nodes(self.topo, MIX_LUA, env, conc, count, cap, tag, parse)
        rows = res.pop("rows")
        # rows: start, end, kind, pages, status
        reads = [[r[0], r[1], r[2], r[3], r[4]] for r in rows if r[2] == 0]
        writes = [[r[0], r[1], r[2], r[3], r[4]] for r in rows if r[2] == 1]
        window = (max(r[1] for r in rows) - min(r[0] for r in rows)) / 1e6 if rows else 0.0
        res["read"] = latency_summary(reads)
        res["write"] = latency_summary(writes)
        for part in ("read", "write"):  # rates over the common window
            res[part]["rate"] = round(res[part]["ok"] / window, 1) if window else 0.0
        res["window_s"] = round(window, 2)
        res["pages_per_read"] = round(statistics.mean(r[3] for r in reads), 2) if reads else 0
        res["rate"] = round((res["read"]["ok"] + res["write"]["ok"]) / window, 1) if window else 0.0
        res["count_bounded"] = len(rows) >= count
        if tag != "warm":
            log(f"  mixed ({a.host_dist}, {a.host_write:.0%} writes, c{conc}): {res['rate']:.0f} req/s in "
                f"{window:.0f} s; reads {res['read']['rate']:.0f}/s p50 {res['read']['p50_ms']:.1f} p99 "
                f"{res['read']['p99_ms']:.1f} ms; writes {res['write']['rate']:.0f}/s p50 {res['write']['p50_ms']:.1f} "
                f"p99 {res['write']['p99_ms']:.1f} ms; non2xx {res['read']['non2xx'] + res['write']['non2xx']} "
                f"{res['read']['non2xx_statuses'] + res['write']['non2xx_statuses']}, socket errors "
                f"{res['socket_errors']}; CPU nodes {res['server_cpu_pct']}% valkey {res['valkey_cpu_pct']}% "
                f"wrk {res['client_cpu_pct']}% other {res['other_cpu_pct']}%")
        return res

    def save_partial(self) -> None:
        (RUN / "partial.json").write_text(json.dumps(self.results, indent=1, default=str))


# --------------------------------------------------------------------------- report


def f_ms(v: Any) -> str:
    return "–" if v is None else core_http.fmt_ms(float(v))


def f_n(v: Any, nd: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{nd}f}"


def med_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput (so its latencies belong to one run)."""
    ordered = sorted(runs, key=lambda r: r["rate"])
    return ordered[(len(ordered) - 1) // 2]


def star(r: dict[str, Any]) -> str:
    return " *" if r.get("disturbed") else ""


def render_section(raw: dict[str, Any]) -> str:
    info, args, res = raw["info"], argparse.Namespace(**raw["args"]), raw["results"]
    started = datetime.fromisoformat(raw["started"])
    L: list[str] = [MARK_BEGIN, "## Scale-out: nodes, Valkey Cluster, a 1,000-site host", ""]
    load_note = (f"1-minute load average at the start: **{raw['load1_start']:.2f}**"
                 + (" (**busy machine**: other sessions' work was running)" if raw["load1_start"] > 1.0 else "") + ".")
    L.append(f"Measured {started.strftime('%Y-%m-%d %H:%M')} UTC by `.venv/bin/python bench/scale_out.py"
             f"{' ' + raw['argv'] if raw.get('argv') else ''}` ({raw['elapsed_s'] / 60:.0f} min). {load_note}"
             + "".join(f" Added by a later run, {datetime.fromisoformat(m['started']).strftime('%H:%M')} UTC "
                       f"(`bench/scale_out.py {m['argv']}`, {m['elapsed_s'] / 60:.0f} min, load average "
                       f"{m['load1_start']:.2f} at its start): the rows it measured replace the first run's."
                       for m in raw.get("merged", [])))
    L.append("")
    L.append(f"**Machine.** {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {info['os']}, kernel "
             f"{info['kernel']}; Python {info['python']}, uvicorn {info['uvicorn']}, starlette {info['starlette']}, "
             f"redis-py {info['redis-py']} + hiredis {info['hiredis']}, Valkey {info['valkey-server']}; "
             f"{raw.get('wrk', '?')}; Node {info['node']} + ws {info['ws']}. Rejoinder {info['rejoinder']} at {info['git']}"
             + (f" (**server/ changed during the run**: other engineers committed or edited it; it ended at "
                f"{raw.get('git_end')}, and nodes started later ran the newer code)"
                if len(set(raw.get("server_code") or [])) > 1 else "") + ".")
    L.append("")
    L.append("**What \"three nodes\" and \"cluster\" mean here.** Everything runs on these 2 cores: the Rejoinder "
             "nodes, Valkey (or all three cluster masters), wrk and the Node load generator. Three nodes are three "
             "`rejoinder serve` processes on three ports sharing two cores, so they show that the nodes work "
             "together correctly (a comment posted through one node reaches readers on the others; counts and "
             "writes stay exact) and what coordinating costs, **not added capacity**: three nodes cannot do more "
             "than one node with the same two cores. The same holds for the cluster: three masters on the same two "
             "cores add routing and connections, not CPU. Added capacity needs added machines (or cores); these "
             "figures say what each node and each Valkey core carries so that can be planned.")
    L.append("")
    L.append(f"**Setup.** Node = `rejoinder serve --workers {args.workers}` (one uvicorn worker) in the matrix; all "
             f"nodes share `REJOINDER_REDIS_URL`, `REJOINDER_SECRET_KEY` and one public URL (as behind a load "
             f"balancer; the load generators pick the node, round robin). Valkey {info['valkey-server']}, append-only "
             f"file, appendfsync everysec; the cluster is 3 masters, no replicas (`redis+cluster://` URL). Benchmark "
             f"allowances as in the other sections: write rate limits 10^9, `REJOINDER_LIVE_PER_IP=100000`, log "
             f"level warning. CPU in % of one core (200% = both cores); \"other\" = processes this script did not "
             f"start. * = disturbed: other processes used more than {args.quiet_threshold:g}% of a core during the "
             f"measurement.")
    L.append("")
    matrix = res.get("matrix", [])
    if matrix and any("create" in m for m in matrix):
        L += ["### Create a comment, concurrency " + str(args.create_conc), "",
              f"bench/core_http.py's method: wrk + `bench/wrk_sequence.lua`, unique ~190-byte comments, all to one "
              f"new thread per run, closed loop, {args.creates:,} comments or {args.create_cap} s per run; with "
              f"three nodes one wrk per node ({'+'.join(str(x) for x in split(args.create_conc, 3))} connections), "
              f"started together. {args.runs} run(s) per row"
              + (", the median run shown" if args.runs > 1 else "") + ". \"answered / stored\": POSTs wrk got an "
              "answer to (the measured ones and those that kept the connections busy until the last one finished) and "
              "the thread's count read back through the last node afterwards (equal, or up to one per connection more "
              "for POSTs still in flight when wrk stopped).", "",
              "| topology | comments/s | p50 | p90 | p99 | max | answered / stored | CPU nodes + Valkey / wrk | other | "
              "nodes + Valkey CPU per comment | runs (comments/s) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for m in matrix:
            if not m.get("create"):
                continue
            r = med_run(m["create"])
            errs = (f"; {r['non2xx']} non-2xx {r['non2xx_statuses']}" if r["non2xx"] else "") + \
                   (f"; {r['socket_errors']} socket errors" if r["socket_errors"] else "")
            L.append(f"| {m['label']}{star(r)} | **{f_n(r['rate'])}** | {f_ms(r['p50_ms'])} | {f_ms(r['p90_ms'])} | "
                     f"{f_ms(r['p99_ms'])} | {f_ms(r['max_ms'])} | {r['answered']:,} / {r['stored']:,}"
                     f"{'' if r.get('stored_ok') else ' **mismatch**'}{errs} | "
                     f"{r['server_cpu_pct']:.0f}% + {r['valkey_cpu_pct']:.0f}% / {r['client_cpu_pct']:.0f}% | "
                     f"{r['other_cpu_pct']:.0f}% | {f_ms(r['cpu_ms_per_op'])} | "
                     f"{', '.join(f_n(x['rate']) + star(x) for x in m['create'])} |")
        L.append("")
    for key, title in (("live_one", "one thread"), ("live_many", f"{args.live_threads} threads")):
        rows = [m for m in matrix if m.get(key)]
        if not rows:
            continue
        r0 = rows[0][key]
        L += [f"### Live fan-out: {args.live_readers:,} readers, {title}", "",
              f"bench/live_fanout.py reduced: {r0['readers']:,} websocket readers "
              + ("of one thread" if key == "live_one" else f"spread over {r0['threads']} threads "
                 f"({r0['readers'] // r0['threads']} each), each comment to a random thread")
              + f", reader j of a thread on node j mod N; {args.live_comments} comments at {args.live_rate:g}/s "
              f"through the HTTP API, comment k through node k mod N (`bench/live/loadgen.mjs`, a URL per node). Latency: from "
              f"the POST's scheduled time to the reader's receipt. \"Cross-node\": deliveries to readers on a node "
              f"other than the one the comment was posted through. Idle memory: growth of the nodes' RSS (fresh "
              f"processes for each live run) once the readers are connected, before posting.", "",
              "| topology | ready (per node) | delivered / expected | lost | dup | out of order | cross-node delivered / "
              "expected | p50 | p90 | p99 | max | same-node p50 / p99 | cross-node p50 / p99 | POST p50 / p99 | "
              "nodes' RSS per 1,000 idle readers | CPU nodes + Valkey / client | other |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for m in rows:
            r = m[key]
            if "delivered" not in r:
                L.append(f"| {m['label']} | {f_n(r.get('ready'))} / {f_n(r.get('readers'))} | (no result) |" + " |" * 14)
                continue
            per = r.get("per_node_ready") or []
            L.append(f"| {m['label']}{star(r)} | {r['ready']:,}" + (f" ({' + '.join(f'{x:,}' for x in per)})" if len(per) > 1 else "")
                     + f" | {r['delivered']:,} / {r['expected']:,} | {r['lost']:,} | {r['duplicates']:,} | "
                     f"{r['out_of_order']:,} | "
                     + (f"{r['cross_delivered']:,.0f} / {r['cross_expected']:,.0f}" if r["nodes"] > 1 else "–")
                     + f" | {f_ms(r['lat_p50_ms'])} | {f_ms(r['lat_p90_ms'])} | {f_ms(r['lat_p99_ms'])} | "
                     f"{f_ms(r['lat_max_ms'])} | {f_ms(r['same_p50_ms'])} / {f_ms(r['same_p99_ms'])} | "
                     + (f"{f_ms(r['cross_p50_ms'])} / {f_ms(r['cross_p99_ms'])}" if r["nodes"] > 1 else "–")
                     + f" | {f_ms(r['post_rtt_p50_ms'])} / {f_ms(r['post_rtt_p99_ms'])} | "
                     + (f"{r['kib_per_1000_idle'] / 1024:.1f} MiB" if r.get("kib_per_1000_idle") and (
                         key == "live_one" or r.get("fresh_nodes")) else "–")
                     + f" | {r['server_cpu_pct']:.0f}% + "
                     f"{r['valkey_cpu_pct']:.0f}% / {r['client_cpu_pct'] or 0:.0f}% | {r['other_cpu_pct']:.0f}% |")
        extra = [f"{m['label']}: {m[key]['resumes']} resumes, {m[key]['post_errors']} POST errors, "
                 f"{sum((m[key].get('connect_errors') or {}).values())} refused handshakes"
                 for m in rows if "delivered" in m[key] and (m[key]["resumes"] or m[key]["post_errors"]
                                                              or m[key].get("connect_errors"))]
        L.append("")
        if extra:
            L += ["Also: " + "; ".join(extra) + ".", ""]
    wake = res.get("wake", [])
    if wake:
        L += ["### Live wake-up: the hub's loop alone, one Valkey vs a cluster", "",
              "`bench/scale/wake_latency.py`: the calls of `Hub._collect_wakeups` without the server: follow "
              f"{wake[0]['threads']} threads' wake channels (SSUBSCRIBE), wait for a message with the hub's 0.25 s "
              "timeout (`get_sharded_message` on a cluster, `get_message` on one Valkey), and time SPUBLISH → seen "
              f"({wake[0]['messages']} messages, one every 137 ms). On a cluster, redis-py's "
              "`ClusterPubSub.get_sharded_message` polls the per-master pub/sub connections one after another, each "
              "with the whole timeout, so a wake-up on one master waits while the loop sits on another: this is the "
              "extra latency of the cluster rows above with many threads (their threads live on all three masters; "
              "one thread lives on one).", "",
              "| Valkey | pub/sub connections | p50 | p90 | max |", "|---|---:|---:|---:|---:|"]
        for w in wake:
            L.append(f"| {'1 Valkey' if w['redis'] == 'single' else '3-master cluster'} | {w['shards']} | "
                     f"**{f_ms(w['p50_ms'])}** | {f_ms(w['p90_ms'])} | {f_ms(w['max_ms'])} |")
        L.append("")
    skipped = [h for h in res.get("host", []) if h.get("skipped") or "load" not in h]
    hosts = [h for h in res.get("host", []) if h not in skipped]
    if hosts:
        h0 = hosts[0]
        total = h0["sites"] * h0["threads_per_site"] * h0["comments_per_thread"]
        L += [f"### A simulated {h0['sites']:,}-site host", "",
              f"**Data.** {h0['sites']:,} sites registered through `SiteStore` (as `rejoinder site add`), "
              f"{h0['threads_per_site']} threads each, {h0['comments_per_thread']} comments per thread: "
              f"{total:,} comments, {args.host_reply_frac:.0%} of them replies to an earlier top-level comment "
              f"of the thread. Loaded through the store layer by `bench/scale/host.py`: each thread created by "
              f"`open_thread.lua` as the widget's first GET does, each comment written by the text of "
              f"`create_comment.lua` itself (wrapped in a function and called once per comment, a thread's "
              f"{h0['comments_per_thread']} comments in one call) with the document the API stores for a guest "
              f"(~{len(core_http.LOREM) + 30}-character text, its rendered html, author, owner, IP and edit-token "
              f"hashes), and the site-feed entries `FeedStore.announce` writes. Not done for them: HTTP, per-comment "
              f"rendering, rate-limit counters, spam checks. Memory: Valkey `used_memory` summed over the masters, "
              f"minus the empty server's; \"steady\" = after deleting the idempotency keys (kept 24 h) and "
              f"duplicate-body keys (kept 1 h) the writes leave, i.e. a host whose comments are older than a day.", "",
              "| Valkey | register sites | load comments | comments/s | Valkey CPU while loading | used_memory after load "
              "(per 1,000 comments) | steady used_memory (per 1,000 comments) | keys (steady) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for h in hosts:
            ld = h["load"]
            L.append(f"| {h['valkey']} | {h['register_s']:.1f} s | {ld['seconds']:.0f} s | "
                     f"{ld['comments'] / ld['seconds']:,.0f} | {ld['valkey_cpu_pct']:.0f}% | "
                     f"{h['mem_loaded']['used_memory'] / 2**20:,.0f} MiB ({h['mem_loaded']['per_1000_comments_kib']:,.0f} KiB) | "
                     f"{h['mem_steady']['used_memory'] / 2**20:,.0f} MiB (**{h['mem_steady']['per_1000_comments_kib']:,.0f} KiB**) | "
                     f"{h['mem_steady']['keys']:,} |")
        L += ["", f"**Mixed workload.** wrk + `bench/scale/wrk_mixed.lua`, {args.host_conc} connections "
              + (f"split over {args.host_nodes} nodes " if args.host_nodes > 1 else "")
              + f"(closed loop), {args.host_duration} s or {args.host_requests:,} requests: "
              f"{1 - args.host_write:.0%} whole-thread reads as the widget does them (`GET /api/threads?site=&page=&limit=100`, "
              f"then `next` pages if any), {args.host_write:.0%} comment creates (unique ~190-byte guest comments). "
              + ("Site drawn by **Zipf (s = " + f"{args.host_zipf_s:g}" + ")** over the sites (the most popular site gets "
                 f"{100 / sum(1 / (i ** args.host_zipf_s) for i in range(1, h0['sites'] + 1)):.0f}% of the traffic)"
                 if args.host_dist == "zipf" else "Site drawn **uniformly**")
              + f", then one of its threads uniformly. Server: {args.host_nodes} node(s) × `--workers {args.host_workers}`. "
              f"Rates are over the whole window; latency is per read (all its pages) or per create.", "",
              "| Valkey | topology | requests/s | reads/s | read p50 | read p90 | read p99 | writes/s | write p50 | write p99 | "
              "non-2xx | CPU nodes + Valkey / wrk | other |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for h in hosts:
            mx = h.get("mixed")
            if not mx:
                continue
            rd, wr = mx["read"], mx["write"]
            bad = rd["non2xx"] + wr["non2xx"]
            L.append(f"| {h['valkey']}{star(mx)} | {h['label']} | **{f_n(mx['rate'])}** | {f_n(rd['rate'])} | "
                     f"{f_ms(rd['p50_ms'])} | {f_ms(rd['p90_ms'])} | **{f_ms(rd['p99_ms'])}** | {f_n(wr['rate'])} | "
                     f"{f_ms(wr['p50_ms'])} | **{f_ms(wr['p99_ms'])}** | {bad:,}"
                     + (f" {sorted(set(rd['non2xx_statuses'] + wr['non2xx_statuses']))}" if bad else "")
                     + (f", {mx['socket_errors']} socket errors" if mx["socket_errors"] else "")
                     + f" | {mx['server_cpu_pct']:.0f}% + {mx['valkey_cpu_pct']:.0f}% / {mx['client_cpu_pct']:.0f}% | "
                     f"{mx['other_cpu_pct']:.0f}% |")
        L.append("")
    if skipped:
        L += ["Not run: " + "; ".join(f"the host on {'a cluster' if h['redis'] == 'cluster' else 'one Valkey'} "
                                      f"({h.get('skipped', 'failed')})" for h in skipped) + ".", ""]
    L += summary_lines(res)
    # quiet
    checks = raw.get("quiet_checks", [])
    disturbed = [lbl for lbl, r in iter_measurements(res) if r.get("disturbed")]
    L.append(f"**How quiet the machine was.** Before each measurement the script waited (at most "
             f"{args.quiet_wait:.0f} s) for other processes to use < {args.quiet_threshold:g}% of a core: "
             f"{sum(1 for c in checks if c['quiet'])} of {len(checks)} checks found it quiet, "
             f"{sum(c['waited_s'] for c in checks):.0f} s waited in all. "
             + (f"Disturbed measurements (kept, marked *): {', '.join(disturbed)}." if disturbed
                else "No measurement was disturbed."))
    L.append("")
    L.append(f"Raw results: `bench/.work/scale_out/last.json` (not committed). Rerun: "
             f"`.venv/bin/python bench/scale_out.py` (`--help` for sizes).")
    L.append(MARK_END)
    return "\n".join(L) + "\n"


def summary_lines(res: dict[str, Any]) -> list[str]:
    """What the tables show about correctness, computed from them."""
    lives = [m[k] for m in res.get("matrix", []) for k in ("live_one", "live_many") if "delivered" in m.get(k, {})]
    creates = [r for m in res.get("matrix", []) for r in m.get("create", [])]
    if not lives and not creates:
        return []
    out = ["**Correctness across nodes.** "]
    if lives:
        d, e = sum(r["delivered"] for r in lives), sum(r["expected"] for r in lives)
        cd = sum(r["cross_delivered"] for r in lives if r["nodes"] > 1)
        ce = sum(r["cross_expected"] for r in lives if r["nodes"] > 1)
        bad = sum(r["lost"] + r["duplicates"] + r["out_of_order"] + r["seq_gaps"] for r in lives)
        out[0] += (f"Over the {len(lives)} live runs, {d:,} of {e:,} expected deliveries arrived, {cd:,.0f} of "
                   f"{ce:,.0f} of them to readers on another node than the one the comment was posted through; "
                   f"lost + duplicated + out of order + sequence gaps: {bad}. ")
    if creates:
        ok = sum(1 for r in creates if r.get("stored_ok"))
        out[0] += (f"In {ok} of {len(creates)} create runs the thread's count read back through the last node "
                   f"matched the POSTs answered; non-2xx answers: {sum(r['non2xx'] for r in creates)}. ")
    return out + [""]


def iter_measurements(res: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for m in res.get("matrix", []):
        for i, r in enumerate(m.get("create", [])):
            out.append((f"{m['label']} create run {i + 1}", r))
        for key, name in (("live_one", "live 1 thread"), ("live_many", "live many threads")):
            if m.get(key):
                out.append((f"{m['label']} {name}", m[key]))
    for h in res.get("host", []):
        if h.get("mixed"):
            out.append((f"host on {h['valkey']} mixed", h["mixed"]))
    return out


def merge_raw(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Add this run's measurements to an earlier run's (same section): entries of the same
    topology / Valkey kind are replaced; the later run is named in the section."""
    out = dict(base)
    res = {k: list(v) if isinstance(v, list) else v for k, v in base["results"].items()}
    for key, ident in (("matrix", "label"), ("wake", "redis"), ("host", "redis")):
        for item in new["results"].get(key, []):
            if item.get("skipped"):
                continue
            res[key] = [x for x in res.get(key, []) if x.get(ident) != item.get(ident)] + [item]
    out["results"] = res
    out["quiet_checks"] = base.get("quiet_checks", []) + new.get("quiet_checks", [])
    out["server_code"] = list(dict.fromkeys((base.get("server_code") or []) + (new.get("server_code") or [])))
    out["merged"] = base.get("merged", []) + [{k: new[k] for k in ("started", "argv", "elapsed_s", "load1_start",
                                                                     "git_end")}]
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    words = lambda s: [x for x in s.split(",") if x]  # noqa: E731
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phases", type=words, default=["matrix", "wake", "host"], help="matrix,wake,host")
    ap.add_argument("--redis", type=words, default=["single", "cluster"], help="matrix: single,cluster")
    ap.add_argument("--nodes", type=ints, default=[1, 3], help="matrix: node counts")
    ap.add_argument("--workers", type=int, default=1, help="matrix: uvicorn workers per node")
    ap.add_argument("--matrix-parts", type=words, default=["create", "live"])
    ap.add_argument("--runs", type=int, default=1, help="create runs per topology")
    ap.add_argument("--creates", type=int, default=6000, help="comments per create run")
    ap.add_argument("--create-conc", type=int, default=16)
    ap.add_argument("--create-cap", type=int, default=60, help="time cap of a create run, s")
    ap.add_argument("--live-readers", type=int, default=2000)
    ap.add_argument("--live-threads", type=int, default=200, help="threads of the many-threads live run")
    ap.add_argument("--live-comments", type=int, default=40)
    ap.add_argument("--live-rate", type=float, default=2.0)
    ap.add_argument("--drain-timeout", type=float, default=60.0)
    ap.add_argument("--connect-max-s", type=float, default=120.0)
    ap.add_argument("--settle", type=float, default=2.0, help="s between readers ready and the RSS reading")
    ap.add_argument("--host-redis", type=words, default=["single", "cluster"], help="host: single,cluster")
    ap.add_argument("--host-sites", type=int, default=1000)
    ap.add_argument("--host-threads", type=int, default=20, help="threads per site")
    ap.add_argument("--host-comments", type=int, default=50, help="comments per thread")
    ap.add_argument("--host-reply-frac", type=float, default=0.25)
    ap.add_argument("--host-nodes", type=int, default=1)
    ap.add_argument("--host-workers", type=int, default=2)
    ap.add_argument("--host-conc", type=int, default=16)
    ap.add_argument("--host-write", type=float, default=0.1, help="fraction of creates in the mix")
    ap.add_argument("--host-dist", choices=["zipf", "uniform"], default="zipf")
    ap.add_argument("--host-zipf-s", type=float, default=1.0)
    ap.add_argument("--host-duration", type=int, default=60, help="time cap of the mixed run, s")
    ap.add_argument("--host-requests", type=int, default=300_000, help="count cap of the mixed run")
    ap.add_argument("--budget-min", type=float, default=20.0,
                    help="skip a further host run if it would end after this many minutes of the run")
    ap.add_argument("--quiet-threshold", type=float, default=25.0, help="%% of a core other processes may use")
    ap.add_argument("--quiet-wait", type=float, default=60.0, help="longest wait for quiet before a measurement, s")
    ap.add_argument("--quiet-wait-total", type=float, default=300.0, help="longest wait for quiet in all, s")
    ap.add_argument("--retries", type=int, default=0, help="repeat a disturbed measurement (keep the quietest)")
    ap.add_argument("--quick", action="store_true", help="smoke run: small sizes, no RESULTS.md")
    ap.add_argument("--write", action="store_true", help="update bench/RESULTS.md even with --quick or custom phases")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--merge", metavar="RAW_JSON",
                    help="add this run's measurements to an earlier run's raw results and render both")
    ap.add_argument("--render", metavar="RAW_JSON", help="only rewrite the section from a raw results file")
    args = ap.parse_args(argv)
    if args.quick:
        args.creates, args.create_cap = 600, 20
        args.live_readers, args.live_threads, args.live_comments, args.live_rate = 300, 30, 10, 5.0
        args.drain_timeout, args.settle = 20.0, 1.0
        args.host_sites, args.host_threads, args.host_comments = 20, 20, 50
        args.host_duration, args.host_requests = 8, 20_000
        args.quiet_wait, args.quiet_wait_total = 10.0, 30.0
        args.no_write = not args.write
    if set(args.phases) != {"matrix", "wake", "host"} and not args.write:
        args.no_write = True
    if args.live_readers % args.live_threads:
        ap.error("--live-readers must be a multiple of --live-threads")
    return args


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds: every process we started is stopped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    args = parse_args(argv)
    if args.render:
        raw = json.loads(Path(args.render).read_text())
        section = render_section(raw)
        print(section)
        if not args.no_write:
            write_section("scale_out", section)
            log(f"updated {RESULTS.relative_to(ROOT)}")
        return 0
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    live_fanout.raise_fd_limit(args.live_readers + 2000)
    live_fanout.ensure_node_modules()
    RUN.mkdir(parents=True, exist_ok=True)
    info = live_fanout.machine_info()
    load1 = loadavg1()
    code0 = server_code_state()
    started = datetime.now(timezone.utc)
    log(f"{info['cpu']}, {info['cores']} cores; 1-minute load average {load1:.2f}; git {info['git']}")
    bench = Bench(args)
    t0 = time.monotonic()
    try:
        if "matrix" in args.phases:
            bench.matrix()
        if "wake" in args.phases:
            bench.wake()
        if "host" in args.phases:
            bench.host()
    finally:
        bench.stop_all()
        shutil.rmtree(bench.workdir, ignore_errors=True)
    elapsed = time.monotonic() - t0
    raw = {"info": info, "args": vars(args), "argv": " ".join(argv if argv is not None else sys.argv[1:]),
           "started": started.isoformat(), "elapsed_s": round(elapsed, 1), "load1_start": load1,
           "load1_end": loadavg1(), "server_code": [code0, server_code_state()],
           "git_end": run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]), "wrk": run(["wrk", "-v"]).splitlines()[0].split(" [")[0],
           "results": bench.results, "quiet_checks": bench.quiet.checks}
    if args.merge:
        raw = merge_raw(json.loads(Path(args.merge).read_text()), raw)
    out = RUN / ("last.json" if not args.no_write else "scratch.json")
    out.write_text(json.dumps(raw, indent=1, default=str))
    section = render_section(raw)
    print(section)
    if not args.no_write:
        write_section("scale_out", section)
        log(f"updated {RESULTS.relative_to(ROOT)}; raw results in {out.relative_to(ROOT)}")
    else:
        log(f"raw results in {out.relative_to(ROOT)} (RESULTS.md not changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
