"""Readers report comments: one report each, the dashboard's Reported list, holding at the site's
number, dismissing, and the ways a reporter might try to report a comment away alone."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from rejoinder.store import keys

from ..conftest import SITE, new_client_id, register_site
from ..support.api import error_of, post
from ..support.servers import AppServer
from .conftest import make_admin, make_session

BASE = f"/api/admin/sites/{SITE}"


def report(client: httpx.Client, tid: str, cid: int, reason: str = "abuse", expect: int = 200) -> httpx.Response:
    r = client.post(f"/api/threads/{tid}/comments/{cid}/report", json={"reason": reason})
    assert r.status_code == expect, r.text
    return r


@pytest.fixture
def behind_proxy(redis_server, redis_client) -> Iterator[AppServer]:
    """A server whose proxy is this machine, so each test reader can come from an address of its own."""
    server = AppServer(redis_server.url, env={"REJOINDER_FORWARDED_ALLOW_IPS": "127.0.0.1"}).start()
    register_site(redis_client, SITE, [server.page_origin])
    yield server
    server.stop()


def reader(server: AppServer, ip: str, **headers: str) -> httpx.Client:
    """A browser of its own, from address `ip`."""
    return httpx.Client(base_url=server.base, timeout=10,
                        headers={"X-Rejoinder-Client": new_client_id(), "X-Forwarded-For": ip, **headers})


@pytest.fixture
def app(behind_proxy: AppServer, redis_client) -> Iterator[tuple[httpx.Client, httpx.Client, str]]:
    """The site's admin, a reader who writes, and a thread, on the server behind the proxy."""
    make_admin(redis_client, SITE, "github:1001")
    admin = reader(behind_proxy, "192.0.2.1",
                   Authorization=f"Bearer {make_session(redis_client, 'github:1001', 'Ada Admin')}")
    api = reader(behind_proxy, "192.0.2.2")
    tid = api.get("/api/threads", params={"site": SITE, "page": "reported-post"}).json()["thread"]["id"]
    yield admin, api, tid
    admin.close()
    api.close()


def reported(admin: httpx.Client) -> list[dict]:
    r = admin.get(f"{BASE}/comments", params={"list": "reported"})
    assert r.status_code == 200, r.text
    return r.json()["comments"]


def test_reports_reach_the_dashboard_and_hold_the_comment_at_the_sites_number(behind_proxy, app) -> None:
    admin, api, tid = app
    rude = post(api, tid, "Something rude")["comment"]
    fine = post(api, tid, "Something fine")["comment"]
    assert admin.patch(BASE, json={"hold_reports": 3}).json()["site"]["hold_reports"] == 3
    readers = [reader(behind_proxy, f"198.51.100.{i}") for i in range(4)]
    try:
        report(readers[0], tid, rude["id"], "abuse")
        report(readers[1], tid, rude["id"], "spam")
        [row] = reported(admin)
        assert (row["id"], row["status"], row["reports"]) == (rude["id"], "approved",
                                                             {"count": 2, "reasons": {"abuse": 1, "spam": 1}})
        assert admin.get(BASE).json()["counts"]["reported"] == 1
        # Still shown to readers: two is not three.
        assert rude["id"] in [c["id"] for c in api.get(f"/api/threads/{tid}").json()["comments"]]
        report(readers[2], tid, rude["id"], "abuse")
        # Held: readers no longer see it (its author sees it pending), the count drops, and it waits in
        # Pending as well.
        shown = readers[3].get(f"/api/threads/{tid}").json()
        assert [c["id"] for c in shown["comments"]] == [fine["id"]] and shown["thread"]["count"] == 1
        assert [c["status"] for c in api.get(f"/api/threads/{tid}").json()["comments"]] == ["pending", "approved"]
        [held] = admin.get(f"{BASE}/comments", params={"list": "pending"}).json()["comments"]
        assert held["id"] == rude["id"] and "reports" in held["reasons"]
        # Approving it answers the reports: it leaves the Reported list.
        assert admin.post(f"{BASE}/comments/{tid}/{rude['id']}/approve").json()["comment"]["status"] == "approved"
        assert reported(admin) == []
        # A reader already counted is not counted again, and the reader is not told.
        report(readers[3], tid, fine["id"], "off_topic")
        report(readers[3], tid, fine["id"], "spam")
        assert reported(admin)[0]["reports"] == {"count": 1, "reasons": {"off_topic": 1}}
        # Dismissing clears them and changes nothing readers see.
        done = admin.post(f"{BASE}/comments/{tid}/{fine['id']}/dismiss").json()
        assert done["comment"]["status"] == "approved" and reported(admin) == []
    finally:
        for r in readers:
            r.close()


def test_one_reader_cannot_report_a_comment_away_by_changing_browsers(behind_proxy, app) -> None:
    admin, api, tid = app
    target = post(api, tid, "An opinion someone dislikes")["comment"]
    admin.patch(BASE, json={"hold_reports": 2})
    same_address = [reader(behind_proxy, "203.0.113.7") for _ in range(5)]
    try:
        for r in same_address:
            report(r, tid, target["id"], "abuse")
        assert reported(admin)[0]["reports"]["count"] == 1
        assert api.get(f"/api/threads/{tid}").json()["thread"]["count"] == 1
    finally:
        for r in same_address:
            r.close()


def test_what_cannot_be_reported(behind_proxy, redis_client, app) -> None:
    admin, api, tid = app
    other_reader = reader(behind_proxy, "198.51.100.77")
    mine = post(api, tid, "My own words")["comment"]
    assert error_of(report(api, tid, mine["id"], expect=403))["code"] == "cannot_report_own"
    assert error_of(report(other_reader, tid, 999, expect=404))["code"] == "comment_not_found"
    r = other_reader.post(f"/api/threads/{tid}/comments/{mine['id']}/report", json={"reason": "ugly"})
    assert (r.status_code, error_of(r)["field"]) == (422, "reason")
    r = httpx.post(f"{behind_proxy.base}/api/threads/{tid}/comments/{mine['id']}/report", json={"reason": "spam"})
    assert error_of(r)["field"] == "X-Rejoinder-Client"
    # Held or spam comments are not there to report (their authors see them as pending).
    caught = post(other_reader, tid, "spam here", name="Bot", hp="http://spam.example")["comment"]
    assert error_of(report(api, tid, caught["id"], expect=404))["code"] == "comment_not_found"
    assert redis_client.exists(keys.reporters(tid, caught["id"])) == 0
    r = admin.patch(BASE, json={"hold_reports": -1})
    assert (r.status_code, error_of(r)["field"]) == (422, "hold_reports")
    other_reader.close()
