"""Webhooks: each public event as signed JSON, retried after a failure, every attempt in the delivery log."""

from __future__ import annotations

import json
import time

import httpx

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.servers import ROOT
from .conftest import address, cli, words


def documented_verify():
    """The receiver's check exactly as README.md's "Webhooks" section shows it."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Webhooks"):]
    snippet = section[section.index("```python") + len("```python"):]
    namespace: dict = {}
    exec(snippet[:snippet.index("```")], namespace)  # noqa: S102 - our own README
    return namespace["verify"]


verify = documented_verify()


def set_webhook(redis_server, receiver, *statuses: int) -> str:
    httpx.post(f"{receiver.base}/_plan", json={"statuses": list(statuses)}).raise_for_status()
    out = json.loads(cli(redis_server.url, "site", "update", SITE, "--webhook", receiver.url))
    assert out["webhook"]["url"] == receiver.url
    return out["webhook"]["secret"]


def calls_for(receiver, tid: str, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = [c for c in httpx.get(f"{receiver.base}/_calls").json() if tid in c["body"]]
        if len(calls) >= count:
            return calls
        time.sleep(0.1)
    raise AssertionError(f"{len(calls)} of {count} webhook calls arrived")


def test_each_public_event_arrives_signed(redis_server, webhook_receiver, reader, another, mail_thread) -> None:
    secret = set_webhook(redis_server, webhook_receiver)
    assert secret.startswith("whsec_")
    email = address("hidden")
    created = post(reader, mail_thread["id"], "Webhooks, at last.", name="Ann", email=email)
    cid = created["comment"]["id"]
    assert another.put(f"/api/threads/{mail_thread['id']}/comments/{cid}/like").status_code == 200
    calls = calls_for(webhook_receiver, mail_thread["id"], 2)
    for call in calls:
        assert verify(secret, call["headers"]["rejoinder-signature"], call["body"].encode())
        assert not verify("whsec_wrong", call["headers"]["rejoinder-signature"], call["body"].encode())
        assert not verify(secret, call["headers"]["rejoinder-signature"], call["body"].encode() + b" ")
        assert call["headers"]["content-type"] == "application/json"
    first, second = (json.loads(c["body"]) for c in calls)
    assert first["type"] == "comment.created" and first["site"] == SITE
    assert first["thread"] == {"id": mail_thread["id"], "page": mail_thread["page"],
                               "url": mail_thread["page"], "title": "Post one"}
    assert first["data"]["comment"]["author"]["name"] == "Ann" and first["data"]["count"] == 1
    assert second["type"] == "like.changed" and second["data"]["likes"] == 1
    assert calls[0]["headers"]["rejoinder-event"] == "comment.created"
    assert all(email not in c["body"] and '"ip"' not in c["body"] and "edit_hash" not in c["body"] for c in calls)
    # `site show` never shows the secret again.
    shown = json.loads(cli(redis_server.url, "site", "show", SITE))
    assert shown["webhook"] == {"url": webhook_receiver.url} and secret not in json.dumps(shown)


def test_held_and_spam_comments_never_reach_the_webhook(redis_server, redis_client, webhook_receiver, reader,
                                                        mail_thread) -> None:
    set_webhook(redis_server, webhook_receiver)
    register_site(redis_client, SITE, ["http://127.0.0.1:9"], moderation="hold_all")
    post(reader, mail_thread["id"], "Held for a human.", name="Bo")
    post(reader, mail_thread["id"], "Honeypot spam.", name="Bot", hp="http://spam.example")
    register_site(redis_client, SITE, ["http://127.0.0.1:9"])
    post(reader, mail_thread["id"], "Published at once.", name="Cat")
    [call] = calls_for(webhook_receiver, mail_thread["id"], 1)
    time.sleep(1)
    calls = calls_for(webhook_receiver, mail_thread["id"], 1)
    assert len(calls) == 1 and "Published at once." in call["body"]
    assert all("Held for a human" not in c["body"] and "Honeypot" not in c["body"] for c in calls)


def test_a_failed_delivery_is_retried_and_logged(redis_server, webhook_receiver, reader, mail_thread) -> None:
    set_webhook(redis_server, webhook_receiver, 500)
    post(reader, mail_thread["id"], words(), name="Dan")
    calls = calls_for(webhook_receiver, mail_thread["id"], 2)
    assert [c["answered"] for c in calls] == [500, 200]
    assert calls[0]["body"] == calls[1]["body"]  # the same event, freshly signed
    log = [json.loads(line) for line in cli(redis_server.url, "webhook", "log", SITE).splitlines()]
    assert [(e["event"], e["attempt"], e["status"]) for e in log[:2]] == [
        ("comment.created", 2, 200), ("comment.created", 1, 500)]
    assert all(e["error"] is None and e["duration_ms"] >= 0 and e["time"].endswith("Z") for e in log[:2])
    assert log[0]["id"] == log[1]["id"] == f"{mail_thread['id']}-1"


def test_an_unreachable_receiver_is_logged_with_the_error(redis_server, reader, mail_thread) -> None:
    from rejoinder.embedded import free_port

    cli(redis_server.url, "site", "update", SITE, "--webhook", f"http://127.0.0.1:{free_port()}/nobody")
    post(reader, mail_thread["id"], words(), name="Eli")
    deadline = time.monotonic() + 20
    log: list[dict] = []
    while time.monotonic() < deadline and len(log) < 2:
        log = [json.loads(line) for line in cli(redis_server.url, "webhook", "log", SITE).splitlines()]
        time.sleep(0.3)
    assert len(log) >= 2 and log[-1]["status"] is None and log[-1]["error"] == "connect_failed"
    # A category only: the error's own text would name the internal address and port.
    assert "127.0.0.1" not in json.dumps(log)
    assert [e["attempt"] for e in reversed(log)][:2] == [1, 2]
    out = json.loads(cli(redis_server.url, "site", "update", SITE, "--webhook-off"))
    assert out["webhook"] == {"url": None}


def test_a_webhook_cannot_reach_the_servers_own_network(tmp_path, webhook_receiver) -> None:
    """By default a site admin's webhook URL may not point at loopback or private
    addresses: the attempt is refused before any connection and logged as such."""
    import redis as redis_sync

    from rejoinder.embedded import EmbeddedRedis

    from ..admin.conftest import make_admin, make_session
    from ..support.servers import AppServer
    from .conftest import NOTIFY_ENV, open_thread, reader_client

    db = EmbeddedRedis(tmp_path / "db").start()
    node = AppServer(db.url, env={**NOTIFY_ENV, "REJOINDER_FETCH_PRIVATE_OK": "0"}).start()
    try:
        client = redis_sync.Redis.from_url(db.url, decode_responses=True)
        register_site(client, SITE, ["http://127.0.0.1:9"])
        # A site admin who types such an address in the dashboard is told at once.
        token = make_session(client, "github:4242", "Mallory")
        make_admin(client, SITE, "github:4242")
        for url in ("http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://169.254.169.254/latest",
                    "http://localhost/hook", "http://10.1.2.3/hook", "http://[::ffff:127.0.0.1]/hook",
                    "http://[64:ff9b::a9fe:a9fe]/latest", "http://[2002:a00:1::1]/hook", "http://[::127.0.0.1]/"):
            r = httpx.put(f"{node.base}/api/admin/sites/{SITE}/webhook", json={"url": url},
                          headers={"Authorization": f"Bearer {token}", "Origin": node.base})
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_url", (url, r.text)
        # The operator's command is not refused (a name may resolve anywhere): each delivery is checked.
        set_webhook(db, webhook_receiver)
        with reader_client(node) as reader:
            tid = open_thread(reader)["id"]
            post(reader, tid, words(), name="Mallory")
        deadline = time.monotonic() + 20
        log: list[dict] = []
        while time.monotonic() < deadline and not log:
            log = [json.loads(line) for line in cli(db.url, "webhook", "log", SITE).splitlines()]
            time.sleep(0.2)
        assert log and log[-1]["status"] is None and log[-1]["error"] == "refused_address"
        # What the site admin sees of it in the dashboard names no internal host or port.
        seen = json.dumps(httpx.get(f"{node.base}/api/admin/sites/{SITE}/webhook",
                                    headers={"Authorization": f"Bearer {token}", "Origin": node.base}
                                    ).json()["webhook"]["log"])
        assert "refused_address" in seen and "127.0.0.1" not in seen and str(webhook_receiver.port) not in seen
        assert not [c for c in httpx.get(f"{webhook_receiver.base}/_calls").json() if tid in c["body"]]
    finally:
        node.stop()
        db.stop()
