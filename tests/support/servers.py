"""Real server processes for tests: the app under uvicorn, on free ports, owned by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from rejoinder.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "test-metrics-token"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # what Prometheus sends to scrape /metrics


def metric(text: str, name: str) -> float:
    """One unlabelled sample of a /metrics answer."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


class AppServer:
    """`rejoinder serve` as a child process. The widget/API origin is http://localhost:PORT
    and blog pages are served from http://127.0.0.1:PORT: two sites, like a real embed."""

    def __init__(self, redis_url: str, *, port: int | None = None, workers: int = 1,
                 env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.redis_url = redis_url
        self.workers = workers
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="rejoinder-app-", suffix=".log")[1])

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def page_origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://localhost:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "REJOINDER_REDIS_URL": self.redis_url,
            "REJOINDER_PUBLIC_URL": self.base,
            "REJOINDER_SECRET_KEY": "test-secret-key",
            "REJOINDER_DEMO_PAGE": "1",
            # Tests change sites between requests: do not cache them.
            "REJOINDER_SITE_CACHE_SECONDS": "0",
            "REJOINDER_LOG_LEVEL": "warning",
            # Tests post fast from one address; the limits have their own test.
            "REJOINDER_RATE_IP_WRITES": "100000",
            "REJOINDER_RATE_IDENTITY_WRITES": "100000",
            # The tests' webhook receivers listen on 127.0.0.1; the refusal has its own test.
            "REJOINDER_FETCH_PRIVATE_OK": "1",
            # Remote posts are looked at every half second here (a minute at least by default). Every node
            # of a run says so: the worker of any node on the database may hold a site's lease.
            "REJOINDER_REMOTE_POLL_SECONDS": "0.5",
            # /metrics is closed without a token; the tests scrape it with this one (support/api.py).
            "REJOINDER_METRICS_TOKEN": METRICS_TOKEN,
        })
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 20.0) -> "AppServer":
        with self.log_path.open("wb") as log:
            self.proc = self._spawn(log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/api/openapi.json", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout}s:\n{self.output()}")

    def _spawn(self, log: "object") -> "subprocess.Popen[bytes]":
        return subprocess.Popen(
            [sys.executable, "-m", "rejoinder", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)  # type: ignore[arg-type]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
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


class ModuleServer:
    """A test peer (python -m tests.support.<module>) as a child process on a free port."""

    module = ""
    ready_path = "/"

    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="rejoinder-peer-", suffix=".log")[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "ModuleServer":
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", self.module, "--port", str(self.port), *self.args],
                                         stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited:\n{self.log_path.read_text()}")
            try:
                httpx.get(f"{self.base}{self.ready_path}", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.module} did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class ProviderServer(ModuleServer):
    """The local OAuth provider (tests/support/oauth_provider.py)."""

    module = "tests.support.oauth_provider"
    ready_path = "/google/jwks"

    def __init__(self, redirect_base: str, port: int | None = None) -> None:
        super().__init__("--redirect-base", redirect_base, port=port)


class AkismetServer(ModuleServer):
    """The local Akismet protocol server (tests/support/akismet_server.py)."""

    module = "tests.support.akismet_server"
    ready_path = "/_calls"
    key = "test-akismet-key"

    def __init__(self) -> None:
        super().__init__("--key", self.key)


class MastodonServer(ModuleServer):
    """The local Mastodon server (tests/support/mastodon_server.py)."""

    module = "tests.support.mastodon_server"
    ready_path = "/_admin/requests"


class AtprotoPds(ModuleServer):
    """The stand-in as a child process on a free port: .base is the issuer, the PDS and the PLC host."""

    module = "tests.support.atproto_pds"
    ready_path = "/_admin/requests"

    def __init__(self, appview: str | None = None, port: int | None = None) -> None:
        super().__init__(*(("--appview", appview) if appview else ()), port=port)

    @property
    def plc(self) -> str:
        """What REJOINDER_BLUESKY_PLC is set to."""
        return f"{self.base}/plc"


class BlueskyServer(ModuleServer):
    """The local Bluesky AppView (tests/support/bluesky_server.py)."""

    module = "tests.support.bluesky_server"
    ready_path = "/_admin/requests"
