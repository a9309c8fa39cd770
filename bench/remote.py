"""What following remote posts costs the worker: 1,000 threads, half naming a Mastodon status and half a
Bluesky post, each with three replies, against the local Mastodon server and Bluesky AppView of the tests
(tests/support/), with the default schedule (REJOINDER_REMOTE_POLL_SECONDS=60).

Three phases, each measured by the server's CPU (its process tree: the worker runs in it) and the
requests the remote servers received:
  1. first look: the pages name their posts; until every reply is in its thread;
  2. steady, new posts: a few minutes in which every post is under an hour old (looked at each minute);
  3. steady, quieter posts: the same after the posts' last reply is made two hours old (every 3 minutes).

    .venv/bin/python bench/remote.py [--threads 1000] [--window 120] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness
import httpx

sys.path.insert(0, str(harness.ROOT / "server"))
from rejoinder.embedded import EmbeddedRedis  # noqa: E402
from rejoinder.store import keys  # noqa: E402

VENV_BIN = harness.ROOT / ".venv" / "bin"
SITE = "bench"
ORIGIN = "http://bench.example"
REPLIES = 3


class Peer:
    """A stand-in remote server of the tests, as a child process."""

    def __init__(self, module: str) -> None:
        self.port = harness.free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", module, "--port", str(self.port)], cwd=harness.ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_http(self.port, "/_admin/requests", self.proc)
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.base, timeout=30)
        # The bench's own rate is far above a real server's per-address allowance: lift it.
        self.http.post("/_admin/mode", json={"mode": "ok", "limit": 10**9, "window": 300}).raise_for_status()

    def requests(self) -> int:
        return len(self.http.get("/_admin/requests").json())

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(10)


def register(client: Any, mastodon: Peer) -> None:
    client.hset(keys.site(SITE), mapping={
        "id": SITE, "name": "Bench", "origins": json.dumps([ORIGIN]), "moderation": "publish", "created": 1,
        "blocklist": "[]", "remote_authors": json.dumps([f"{mastodon.base}/@owner", "owner.bsky.social"])})
    client.sadd(keys.site_index(), SITE)
    client.sadd(keys.origin_index(), ORIGIN)


def seed(mastodon: Peer, bluesky: Peer, threads: int) -> list[tuple[str, str, str]]:
    """(page, source, post) for each thread, with REPLIES replies each at the source."""
    out = []
    for i in range(threads):
        if i % 2 == 0:
            root = mastodon.http.post("/_admin/statuses", json={"username": "owner", "content": f"Post {i}"}).json()
            for r in range(REPLIES):
                mastodon.http.post("/_admin/statuses", json={"username": f"reader{r}", "content": f"Reply {r} to {i}",
                                                             "in_reply_to_id": root["id"]}).raise_for_status()
            out.append((f"post-{i}", "mastodon", root["url"]))
        else:
            root = bluesky.http.post("/_admin/posts", json={"handle": "owner.bsky.social", "text": f"Post {i}"}).json()
            for r in range(REPLIES):
                bluesky.http.post("/_admin/posts", json={"handle": f"reader{r}.bsky.social", "text": f"Reply {r} to {i}",
                                                         "reply_to": root["uri"]}).raise_for_status()
            out.append((f"post-{i}", "bluesky", root["uri"]))
    return out


def comments_in(client: Any, tids: list[str]) -> int:
    total = 0
    for start in range(0, len(tids), 500):
        pipe = client.pipeline(transaction=False)
        for tid in tids[start:start + 500]:
            pipe.hget(keys.thread_meta(tid), "count")
        total += sum(int(c or 0) for c in pipe.execute())
    return total


def steady(server_cpu: Any, peers: list[Peer], window: float) -> dict[str, float]:
    before_cpu, before_req = server_cpu(), sum(p.requests() for p in peers)
    time.sleep(window)
    cpu, req = server_cpu() - before_cpu, sum(p.requests() for p in peers) - before_req
    return {"requests_per_min": round(req * 60 / window), "cpu_s_per_min": round(cpu * 60 / window, 2),
            "cpu_pct": round(cpu / window * 100, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1000)
    ap.add_argument("--window", type=float, default=120.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="rejoinder-remote-"))
    db = EmbeddedRedis(folder / "valkey").start()
    mastodon = Peer("tests.support.mastodon_server")
    bluesky = Peer("tests.support.bluesky_server")
    import redis

    client = redis.Redis.from_url(db.url, decode_responses=True)
    register(client, mastodon)
    port = harness.free_port()
    env = harness.rejoinder_env(db.url, f"http://127.0.0.1:{port}", secrets.token_hex(16)) | {
        "REJOINDER_FETCH_PRIVATE_OK": "1", "REJOINDER_BLUESKY_APPVIEW": bluesky.base}
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([str(VENV_BIN / "rejoinder"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    pids: list[int] = []
    try:
        harness.wait_http(port, "/healthz", proc)
        pids = harness.tree(proc.pid)
        posts = seed(mastodon, bluesky, args.threads)
        harness.log(f"seeded {len(posts)} posts with {REPLIES} replies each")
        cpu0, t0 = harness.cpu_seconds(pids), time.monotonic()
        tids = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Origin": ORIGIN}, timeout=30) as http:
            for page, source, ref in posts:
                r = http.get("/api/threads", params={"site": SITE, "page": page, "title": page, source: ref})
                r.raise_for_status()
                tids.append(r.json()["thread"]["id"])
        want = len(posts) * REPLIES
        deadline = time.monotonic() + 600
        while comments_in(client, tids) < want and time.monotonic() < deadline:
            time.sleep(0.5)
        got = comments_in(client, tids)
        first = {"seconds": round(time.monotonic() - t0, 1), "cpu_s": round(harness.cpu_seconds(pids) - cpu0, 1),
                 "replies": got, "wanted": want,
                 "requests": mastodon.requests() + bluesky.requests()}
        harness.log(f"first look: {first}")
        time.sleep(5)
        cpu_of = lambda: harness.cpu_seconds(pids)  # noqa: E731
        new = steady(cpu_of, [mastodon, bluesky], args.window)
        harness.log(f"steady, new posts: {new}")
        # Two hours of quiet: what the schedule reads (the thread's creation, the last new reply).
        old = int(time.time() * 1000) - 2 * 3600 * 1000
        pipe = client.pipeline(transaction=False)
        for tid in tids:
            pipe.hset(keys.thread_meta(tid), "created", old)
            for source in ("mastodon", "bluesky"):
                pipe.hset(keys.remote_state(tid), f"{source}:new", old)
        pipe.execute()
        # Each thread takes its quiet schedule at its next look: wait one new-post interval, then measure.
        time.sleep(70)
        quiet = steady(cpu_of, [mastodon, bluesky], max(args.window, 360))
        harness.log(f"steady, posts quiet for two hours: {quiet}")
    finally:
        harness.stop_tree(proc, pids)
        log.close()
        client.close()
        mastodon.stop()
        bluesky.stop()
        db.stop()
    section = "\n".join([
        harness.markers("remote")[0],
        "## Following remote posts: what 1,000 Mastodon and Bluesky threads cost the worker",
        "",
        harness.machine_line(), "",
        f"{args.threads:,} threads (half naming a Mastodon status, half a Bluesky post, each with {REPLIES} replies) "
        "on one server whose worker runs in it, against the tests' local Mastodon server and Bluesky AppView on "
        "the same machine, with the default schedule (`REJOINDER_REMOTE_POLL_SECONDS=60`). Server CPU is its "
        "process tree's, the worker's included; the remote servers' own CPU is not counted.",
        "",
        "| phase | remote requests | server CPU |",
        "|---|---|---|",
        f"| first look: {first['replies']:,} of {first['wanted']:,} replies in, {first['seconds']} s after the pages "
        f"named their posts | {first['requests']:,} in all | {first['cpu_s']} s |",
        f"| steady, posts under an hour old (each looked at every minute) | {new['requests_per_min']:,} a minute | "
        f"{new['cpu_s_per_min']} s a minute ({new['cpu_pct']} % of a core) |",
        f"| steady, posts quiet for two hours (every 3 minutes) | {quiet['requests_per_min']:,} a minute | "
        f"{quiet['cpu_s_per_min']} s a minute ({quiet['cpu_pct']} % of a core) |",
        "",
        "A Mastodon look is two requests (the status, for its counts and author, and its context); a Bluesky "
        "look is one (getPostThread; a post named by its bsky.app address costs one more, once, for its "
        "handle's DID). Quieter posts are looked at less: 3x after an "
        "hour without a new reply, 15x after a day, 60x after a week, 360x (6 hours) after a month.",
        "",
        harness.markers("remote")[1],
    ])
    print(section)
    if not args.no_write:
        harness.write_section("remote", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
