"""What every benchmark here shares: logging, CPU and memory from /proc, waiting for a quiet machine,
percentiles, the machine's description, ports and HTTP probes, and writing a section of RESULTS.md.

A script imports it as `harness` (bench/ is on sys.path when a script runs from it). Nothing here starts
a server or a load generator: those differ per benchmark and stay in the scripts.
"""

from __future__ import annotations

import http.client
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
CLK_TCK = os.sysconf("SC_CLK_TCK")
_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} {time.monotonic() - _T0:6.0f}s] {msg}", flush=True)


# --------------------------------------------------------------------------- /proc


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    """The process and its live descendants (at most 1,000)."""
    todo, seen = [pid], []
    while todo and len(seen) < 1000:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo.extend(children(p))
    return seen


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()  # fields from the state on (the name may hold spaces)


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of these processes."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def memory_kib(pids: Iterable[int]) -> tuple[int, int]:
    """(sum of VmRSS, sum of VmHWM) in KiB."""
    rss = hwm = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except OSError:
            pass
    return rss, hwm


def rss_kib(pids: Iterable[int]) -> int:
    return memory_kib(pids)[0]


def machine_busy_s() -> float:
    """CPU seconds used by the whole machine since boot, all cores."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)  # idle + iowait
    return (sum(parts[:8]) - idle) / CLK_TCK  # guest time is already inside user


def machine_busy_pct(seconds: float) -> float:
    """CPU used by everything on the machine over the next `seconds`, in % of one core."""
    b0, w0 = machine_busy_s(), time.monotonic()
    time.sleep(seconds)
    return 100 * (machine_busy_s() - b0) / (time.monotonic() - w0)


def top_processes(n: int = 6) -> str:
    out = subprocess.run(["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True).stdout
    return "\n".join(line[:160] for line in out.splitlines()[: n + 1])


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def loadavg1() -> float:
    return float(loadavg().split()[0])


_last_children = 0.0


def child_cpu_delta() -> float:
    """CPU of child processes reaped since the last call (a load generator's run)."""
    global _last_children
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    now = ru.ru_utime + ru.ru_stime
    delta, _last_children = now - _last_children, now
    return delta


def sockets_per_worker(pid: int) -> list[int]:
    """Open sockets of each worker of a server: its child processes that hold any (uvicorn's
    workers under its supervisor), or the process itself when it has no such child."""
    def count(p: int) -> int:
        n = 0
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            return 0
        for fd in fds:
            try:
                if os.readlink(f"/proc/{p}/fd/{fd}").startswith("socket:"):
                    n += 1
            except OSError:
                pass
        return n

    workers = [n for n in (count(c) for c in children(pid)) if n > 1]
    return workers or [count(pid)]


class Meter:
    """CPU of each named process (with its descendants) and of the whole machine between two snapshots."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = {k: v for k, v in pids.items() if v}
        self.t0 = time.monotonic()
        self.m0 = machine_busy_s()
        # the driver's children are the servers and the client: count only its own process
        self.c0 = {k: self._cpu(k, v) for k, v in self.pids.items()}

    @staticmethod
    def _cpu(name: str, pid: int) -> float:
        return cpu_seconds([pid] if name == "driver" else tree(pid))

    def stop(self) -> dict[str, float]:
        wall = max(1e-6, time.monotonic() - self.t0)
        machine = machine_busy_s() - self.m0
        used = {k: self._cpu(k, v) - self.c0[k] for k, v in self.pids.items()}
        out = {f"{k}_cpu_pct": round(100 * v / wall, 1) for k, v in used.items()}
        out["machine_cpu_pct"] = round(100 * machine / wall, 1)
        out["other_cpu_pct"] = round(max(0.0, 100 * (machine - sum(used.values())) / wall), 1)
        out["wall_s"] = round(wall, 2)
        return out


class Quiet:
    """Waits (bounded per check and in all) until processes that are not ours use < threshold % of a core."""

    def __init__(self, threshold: float, max_wait: float, max_total: float) -> None:
        self.threshold, self.max_wait, self.budget = threshold, max_wait, max_total
        self.checks: list[dict[str, Any]] = []

    def wait(self, label: str, pids: dict[str, int], sample: float = 3.0) -> dict[str, Any]:
        t0 = time.monotonic()
        deadline = t0 + min(self.max_wait, max(0.0, self.budget))
        last_log = -1e9
        while True:
            m = Meter(pids | {"driver": os.getpid()})
            time.sleep(sample)
            other = m.stop()["other_cpu_pct"]
            if other < self.threshold or time.monotonic() > deadline:
                break
            if time.monotonic() - last_log > 60:
                last_log = time.monotonic()
                log(f"  machine busy: other processes use {other:.0f}% of a core (load {loadavg()}); waiting\n"
                    f"{top_processes()}")
            time.sleep(5)
        waited = time.monotonic() - t0
        self.budget -= waited
        check = {"label": label, "other_cpu_pct": other, "quiet": other < self.threshold,
                 "waited_s": round(waited, 1), "load": loadavg(), "at": datetime.now(timezone.utc).strftime("%H:%M:%S")}
        if not check["quiet"]:
            check["top"] = top_processes()
            log(f"  not quiet after waiting {waited:.0f}s (other {other}%), measuring anyway (flagged)")
        self.checks.append(check)
        return check


def wait_idle(threshold: float, max_wait: float, sample: float = 3.0) -> dict[str, Any]:
    """Wait (at most max_wait s) until the whole machine uses < threshold % of one core over `sample` s."""
    deadline = time.monotonic() + max_wait
    last_log = -1e9
    while True:
        busy = machine_busy_pct(sample)
        if busy < threshold:
            return {"busy_pct": round(busy, 1), "idle": True}
        if time.monotonic() > deadline:
            return {"busy_pct": round(busy, 1), "idle": False, "top": top_processes()}
        if time.monotonic() - last_log > 60:
            last_log = time.monotonic()
            log(f"machine busy ({busy:.0f}% of a core over {sample:.0f} s), waiting:\n{top_processes()}")
        time.sleep(5)


def stop_tree(proc: subprocess.Popen[bytes] | None, pids: list[int], timeout: float = 15) -> None:
    """SIGTERM our root process, then SIGKILL any of the PIDs we recorded that is still ours
    (a child of the root, or an orphan of it reparented to init)."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for pid in pids:
        fields = _stat(pid) if pid != proc.pid else None
        if fields and int(fields[1]) in (proc.pid, 1):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# ------------------------------------------------------------------------ servers

# All of a benchmark's load comes from 127.0.0.1, which the per-address limits exist to refuse:
# these are lifted (the limiter still runs on every request, so its cost is measured).
ALLOWANCES = {
    "REJOINDER_RATE_IP_WRITES": "1000000000",
    "REJOINDER_RATE_IDENTITY_WRITES": "1000000000",
    "REJOINDER_RATE_IP_THREADS": "1000000000",  # pages seen for the first time (thread records)
    "REJOINDER_LIVE_PER_IP": "100000",  # websockets
}


def rejoinder_env(redis_url: str, public_url: str, secret: str) -> dict[str, str]:
    """The environment of a `rejoinder serve` under benchmark: this one's, plus its database,
    public URL, secret, quiet logs and the ALLOWANCES."""
    return dict(os.environ) | {"REJOINDER_REDIS_URL": redis_url, "REJOINDER_PUBLIC_URL": public_url,
                               "REJOINDER_SECRET_KEY": secret, "REJOINDER_LOG_LEVEL": "warning"} | ALLOWANCES


# ---------------------------------------------------------------------- statistics


def pct(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile, p in 0..100; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


# ------------------------------------------------------------------------- machine


def version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def run(cmd: list[str], **kw: Any) -> str:
    """A command's output (stdout + stderr, stripped), or "" if it cannot run."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def git_state(*paths: str) -> str:
    """HEAD's short hash, marked when the given paths (default server/) have uncommitted changes."""
    head = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    where = list(paths or ("server",))
    dirty = bool(run(["git", "-C", str(ROOT), "status", "--porcelain", "--", *where]))
    return head + (f" + uncommitted changes in {', '.join(p + '/' for p in where)}" if dirty else "")


def valkey_version() -> str:
    from rejoinder.embedded import server_binary

    out = run([str(server_binary()), "--version"])
    m = re.search(r"v=(\S+)", out)
    return m.group(1) if m else out


def machine_info(**extra: Any) -> dict[str, Any]:
    """The machine and the versions every server benchmark reports; a script adds its own (`extra`)."""
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(), "os": run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": platform.python_version(), "rejoinder": version("rejoinder"), "git": git_state(),
        "starlette": version("starlette"), "uvicorn": version("uvicorn"), "uvloop": version("uvloop"),
        "httptools": version("httptools"), "redis-py": version("redis"), "hiredis": version("hiredis"),
        "orjson": version("orjson"), "valkey-server": valkey_version(),
    } | extra


def machine_line(*more: str) -> str:
    """The machine in one line, for a section's heading: date, host, CPU, cores, Python, and `more`."""
    return ", ".join([f"{datetime.now(timezone.utc).date().isoformat()}", f"{platform.node()} ({platform.machine()})",
                      cpu_model(), f"{os.cpu_count()} cores", f"Python {platform.python_version()}", *more])


# ------------------------------------------------------------------------- network


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_http(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Until the server answers 200 on `path`; RuntimeError if it exits or takes longer than `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if http_get(port, path, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout}s")


# ------------------------------------------------------------------------- results


def markers(name: str) -> tuple[str, str]:
    """The comments that bound a script's section of RESULTS.md."""
    return (f"<!-- {name}:begin (written by bench/{name}.py; edits here are overwritten) -->", f"<!-- {name}:end -->")


def write_section(name: str, section: str) -> None:
    """Put `section` (which starts and ends with markers(name)) in RESULTS.md in place of the script's
    old one, whatever its begin marker's note says, or at the end; every other section stays as it is.
    The file is re-read right before writing and replaced whole, so a reader never sees half of it."""
    end = markers(name)[1]
    if RESULTS.exists():
        text = RESULTS.read_text()
        m = re.search(rf"<!-- {re.escape(name)}:begin[^>]*-->.*?" + re.escape(end), text, flags=re.S)
        if m:
            text = text[:m.start()] + section.strip("\n") + text[m.end():]
        else:
            text = text.rstrip("\n") + "\n\n" + section.strip("\n") + "\n"
    else:
        text = ("# Benchmark results\n\nFigures measured on this project's machine. Each section is written by "
                "the script it names; rerun that script to update it.\n\n" + section.strip("\n") + "\n")
    tmp = RESULTS.with_suffix(f".md.tmp-{name}")
    tmp.write_text(text)
    os.replace(tmp, RESULTS)
