"""Spam defences and moderation policies, and Akismet against a local server that speaks its protocol.
A spammer is never told: their comment looks pending to them and is shown to nobody else."""

from __future__ import annotations

import time

import httpx
import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.servers import AkismetServer, AppServer


def visible_to_others(other: httpx.Client, tid: str) -> list[str]:
    return [c["html"] for c in other.get(f"/api/threads/{tid}").json()["comments"]]


def stored_status(redis_client, tid: str, cid: int) -> str:
    import orjson
    return orjson.loads(redis_client.hget(f"rj:{{t:{tid}}}:comments", str(cid)))["status"]


@pytest.mark.parametrize("fields,text,reason", [
    ({"hp": "http://spam.example"}, "a normal comment", "honeypot"),
    ({"started": "NOW-500"}, "typed in half a second", "too_fast"),
    ({}, "see http://a.example http://b.example http://c.example http://d.example", "too_many_links"),
])
def test_local_defences_send_spam_to_spam_silently(redis_client, api, other_reader, thread, fields, text, reason) -> None:
    if fields.get("started") == "NOW-500":
        fields = {"started": int(time.time() * 1000) - 500}
    created = post(api, thread["id"], text, **fields)
    assert created["comment"]["status"] == "pending"  # what the spammer sees
    assert stored_status(redis_client, thread["id"], created["comment"]["id"]) == "spam"
    assert visible_to_others(other_reader, thread["id"]) == []
    assert created["thread"]["count"] == 0


def test_a_human_pace_with_a_link_or_two_is_published(api, thread) -> None:
    created = post(api, thread["id"], "two links: https://a.example and https://b.example",
                   started=int(time.time() * 1000) - 30_000)
    assert created["comment"]["status"] == "approved"


def test_blocked_words_go_to_spam(redis_client, app_server, api, thread) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], blocklist=["cheap pills", "casino"])
    spam = post(api, thread["id"], "Buy CHEAP PILLS here")
    fine = post(api, thread["id"], "Occasionally I visit the casinos of Monaco")  # a different word
    assert stored_status(redis_client, thread["id"], spam["comment"]["id"]) == "spam"
    assert fine["comment"]["status"] == "approved"


@pytest.mark.parametrize("policy,text,first,second", [
    ("hold_all", "plain words", "pending", "pending"),
    ("hold_links", "with https://a.example", "pending", "pending"),
    ("hold_links", "no links at all", "approved", "approved"),
])
def test_moderation_policies(redis_client, app_server, api, thread, policy, text, first, second) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], moderation=policy)
    assert post(api, thread["id"], text)["comment"]["status"] == first
    assert post(api, thread["id"], text + " again")["comment"]["status"] == second


def test_first_time_guests_are_held_until_approved_once(redis_client, app_server, api, other_reader, thread) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_first_guests")
    held = post(api, thread["id"], "my first comment here", email="new@example.com")
    assert held["comment"]["status"] == "pending"
    # Once a guest has an approved comment (here: written as an approval would), their browser is trusted...
    from rejoinder.auth.identity import guest_key, keyed_hash
    email_hash = keyed_hash("test-secret-key", "email:new@example.com")
    redis_client.sadd(keys.known_guests(SITE), guest_key("test-secret-key", SITE, api.headers["X-Rejoinder-Client"]),
                      email_hash)
    assert post(api, thread["id"], "back again", email="new@example.com")["comment"]["status"] == "approved"
    # ...but their address, typed in another browser, only once its owner confirmed it by a mailed link.
    assert post(other_reader, thread["id"], "me too", email="new@example.com")["comment"]["status"] == "pending"
    redis_client.sadd(keys.confirmed_emails(SITE), email_hash)
    assert post(other_reader, thread["id"], "me again", email="new@example.com")["comment"]["status"] == "approved"


@pytest.fixture(scope="module")
def akismet():
    server = AkismetServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def checked(redis_server, akismet):
    node = AppServer(redis_server.url, env={"REJOINDER_AKISMET_KEY": AkismetServer.key,
                                            "REJOINDER_AKISMET_ENDPOINT": akismet.base,
                                            "REJOINDER_AKISMET_TIMEOUT_SECONDS": "1"}).start()
    with httpx.Client(base_url=node.base, headers={"X-Rejoinder-Client": "akismet-reader-001"}, timeout=10) as c:
        yield c
    node.stop()


def test_akismet_ham_is_published_and_gets_the_whole_context(checked, akismet, thread) -> None:
    created = post(checked, thread["id"], "A kind word.", name="Ann", email="ann@example.com",
                   headers={"User-Agent": "TestBrowser/1.0", "Referer": "https://blog.example/post-1"})
    assert created["comment"]["status"] == "approved"
    call = httpx.get(f"{akismet.base}/_calls").json()[-1]
    assert call["endpoint"] == "comment-check" and call["api_key"] == AkismetServer.key
    assert (call["comment_author"], call["comment_author_email"], call["comment_content"]) == \
        ("Ann", "ann@example.com", "A kind word.")
    assert call["user_agent"] == "TestBrowser/1.0" and call["user_ip"] == "127.0.0.1"
    assert call["permalink"] == "https://blog.example/post-1"


def test_akismet_spam_goes_to_spam(redis_client, checked, other_reader, thread) -> None:
    created = post(checked, thread["id"], "Totally normal text", name="viagra-test-123")
    assert created["comment"]["status"] == "pending"
    assert stored_status(redis_client, thread["id"], created["comment"]["id"]) == "spam"


@pytest.mark.parametrize("text", ["akismet-slow: the service times out", "akismet-broken: the service fails"])
def test_akismet_trouble_holds_the_comment_never_loses_it(redis_client, checked, thread, text) -> None:
    started = time.monotonic()
    created = post(checked, thread["id"], text)
    assert time.monotonic() - started < 5
    assert stored_status(redis_client, thread["id"], created["comment"]["id"]) == "pending"
