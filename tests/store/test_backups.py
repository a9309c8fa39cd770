"""`rejoinder backup` and `restore`: a site to a file and back, while the server keeps writing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from ..conftest import SITE, register_site
from ..support.api import all_comments, post
from ..support.invariants import thread_problems


def cli(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REJOINDER_REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "rejoinder", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_backup_and_restore_a_site(redis_server, redis_client, api, other_reader, tmp_path: Path) -> None:
    register_site(redis_client, "other", ["https://other.example"])
    tids = []
    for page in ("p1", "p2"):
        tid = api.get("/api/threads", params={"site": SITE, "page": page}).json()["thread"]["id"]
        root = post(api, tid, f"root on {page}")["comment"]["id"]
        post(other_reader, tid, "a reply", parent=root)
        api.put(f"/api/threads/{tid}/comments/{root}/like")
        tids.append(tid)
    before = {tid: all_comments(api, tid) for tid in tids}
    out = tmp_path / "demo.jsonl"

    # Writes keep arriving while the backup runs: each thread is still a consistent snapshot.
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            post(other_reader, tids[0])  # a text of its own each time
    t = threading.Thread(target=writer)
    t.start()
    try:
        result = cli(redis_server.url, "backup", "--site", SITE, "--out", str(out))
    finally:
        stop.set()
        t.join()
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["type"] == "header" and [x["site"]["id"] for x in lines if x["type"] == "site"] == [SITE]
    assert sorted(x["tid"] for x in lines if x["type"] == "thread") == sorted(tids)

    # Lose the site's data, restore it, and every comment, reply and like is back.
    for tid in tids:
        for key in list(redis_client.scan_iter(match=f"rj:{{t:{tid}}}:*")):
            redis_client.delete(key)
    assert api.get(f"/api/threads/{tids[1]}").status_code == 404
    result = cli(redis_server.url, "restore", str(out))
    assert result.returncode == 0, result.stderr
    assert all_comments(api, tids[1]) == before[tids[1]]
    restored = all_comments(api, tids[0])
    assert [c["id"] for c in restored][:2] == [c["id"] for c in before[tids[0]]][:2]
    assert restored[0]["likes"] == 1
    for tid in tids:
        assert thread_problems(redis_client, tid) == []


def test_restore_refuses_a_foreign_or_broken_file(redis_server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"type": "header", "format": "something-else", "version": 1}) + "\n")
    result = cli(redis_server.url, "restore", str(bad))
    assert result.returncode == 1 and "not a Rejoinder backup" in result.stderr
    sneaky = tmp_path / "sneaky.jsonl"
    sneaky.write_text(json.dumps({"type": "thread", "tid": "0" * 24,
                                  "keys": [["rj:{t:111111111111111111111111}:meta", "AAAA", 0]]}) + "\n")
    result = cli(redis_server.url, "restore", str(sneaky))
    assert result.returncode != 0
