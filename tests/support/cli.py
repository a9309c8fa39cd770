"""The `rejoinder` command (in a thread, or as a child process), and a raw look at everything stored."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
from typing import Any

import redis as redis_sync

SECRET = "test-secret-key"  # the app server's, so hashes made by the CLI match the server's


def cli(redis_url: str, *args: str, env: dict[str, str] | None = None, process: bool = False
        ) -> subprocess.CompletedProcess[str]:
    """Run `rejoinder ARGS` against the test database.

    With process=True, as a child process (`python -m rejoinder`), which is how an
    operator runs it; a few tests do that. The rest call the same entry point,
    rejoinder.__main__.main, in a thread of this process: the same argument parsing
    and code, without paying a fresh interpreter's imports (seconds on a busy
    2-core machine) for every command."""
    values = {"REJOINDER_REDIS_URL": redis_url, "REJOINDER_SECRET_KEY": SECRET, **(env or {})}
    if process:
        return subprocess.run([sys.executable, "-m", "rejoinder", *args], env={**os.environ, **values},
                              capture_output=True, text=True, timeout=120)
    return _in_process(list(args), values)


def _in_process(args: list[str], values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from rejoinder.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    code: list[int] = []

    def run() -> None:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code.append(main(args))
            except SystemExit as exit_:  # argparse refusals and explicit exits
                code.append(exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1))

    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        # A thread of its own: the command runs its own event loop (asyncio.run).
        worker = threading.Thread(target=run, name="rejoinder-cli")
        worker.start()
        worker.join(120)
        assert not worker.is_alive(), f"rejoinder {' '.join(args)} did not finish in 120 s"
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return subprocess.CompletedProcess(["rejoinder", *args], code[0] if code else 1, out.getvalue(), err.getvalue())


def cli_json(redis_url: str, *args: str) -> dict[str, Any]:
    """Run a command that must succeed and print a JSON report."""
    result = cli(redis_url, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# The mail/webhook worker's own keys: its lease, cursors, outbox and batches. It
# follows earlier, accepted writes in the background at its own pace, so a test that
# compares the database before and after a refused command leaves them out.
WORKER_STATE = re.compile(r"^rj:\{s:[^}]+\}:(lease|cur:|outbox|batchdue|batch:|hookq|hookatt|hooklog)")


def everything(client: redis_sync.Redis, *, worker: bool = True) -> dict[str, Any]:
    """Every key and its whole value, as text: what a leak of the database would give away
    (with worker=False, without the worker's own keys)."""
    out: dict[str, Any] = {}
    for key in client.scan_iter(match="*", count=1000):
        if not worker and WORKER_STATE.search(key):
            continue
        kind = client.type(key)
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "stream":
            value = client.xrange(key)
        else:
            value = kind
        out[key] = value
    return out
