"""Admin corrections reach Akismet (submit-spam, submit-ham) at a local server that speaks its protocol;
when Akismet is down the admin's action still happens."""

from __future__ import annotations

import hashlib
import secrets

import httpx
import pytest

from rejoinder.embedded import free_port

from ..conftest import SITE
from ..support.api import post
from ..support.servers import AkismetServer, AppServer
from .conftest import make_admin, make_session

BASE = f"/api/admin/sites/{SITE}"


@pytest.fixture(scope="module")
def akismet():
    server = AkismetServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def checked_node(redis_server, akismet):
    node = AppServer(redis_server.url, env={"REJOINDER_AKISMET_KEY": AkismetServer.key,
                                            "REJOINDER_AKISMET_ENDPOINT": akismet.base,
                                            "REJOINDER_AKISMET_TIMEOUT_SECONDS": "1"}).start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def down_node(redis_server):
    node = AppServer(redis_server.url, env={"REJOINDER_AKISMET_KEY": AkismetServer.key,
                                            "REJOINDER_AKISMET_ENDPOINT": f"http://127.0.0.1:{free_port()}",
                                            "REJOINDER_AKISMET_TIMEOUT_SECONDS": "1"}).start()
    yield node
    node.stop()


def calls(akismet, endpoint: str) -> list[dict]:
    return [c for c in httpx.get(f"{akismet.base}/_calls").json() if c["endpoint"] == endpoint]


def pair(node: AppServer, redis_client) -> tuple[httpx.Client, httpx.Client]:
    make_admin(redis_client, SITE, "github:1001")
    token = make_session(redis_client, "github:1001")
    admin = httpx.Client(base_url=node.base, timeout=15, headers={"Authorization": f"Bearer {token}"})
    reader = httpx.Client(base_url=node.base, timeout=15, headers={"X-Rejoinder-Client": secrets.token_urlsafe(16)})
    return admin, reader


def test_marking_spam_and_not_spam_teaches_akismet(redis_client, checked_node, akismet, thread) -> None:
    admin, reader = pair(checked_node, redis_client)
    with admin, reader:
        cid = post(reader, thread["id"], "Sneaky advert", name="Sam", email="sam@example.com",
                   headers={"User-Agent": "SpamBot/2.0", "Referer": "https://blog.example/post-1"})["comment"]["id"]
        before = len(calls(akismet, "submit-spam"))
        r = admin.post(f"{BASE}/comments/{thread['id']}/{cid}/spam")
        assert r.status_code == 200 and r.json()["akismet"] == "sent"
        sent = calls(akismet, "submit-spam")
        assert len(sent) == before + 1
        call = sent[-1]
        assert call["api_key"] == AkismetServer.key and call["comment_content"] == "Sneaky advert"
        assert (call["comment_author"], call["comment_author_email"]) == ("Sam", "sam@example.com")
        # The request's context, kept for this (raw IPs only live this long, and only with Akismet on).
        assert (call["user_ip"], call["user_agent"], call["referrer"]) == \
            ("127.0.0.1", "SpamBot/2.0", "https://blog.example/post-1")
        assert call["permalink"] == "https://blog.example/post-1"
        # Marking spam again is no correction: nothing more is sent.
        assert admin.post(f"{BASE}/comments/{thread['id']}/{cid}/spam").json()["akismet"] is None
        assert len(calls(akismet, "submit-spam")) == before + 1
        r = admin.post(f"{BASE}/comments/{thread['id']}/{cid}/ham")
        assert r.json()["akismet"] == "sent" and r.json()["comment"]["status"] == "approved"
        assert calls(akismet, "submit-ham")[-1]["comment_content"] == "Sneaky advert"
        # Plain approve/reject are not corrections of Akismet.
        n = len(httpx.get(f"{akismet.base}/_calls").json())
        assert admin.post(f"{BASE}/comments/{thread['id']}/{cid}/reject").json()["akismet"] is None
        assert len(httpx.get(f"{akismet.base}/_calls").json()) == n


def test_akismet_failing_or_down_does_not_stop_the_admin(redis_client, checked_node, down_node, thread) -> None:
    admin, reader = pair(checked_node, redis_client)
    with admin, reader:
        cid = post(reader, thread["id"], "akismet-broken words")["comment"]["id"]
        r = admin.post(f"{BASE}/comments/{thread['id']}/{cid}/spam")
        assert r.status_code == 200 and r.json()["akismet"] == "failed"
        assert httpx.get(f"{checked_node.base}/api/threads/{thread['id']}").json()["comments"] == []
    admin, reader = pair(down_node, redis_client)
    with admin, reader:
        # Akismet down at comment-check too: the comment is held, not lost.
        held = post(reader, thread["id"], "nobody answers")["comment"]
        cid = held["id"]
        r = admin.post(f"{BASE}/comments/{thread['id']}/{cid}/spam")
        assert r.status_code == 200 and r.json()["akismet"] == "failed"
        assert r.json()["comment"]["status"] == "spam"
        r = admin.post(f"{BASE}/bulk", json={"action": "ham", "items": [{"tid": thread["id"], "cid": cid}]})
        assert r.json()["results"][0] == {"tid": thread["id"], "cid": cid, "ok": True, "status": "approved",
                                          "changed": True, "akismet": "failed"}
