"""X-Forwarded-For: only a named proxy is trusted, and the client is the right-most address it did not write.

With `*` trusted (what compose.yaml said), a client chose the address its rate limits and bans counted
against: 31 writes with fresh X-Forwarded-For values got no 429, and a victim's address could be banned."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Iterator

import httpx
import pytest
import yaml

from rejoinder.auth.identity import keyed_hash
from rejoinder.store import keys

from ..conftest import SITE, new_client_id
from ..support.api import in_one_window
from ..support.servers import ROOT, AppServer

REAL_CLIENT = "203.0.113.7"


@pytest.fixture
def behind_proxy(redis_server) -> Iterator[AppServer]:
    """A server whose proxy is this machine (the tests connect from 127.0.0.1), with the real write limits."""
    server = AppServer(redis_server.url, env={"REJOINDER_FORWARDED_ALLOW_IPS": "127.0.0.1",
                                              "REJOINDER_RATE_IP_WRITES": "30"}).start()
    yield server
    server.stop()


def write(server: AppServer, tid: str, forwarded: str, text: str) -> httpx.Response:
    # A fresh reader id each time: only the IP limit is left to stop the flood.
    return httpx.post(f"{server.base}/api/threads/{tid}/comments", json={"text": text, "name": "Flo"}, timeout=10,
                      headers={"X-Forwarded-For": forwarded, "X-Rejoinder-Client": new_client_id()})


def test_spoofed_x_forwarded_for_does_not_escape_the_rate_limit(behind_proxy: AppServer) -> None:
    tid = httpx.get(f"{behind_proxy.base}/api/threads", params={"site": SITE, "page": "p-xff"}).json()["thread"]["id"]
    in_one_window()
    statuses = [write(behind_proxy, tid, f"198.51.100.{i}, {REAL_CLIENT}", f"flood {i}").status_code
                for i in range(31)]
    assert statuses[:30] == [201] * 30 and statuses[30] == 429


def test_a_ban_on_a_spoofed_address_never_hits_the_real_client(behind_proxy: AppServer, redis_client) -> None:
    """A victim's address put in X-Forwarded-For by an attacker is not whom the server counts."""
    victim = "198.51.100.9"
    redis_client.hset(keys.bans(SITE), "ip:" + keyed_hash("test-secret-key", "ip:" + victim), "{}")
    tid = httpx.get(f"{behind_proxy.base}/api/threads", params={"site": SITE, "page": "p-ban"}).json()["thread"]["id"]
    r = write(behind_proxy, tid, f"{victim}, {REAL_CLIENT}", "not the victim")
    assert r.status_code == 201 and r.json()["comment"]["status"] == "approved"
    r = write(behind_proxy, tid, victim, "the victim, through the proxy")
    assert r.status_code == 201 and r.json()["comment"]["status"] == "pending"  # banned: looks pending to them


def test_trusting_every_peer_is_refused_at_start() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REJOINDER_")}
    env["REJOINDER_FORWARDED_ALLOW_IPS"] = "*"
    out = subprocess.run([sys.executable, "-m", "rejoinder", "serve", "--port", "9"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "REJOINDER_FORWARDED_ALLOW_IPS='*'" in out.stderr


def test_compose_trusts_only_its_proxy() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    trusted = compose["services"]["rejoinder"]["environment"]["REJOINDER_FORWARDED_ALLOW_IPS"]
    gateway = compose["networks"]["rejoinder"]["ipam"]["config"][0]["gateway"]
    assert trusted == gateway


def test_an_ipv6_host_cannot_rotate_through_its_64_to_escape_the_limit(behind_proxy: AppServer) -> None:
    """One host usually holds a whole /64: each write from a fresh address of it counts as the same client."""
    tid = httpx.get(f"{behind_proxy.base}/api/threads", params={"site": SITE, "page": "p-v6"}).json()["thread"]["id"]
    in_one_window()
    statuses = [write(behind_proxy, tid, f"2001:db8:1:2::{i + 1:x}", f"rotating {i}").status_code for i in range(31)]
    assert statuses[:30] == [201] * 30 and statuses[30] == 429
    # Another /64 is another client; an IPv4-mapped address counts as its IPv4 address.
    assert write(behind_proxy, tid, "2001:db8:1:3::1", "next door").status_code == 201
    assert write(behind_proxy, tid, "::ffff:198.51.100.77", "mapped").status_code == 201
    assert write(behind_proxy, tid, "198.51.100.77", "the same, unmapped").status_code == 201
