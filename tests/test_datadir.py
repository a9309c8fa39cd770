"""One blog on one box: `rejoinder serve --data DIR` runs the embedded database, other commands find
it, and nothing prints a traceback for a database it cannot reach."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from rejoinder.embedded import free_port

from .support.servers import ROOT

SITE = "boxblog"
ORIGIN = "http://127.0.0.1:9"


def env_without_database(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REJOINDER_")}
    env.update({"REJOINDER_LOG_LEVEL": "warning", **extra})
    return env


def rejoinder(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rejoinder", *args], env=env or env_without_database(), cwd=ROOT,
                          capture_output=True, text=True, timeout=120, input=stdin)


class BoxServer:
    """`rejoinder serve --data DIR` as an operator runs it: no REJOINDER_REDIS_URL at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        self.log = folder.parent / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "BoxServer":
        env = env_without_database(REJOINDER_PUBLIC_URL=self.base, REJOINDER_RATE_IP_WRITES="100000",
                                    REJOINDER_RATE_IDENTITY_WRITES="100000")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "rejoinder", "serve", "--data", str(self.folder),
                                          "--host", "127.0.0.1", "--port", str(self.port)],
                                         env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"not ready in {timeout}s:\n{self.log.read_text()}")

    def database_pid(self) -> int:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        for pid in children:
            if "valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                return int(pid)
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():  # started by the supervisor thread
            for pid in (task / "children").read_text().split():
                if "valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    return int(pid)
        raise AssertionError("no valkey-server child")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[BoxServer]:
    server = BoxServer(tmp_path / "data")
    # Before the first start: the command makes the folder and runs the database for its own length.
    added = rejoinder("site", "add", SITE, "--origin", ORIGIN, "--data", str(server.folder))
    assert added.returncode == 0, added.stderr
    yield server.start()
    server.stop()


def test_serve_with_a_data_folder_loses_nothing_when_its_database_is_killed(box: BoxServer) -> None:
    # In production (no demo), / says what this server is instead of redirecting to a demo that is not there.
    home = httpx.get(f"{box.base}/", follow_redirects=False)
    assert home.status_code == 200 and "Rejoinder" in home.text and 'href="/api/openapi.json"' in home.text
    assert "default-src 'none'" in home.headers["content-security-policy"]
    with httpx.Client(base_url=box.base, timeout=10, headers={"X-Rejoinder-Client": "box-client-000001"}) as api:
        thread = api.get("/api/threads", params={"site": SITE, "page": "https://box.example/one"}).json()["thread"]
        acknowledged = []
        for i in range(20):
            r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": f"kept {i}", "name": "Kim"})
            assert r.status_code == 201, r.text
            acknowledged.append(r.json()["comment"]["id"])
        old = box.database_pid()
        os.kill(old, signal.SIGKILL)
        # The server restarts its database; until then requests get a 503, never a 500.
        deadline = time.monotonic() + 20
        while True:
            r = api.get(f"/api/threads/{thread['id']}")
            assert r.status_code in (200, 503), r.text
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 200 and box.database_pid() != old
        kept = {c["id"] for c in r.json()["comments"]}
        assert set(acknowledged) <= kept and r.json()["thread"]["count"] == 20
        assert api.post(f"/api/threads/{thread['id']}/comments", json={"text": "after", "name": "Kim"}).status_code == 201
    # Other commands find the running server's database through the folder.
    listed = rejoinder("site", "list", "--data", str(box.folder))
    assert listed.returncode == 0 and f'"id": "{SITE}"' in listed.stdout
    link = rejoinder("admin", "token", SITE, "--data", str(box.folder))
    assert link.returncode == 0 and link.stdout.startswith(f"{box.base}/admin/#token=")
    database = box.database_pid()
    box.stop()
    assert not Path(f"/proc/{database}").exists() or "valkey" not in _cmdline(database), \
        "the database outlived the server"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_an_unreachable_database_gets_one_line_never_a_traceback() -> None:
    port = free_port()
    env = env_without_database(REJOINDER_REDIS_URL=f"redis://:s3cret@127.0.0.1:{port}/0")
    for args in (["site", "list"], ["admin", "token", "demo"], ["backup", "--out", "-"], ["webhook", "log", "x"]):
        out = rejoinder(*args, env=env)
        assert out.returncode == 1, (args, out.stderr)
        assert "Traceback" not in out.stderr and "s3cret" not in out.stderr
        assert f"cannot reach the database at redis://***@127.0.0.1:{port}/0" in out.stderr
        assert "REJOINDER_REDIS_URL" in out.stderr and "--data" in out.stderr


def test_version_and_site_remove(tmp_path: Path) -> None:
    assert rejoinder("--version").stdout.strip().startswith("rejoinder ")
    folder = str(tmp_path / "data")
    assert rejoinder("site", "add", "gone", "--origin", ORIGIN, "--data", folder).returncode == 0
    assert rejoinder("site", "add", "stays", "--origin", "http://127.0.0.1:8", "--data", folder).returncode == 0
    refused = rejoinder("site", "remove", "gone", "--data", folder, stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr and "There is no undo" in refused.stderr
    removed = rejoinder("site", "remove", "gone", "--yes", "--data", folder)
    assert removed.returncode == 0, removed.stderr
    listed = rejoinder("site", "list", "--data", folder).stdout
    assert '"id": "stays"' in listed and '"id": "gone"' not in listed
    assert rejoinder("site", "remove", "gone", "--yes", "--data", folder).returncode == 1
