"""The `rejoinder` command as a child process, and a raw look at everything stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import redis as redis_sync

SECRET = "test-secret-key"  # the app server's, so hashes made by the CLI match the server's


def cli(redis_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REJOINDER_REDIS_URL": redis_url, "REJOINDER_SECRET_KEY": SECRET, **(env or {})}
    return subprocess.run([sys.executable, "-m", "rejoinder", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def cli_json(redis_url: str, *args: str) -> dict[str, Any]:
    """Run a command that must succeed and print a JSON report."""
    result = cli(redis_url, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def everything(client: redis_sync.Redis) -> dict[str, Any]:
    """Every key and its whole value, as text: what a leak of the database would give away."""
    out: dict[str, Any] = {}
    for key in client.scan_iter(match="*", count=1000):
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
