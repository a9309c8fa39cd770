"""The data folder of a one-box install: the embedded database (its files, password and port), the secret key, and the supervisor that keeps that database running.

`rejoinder serve --data DIR` (or REJOINDER_DATA_DIR) with no REJOINDER_REDIS_URL starts
the embedded Valkey from DIR/valkey and restarts it if it dies; every other subcommand
given the same folder finds it there (or starts it for the length of the command when
no server runs). The demo's folder is `.rejoinder` in the clone.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from .embedded import EmbeddedRedis, free_port, ping

log = logging.getLogger("rejoinder.data")

DEMO_FOLDER = ".rejoinder"
# A database that dies more often than this is not restarted again: something is wrong
# (a full disk, a broken append-only file) and a person must look.
RESTARTS_PER_MINUTE = 5
POLL_SECONDS = 0.2


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class DataDir:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def valkey(self) -> Path:
        return self.path / "valkey"

    def _file(self, name: str, make: str) -> str:
        """A small private file of the folder, made once with `make` (mode 600)."""
        path = self.path / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(make)
            path.chmod(0o600)
        return path.read_text().strip()

    def secret_key(self) -> str:
        return self._file("secret-key", secrets.token_hex(32))

    def password(self) -> str:
        return self._file("valkey/redis-password", secrets.token_hex(16))

    def port(self) -> int:
        """The database's port, kept in the folder so other commands find it. A port that
        something else took since is replaced by a free one."""
        path = self.valkey / "port"
        if path.exists() and path.read_text().strip().isdigit():
            port = int(path.read_text().strip())
            if self.running(port) or _port_free(port):
                return port
        port = free_port()
        self.valkey.mkdir(parents=True, exist_ok=True)
        path.write_text(str(port))
        return port

    def remember_public_url(self, url: str) -> None:
        """The address the server runs at, for commands that print links (`rejoinder admin token`)."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "public-url").write_text(url)

    def public_url(self) -> str | None:
        path = self.path / "public-url"
        return path.read_text().strip() if path.exists() else None

    def running(self, port: int | None = None) -> bool:
        """Whether our database answers (with our password) on its port."""
        path = self.valkey / "port"
        if port is None:
            if not path.exists() or not path.read_text().strip().isdigit():
                return False
            port = int(path.read_text().strip())
        return ping(port, self.password())

    def database(self) -> EmbeddedRedis:
        return EmbeddedRedis(self.valkey, port=self.port(), password=self.password())

    def url(self) -> str:
        return self.database().url


def find(explicit: str | None, environ: Mapping[str, str]) -> DataDir | None:
    """The data folder a command works on: --data, else REJOINDER_DATA_DIR, else (with no
    REJOINDER_REDIS_URL) the demo's `.rejoinder` when run from a folder that has one.
    Its embedded database is used when REJOINDER_REDIS_URL is not set; with it set, the
    folder only supplies the secret key."""
    if explicit:
        return DataDir(explicit)
    if environ.get("REJOINDER_DATA_DIR"):
        return DataDir(environ["REJOINDER_DATA_DIR"])
    if not environ.get("REJOINDER_REDIS_URL") and (Path.cwd() / DEMO_FOLDER / "valkey").is_dir():
        return DataDir(Path.cwd() / DEMO_FOLDER)
    return None


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class Supervised:
    """The embedded database as a child of this process, restarted when it dies.

    Its append-only file is written before each reply (appendfsync everysec only delays
    the fsync), so a database process killed outright loses no acknowledged write: the
    restart replays the file. A power cut can lose up to about a second (README)."""

    def __init__(self, folder: DataDir) -> None:
        self.folder = folder
        self.db = folder.database()
        self.restarts: list[float] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.db.url

    def start(self) -> "Supervised":
        # uvicorn re-raises SIGTERM once its graceful shutdown is done; by default that ends the
        # process at once, skipping the `finally` that stops this database. Exit through it instead.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _exit_cleanly)
        if self.folder.running(self.db.port):
            # Left running by a server that was killed outright: shut it down cleanly (its
            # append-only file is flushed) and start our own child on the same files.
            import redis

            try:
                redis.Redis(port=self.db.port, password=self.db.password, socket_timeout=5).shutdown()
            except redis.exceptions.ConnectionError:
                pass  # it closes the connection as it exits
            deadline = time.monotonic() + 10
            while self.folder.running(self.db.port) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.db.start()
        self._thread = threading.Thread(target=self._watch, name="rejoinder-valkey-supervisor", daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            proc = self.db.proc
            if proc is None or proc.poll() is None:
                continue
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if len(self.restarts) > RESTARTS_PER_MINUTE:
                log.error("the embedded database died %d times in a minute; not restarting it: %s",
                          len(self.restarts), self.db.log_tail()[-500:])
                return
            log.warning("the embedded database exited with %s; restarting it", proc.returncode)
            try:
                self.db.start()
            except RuntimeError as exc:
                log.error("the embedded database did not restart: %s", exc)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        self.db.stop()
