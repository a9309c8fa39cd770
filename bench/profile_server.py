#!/usr/bin/env python3
"""Where a Rejoinder worker spends its time under load: py-spy on the running server.

    .venv/bin/python bench/profile_server.py --scenario create      # POST comments, concurrency 16
    .venv/bin/python bench/profile_server.py --scenario read        # whole 1,000-comment thread, concurrency 1

Starts Valkey and `rejoinder serve` exactly as bench/core_http.py does,
drives one scenario with wrk (bounded in count and time, 127.0.0.1 only)
while `py-spy record` samples every worker, then prints the functions with
the most samples: inclusive (the function and what it calls) and self (the
function's own code), and a breakdown by library. The raw collapsed stacks
(flamegraph.pl / speedscope input) go to bench/.work/profile/<scenario>-stacks.txt.

py-spy is installed on first use into a scratch venv, bench/.work/prof-venv
(git-ignored). Sampling slows the workers a little: read the shares, not the
absolute rates.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import core_http as ch  # noqa: E402

PROF_VENV = ch.WORK / "prof-venv"
PYSPY = PROF_VENV / "bin" / "py-spy"

# library buckets, by file path fragment (first match wins)
AREAS = [
    ("rejoinder/render", "rejoinder.render (markdown + nh3)"),
    ("markdown_it", "markdown-it-py"),
    ("mdurl", "markdown-it-py"),
    ("linkify", "markdown-it-py (linkify)"),
    ("nh3", "nh3"),
    ("redis/", "redis-py"),
    ("hiredis", "redis-py"),
    ("rejoinder/models", "rejoinder.models (views, validation)"),
    ("rejoinder/", "rejoinder (other)"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn"),
    ("asyncio/", "asyncio"),
    ("orjson", "orjson"),
]


def ensure_pyspy() -> None:
    if PYSPY.exists():
        return
    ch.log("installing py-spy into bench/.work/prof-venv")
    subprocess.run([sys.executable, "-m", "venv", str(PROF_VENV)], check=True)
    subprocess.run([str(PROF_VENV / "bin" / "pip"), "install", "-q", "py-spy"], check=True)


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse_frame(frame: str) -> tuple[str, str]:
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip(), ""
    return m.group("func"), m.group("file")


def area_of(path: str) -> str:
    for frag, name in AREAS:
        if frag in path:
            return name
    return "other (interpreter, stdlib)"


def report(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    self_: collections.Counter[str] = collections.Counter()
    areas: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f]
        # drop py-spy's pseudo-frames (process and thread names: they have no file)
        frames = [f for f in frames if parse_frame(f)[1]]
        if not frames:
            continue
        total += n
        seen = set()
        for f in frames:
            func, path = parse_frame(f)
            key = f"{func} ({short(path)})"
            if key not in seen:
                inclusive[key] += n
                seen.add(key)
        func, path = parse_frame(frames[-1])
        self_[f"{func} ({short(path)})"] += n
        # the area is decided by the deepest frame that belongs to a known library
        area = "other (interpreter, stdlib)"
        for f in reversed(frames):
            a = area_of(parse_frame(f)[1])
            if a != "other (interpreter, stdlib)":
                area = a
                break
        areas[area] += n
    out = [f"{total} samples (busy, all workers)", "", "By library (deepest known frame):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in areas.most_common()]
    out += ["", f"Top {top} inclusive (function and its callees):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    out += ["", "Rejoinder's own functions, inclusive:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common()
            if "(rejoinder/" in name and 100 * n / total >= 0.5]
    out += ["", f"Top {top} self:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_.most_common(top)]
    return "\n".join(out)


def short(path: str) -> str:
    for marker in ("site-packages/", "server/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=["create", "read"], default="create")
    ap.add_argument("--concurrency", type=int, help="default: 16 for create, 1 for read")
    ap.add_argument("--duration", type=int, default=15, help="seconds of sampling (and the wrk time cap)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    ap.add_argument("--read-size", type=int, default=1000)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    ensure_pyspy()
    conc = args.concurrency or (16 if args.scenario == "create" else 1)
    valkey = ch.Valkey(ch.WORK / "profile" / "valkey").start()
    srv = ch.RejoinderServer(valkey.url, args.workers, ch.WORK / "profile" / "rejoinder")
    srv.register_site()
    srv.start()
    raw = ch.WORK / "profile" / f"{args.scenario}-stacks.txt"
    headers = ["X-Rejoinder-Client: bench-prof-{t}-0123456789"]
    try:
        c = ch.HttpClient(srv.port)
        tid = c.json("GET", f"/api/threads?site={ch.SITE}&page=/prof&limit=1")["thread"]["id"]
        if args.scenario == "create":
            load = ch.Load(f"/api/threads/{tid}/comments", "POST", ch.REJOINDER_BODY, headers=headers)
        else:
            for i in range(args.read_size):
                c.json("POST", f"/api/threads/{tid}/comments", ch.REJOINDER_BODY.replace("{n}", f"seed-{i}"),
                       headers={"X-Rejoinder-Client": "bench-seeder-0123456789"})
            load = ch.Load(f"/api/threads?site={ch.SITE}&page=/prof&limit=100",
                           next_prefix=f"/api/threads/{tid}?limit=100&cursor=", headers=headers)
        c.close()
        ch.run_wrk(srv.port, load, 4, 300, 20, srv.pids, valkey.pid, "prof-warm")  # warm-up
        result: dict[str, object] = {}

        def drive() -> None:
            result.update(ch.run_wrk(srv.port, load, conc, 10**7, args.duration + 2, srv.pids, valkey.pid,
                                     "prof"))

        t = threading.Thread(target=drive)
        t.start()
        time.sleep(1)
        assert srv.proc is not None
        subprocess.run([str(PYSPY), "record", "--pid", str(srv.proc.pid), "--subprocesses", "--rate",
                        str(args.rate), "--duration", str(args.duration), "--format", "raw", "--output", str(raw),
                        "--nonblocking"], check=True, capture_output=True)
        t.join()
        ch.log(f"load while sampling: {result.get('rate')} /s, p50 {result.get('p50_ms')} ms, "
               f"p99 {result.get('p99_ms')} ms, server CPU {result.get('server_cpu_pct')}%, "
               f"Valkey {result.get('redis_cpu_pct')}%, client {result.get('client_cpu_pct')}%")
    finally:
        srv.stop()
        valkey.stop()
    text = report(raw, args.top)
    print(text)
    (ch.WORK / "profile" / f"{args.scenario}-report.txt").write_text(text + "\n")
    ch.log(f"raw stacks: {raw.relative_to(ch.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
