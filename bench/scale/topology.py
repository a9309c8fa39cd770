"""What bench/scale_out.py runs: one Valkey or a 3-master Valkey Cluster, and N `rejoinder serve` nodes.

Every process here is a child we start and stop by its PID; everything binds 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

import harness
from harness import http_get, rss_kib, stop_tree, tree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# All nodes share one public URL, as behind a load balancer: the widget's frame
# (and so the websocket's Origin) is served from there. Never contacted.
PUBLIC_URL = "https://comments.bench.invalid"

# --------------------------------------------------------------------- Valkey


def _free_cluster_port() -> int:
    """A port whose cluster bus (port + 10000) is free too."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


class Valkey:
    """One Valkey (kind "single") or a cluster of `masters` masters, no replicas (kind "cluster"),
    append-only file on with appendfsync everysec (as production), a password."""

    def __init__(self, kind: str, folder: Path, masters: int = 3) -> None:
        from rejoinder.embedded import EmbeddedRedis

        assert kind in ("single", "cluster")
        self.kind = kind
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.password = secrets.token_hex(16)
        self.nodes: list[Any] = []
        if kind == "single":
            self.nodes.append(EmbeddedRedis(folder / "node0", password=self.password))
        else:
            for i in range(masters):
                self.nodes.append(EmbeddedRedis(folder / f"node{i}", port=_free_cluster_port(), password=self.password,
                                                extra=["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                                       "--cluster-node-timeout", "2000", "--masterauth", self.password]))

    @property
    def label(self) -> str:
        return "1 Valkey" if self.kind == "single" else f"{len(self.nodes)}-master cluster"

    @property
    def url(self) -> str:
        if self.kind == "single":
            return self.nodes[0].url
        return f"redis+cluster://:{self.password}@127.0.0.1:{self.nodes[0].port}"

    def start(self, timeout: float = 30.0) -> "Valkey":
        from rejoinder.embedded import server_binary

        for node in self.nodes:
            node.start()
        if self.kind == "cluster":
            cli = server_binary().with_name("valkey-cli")
            subprocess.run([str(cli), "-a", self.password, "--no-auth-warning", "--cluster", "create",
                            *[f"127.0.0.1:{n.port}" for n in self.nodes], "--cluster-replicas", "0", "--cluster-yes"],
                           check=True, capture_output=True, timeout=timeout)
            deadline = time.monotonic() + timeout
            while True:
                states = [self._cli(n.port, "cluster", "info") for n in self.nodes]
                if all("cluster_state:ok" in s for s in states):
                    break
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("cluster did not reach cluster_state:ok")
                time.sleep(0.1)
        return self

    def _cli(self, port: int, *args: str) -> str:
        from rejoinder.embedded import server_binary

        cli = server_binary().with_name("valkey-cli")
        return subprocess.run([str(cli), "-a", self.password, "--no-auth-warning", "-p", str(port), *args],
                              capture_output=True, text=True, timeout=30).stdout

    def pids(self) -> list[int]:
        return [n.proc.pid for n in self.nodes if n.proc is not None]

    def info(self, section: str) -> list[dict[str, str]]:
        out = []
        for n in self.nodes:
            fields = {}
            for line in self._cli(n.port, "info", section).splitlines():
                if ":" in line and not line.startswith("#"):
                    k, _, v = line.partition(":")
                    fields[k] = v.strip()
            out.append(fields)
        return out

    def memory(self) -> dict[str, int]:
        """used_memory and used_memory_dataset summed over the masters, bytes; and keys."""
        mem = self.info("memory")
        keyspace = self.info("keyspace")
        keys = 0
        for ks in keyspace:
            for v in ks.values():
                keys += int(v.split(",")[0].split("=")[1])
        return {"used_memory": sum(int(m.get("used_memory", 0)) for m in mem),
                "used_memory_dataset": sum(int(m.get("used_memory_dataset", 0)) for m in mem),
                "used_memory_rss": sum(int(m.get("used_memory_rss", 0)) for m in mem),
                "keys": keys}

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------- nodes


def node_env(redis_url: str, secret: str) -> dict[str, str]:
    return harness.rejoinder_env(redis_url, PUBLIC_URL, secret)


class Node:
    """One `rejoinder serve` process (with its uvicorn workers), stopped by PID."""

    def __init__(self, redis_url: str, secret: str, workers: int, logdir: Path) -> None:
        self.port = harness.free_port()
        self.workers = workers
        self.env = node_env(redis_url, secret)
        self.logfile = logdir / f"rejoinder-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._pids: list[int] = []

    def start(self, probe_site: str, timeout: float = 60) -> "Node":
        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "rejoinder"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        path = f"/api/threads?site={probe_site}&page=" + urllib.parse.quote("/ready-probe")
        ok = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rejoinder serve exited: {self.logfile.read_text()[-2000:]}")
            try:
                ok = ok + 1 if http_get(self.port, path, timeout=2)[0] == 200 else 0
            except OSError:
                ok = 0
                time.sleep(0.1)
            # every worker must be up (with several workers, a few answers in a row)
            if ok >= (1 if self.workers == 1 else 20) and len(tree(self.proc.pid)) >= self.workers + (self.workers > 1):
                break
        else:
            self.stop()
            raise RuntimeError(f"rejoinder serve on port {self.port} did not come up")
        self._pids = tree(self.proc.pid)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def pids(self) -> list[int]:
        return tree(self.pid) if self.proc is not None else []

    def rss_kib(self) -> int:
        return rss_kib(self.pids())

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_tree(self.proc, self._pids or tree(self.proc.pid), timeout=20)
        self.proc = None


def register_site(redis_url: str, site: str, origin: str) -> None:
    env = dict(os.environ, REJOINDER_REDIS_URL=redis_url)
    out = subprocess.run([str(VENV_BIN / "rejoinder"), "site", "add", site, "--name", "Bench", "--origin", origin],
                         env=env, capture_output=True, text=True, timeout=60)
    if out.returncode != 0 and "exists" not in out.stderr:
        raise RuntimeError(f"rejoinder site add failed: {out.stdout}{out.stderr}")
