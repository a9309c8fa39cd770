"""The webhook from the dashboard's API: set it (the secret once), see deliveries in the log, rotate, turn off."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from rejoinder.notify.webhooks import verify

from ..conftest import SITE
from ..support.api import error_of, post

BASE = f"/api/admin/sites/{SITE}/webhook"


def calls_for(receiver, tid: str, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    calls: list[dict] = []
    while time.monotonic() < deadline:
        calls = [c for c in httpx.get(f"{receiver.base}/_calls").json() if tid in c["body"]]
        if len(calls) >= count:
            return calls
        time.sleep(0.1)
    raise AssertionError(f"{len(calls)} of {count} webhook calls arrived")


def log_for(admin: httpx.Client, tid: str, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = [d for d in admin.get(BASE).json()["webhook"]["log"] if d["id"].startswith(tid)]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{len(found)} of {count} deliveries logged")


def test_an_admin_sets_the_webhook_sees_its_deliveries_rotates_and_turns_it_off(
        admin, api, thread, webhook_receiver) -> None:
    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": []}).raise_for_status()
    r = admin.get(BASE)
    assert r.status_code == 200
    assert r.json()["webhook"] == {"url": None, "enabled": False, "since": None, "log": []}

    r = admin.put(BASE, json={"url": webhook_receiver.url})
    assert r.status_code == 200, r.text
    hook = r.json()["webhook"]
    secret = hook["secret"]
    assert secret.startswith("whsec_") and hook["url"] == webhook_receiver.url and hook["enabled"]
    # The secret is shown once: never again by GET.
    assert secret not in admin.get(BASE).text

    post(api, thread["id"], "Tell the hook.", name="Ann", email="ann@example.com")
    [call] = calls_for(webhook_receiver, thread["id"], 1)
    assert verify(secret, call["headers"]["rejoinder-signature"], call["body"].encode())
    [entry] = log_for(admin, thread["id"], 1)
    assert entry["event"] == "comment.created" and entry["attempt"] == 1 and entry["status"] == 200
    assert entry["error"] is None and entry["duration_ms"] >= 0 and entry["time"].endswith("Z")
    assert "ann@example.com" not in admin.get(BASE).text

    # Rotate: the same URL, a new secret; the next event is signed with it alone.
    rotated = admin.put(BASE, json={"url": webhook_receiver.url}).json()["webhook"]["secret"]
    assert rotated != secret
    post(api, thread["id"], "Signed anew.", name="Bo")
    calls = calls_for(webhook_receiver, thread["id"], 2)
    newest = calls[-1]
    assert "Signed anew." in newest["body"]
    assert verify(rotated, newest["headers"]["rejoinder-signature"], newest["body"].encode())
    assert not verify(secret, newest["headers"]["rejoinder-signature"], newest["body"].encode())

    # Off: nothing more is sent; the log stays for reading.
    r = admin.delete(BASE)
    assert r.status_code == 200 and r.json()["webhook"]["enabled"] is False and r.json()["webhook"]["url"] is None
    assert admin.delete(BASE).status_code == 200  # repeatable
    post(api, thread["id"], "Nobody hears this.", name="Cy")
    time.sleep(2.5)  # the worker looks every second
    assert not any("Nobody hears this." in c["body"] for c in httpx.get(f"{webhook_receiver.base}/_calls").json())
    log = log_for(admin, thread["id"], 2)
    assert len(log) == 2, json.dumps(log)


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_a_failing_receiver_shows_its_status_in_the_log(admin, api, thread, webhook_receiver) -> None:
    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": [500]}).raise_for_status()
    assert admin.put(BASE, json={"url": webhook_receiver.url}).status_code == 200
    post(api, thread["id"], "Try again.", name="Di")
    # Default retry schedule: the second attempt comes a second after the first.
    log = log_for(admin, thread["id"], 2)
    assert [(d["attempt"], d["status"]) for d in log] == [(2, 200), (1, 500)]  # newest first


def test_only_http_and_https_urls_with_a_host_are_taken(admin) -> None:
    for url in ("ftp://example.com/hook", "javascript:alert(1)", "https://", "/relative/hook",
                "http://exa mple.com/", "", "x" * 3000):
        r = admin.put(BASE, json={"url": url})
        assert r.status_code == 422, (url, r.text)
        assert error_of(r)["code"] in ("invalid_url", "missing_field", "invalid_field") and error_of(r)["field"] == "url"
    r = admin.put(BASE, json={})
    assert r.status_code == 422 and error_of(r)["code"] == "missing_field"
    r = admin.put(BASE, content=b"url=https://example.com", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert admin.get(BASE).json()["webhook"]["enabled"] is False  # nothing refused was kept
    r = admin.put(BASE, json={"url": "HTTPS://Example.com:8443/hooks/rejoinder?k=1"})
    assert r.status_code == 200 and json.loads(r.text)["webhook"]["url"] == "HTTPS://Example.com:8443/hooks/rejoinder?k=1"


def test_a_new_webhook_gets_new_events_only_not_an_old_threads_past(admin, api, thread, webhook_receiver) -> None:
    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": []}).raise_for_status()
    post(api, thread["id"], "Said before any hook.", name="Ed")
    post(api, thread["id"], "Also before.", name="Flo")
    time.sleep(1.5)  # the worker has looked at the site since
    assert admin.put(BASE, json={"url": webhook_receiver.url}).status_code == 200
    post(api, thread["id"], "The first news.", name="Gus")
    [call] = calls_for(webhook_receiver, thread["id"], 1)
    assert "The first news." in call["body"]
    time.sleep(1.5)
    assert len([c for c in httpx.get(f"{webhook_receiver.base}/_calls").json() if thread["id"] in c["body"]]) == 1
    assert [d["event"] for d in log_for(admin, thread["id"], 1)] == ["comment.created"]
