"""The owner's held-comment mail, end to end: its approve and delete links confirm, act, reach live readers
and subscribers, and do nothing more when replayed."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.live import connect
from ..support.mailbox import text_part
from .conftest import address, cli, reader_client, subscribe, words

HTML = {"Accept": "text/html"}


def action_links(mail) -> dict[str, str]:
    found = {}
    for line in text_part(mail).splitlines():
        if line.startswith(("Approve: ", "Delete: ")):
            label, url = line.split(": ", 1)
            found[label.lower()] = url.strip()
    assert set(found) == {"approve", "delete"}, text_part(mail)
    return found


def press(url: str) -> httpx.Response:
    """Press the confirmation page's button: its form posts the link's token to /admin/act."""
    token = parse_qs(urlsplit(url).query)["token"][0]
    return httpx.post(url.split("?")[0], data={"token": token}, headers=HTML)


def shown(server, tid: str) -> list[str]:
    """What a reader who wrote none of it sees (an author sees their own held comment)."""
    with reader_client(server) as client:
        return [c["html"] for c in client.get(f"/api/threads/{tid}").json()["comments"]]


async def test_owner_approves_then_deletes_from_the_mail_and_replays_change_nothing(
        mail_server, redis_server, redis_client, smtp_server, reader, another, mail_thread) -> None:
    tid = mail_thread["id"]
    register_site(redis_client, SITE, [mail_server.page_origin])
    subscriber = address("sub")
    subscribe(another, smtp_server, tid, subscriber)  # one mail so far: the confirmation
    owner = address("owner")
    cli(redis_server.url, "site", "update", SITE, "--moderation", "hold_all", "--owner-email", owner)
    live = await connect(mail_server.ws_base, tid, origin=mail_server.page_origin, since=mail_thread["head"])
    try:
        while (await live.next())["type"] != "ready":
            pass
        text = words()
        held = post(reader, tid, text, name="Ida", email=address("ida"))["comment"]
        assert held["status"] == "pending"
        [mail] = smtp_server.wait_for(owner)
        links = action_links(mail)

        # Opening the link shows the comment and a button; nothing changes yet.
        page = httpx.get(links["approve"], headers=HTML)
        assert page.status_code == 200 and '<form method="post" action="/admin/act">' in page.text
        assert text in page.text and "Approve this comment" in page.text
        assert not any(text in h for h in shown(mail_server, tid))

        # Pressing it publishes: live readers get it at once, subscribers by mail.
        done = press(links["approve"])
        assert done.status_code == 200 and "approved" in done.text
        event = await live.until(lambda m: m.get("type") == "comment.approved", timeout=10)
        assert event["comment"]["id"] == held["id"] and text in event["comment"]["html"]
        assert "email" not in event["comment"]
        assert any(text in h for h in shown(mail_server, tid))
        news = smtp_server.wait_for(subscriber, 2)[1]
        assert text in text_part(news)

        # The same link again (a second click, a mail scanner): done already, nothing new.
        again = press(links["approve"])
        assert again.status_code == 200 and "approved" in again.text
        assert httpx.get(links["approve"], headers=HTML).status_code == 200

        # The delete link from the same mail takes it down again, after the same confirmation.
        page = httpx.get(links["delete"], headers=HTML)
        assert page.status_code == 200 and "Delete this comment" in page.text
        assert any(text in h for h in shown(mail_server, tid))
        assert press(links["delete"]).status_code == 200
        gone = await live.until(lambda m: m.get("type") == "comment.deleted", timeout=10)
        assert gone["comment"]["id"] == held["id"]
        assert not any(text in h for h in shown(mail_server, tid))
        assert press(links["delete"]).status_code == 200  # replayed: still deleted, no error page

        # Replays sent nothing: no second event for the comment, no more mail.
        time.sleep(2.5)  # longer than a batch window and a few worker rounds
        assert len(smtp_server.messages(subscriber)) == 2 and len(smtp_server.messages(owner)) == 1
        while True:
            try:
                extra = await live.next(timeout=0.5)
            except TimeoutError:
                break
            assert extra.get("type") not in ("comment.approved", "comment.deleted"), extra
        # The approve link of a deleted comment does not bring it back.
        late = press(links["approve"])
        assert late.status_code == 409 and not any(text in h for h in shown(mail_server, tid))
    finally:
        await live.close()


async def test_a_link_for_a_comment_someone_else_deleted_is_harmless(
        mail_server, redis_server, smtp_server, reader, mail_thread) -> None:
    owner = address("owner")
    cli(redis_server.url, "site", "update", SITE, "--moderation", "hold_all", "--owner-email", owner)
    post(reader, mail_thread["id"], words(), name="Jo")
    links = action_links(smtp_server.wait_for(owner)[0])
    assert press(links["delete"]).status_code == 200
    r = httpx.get(links["approve"], headers=HTML)
    assert r.status_code == 409 and "deleted" in r.text
    r = httpx.get(links["approve"], headers={"Accept": "application/json"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "comment_deleted"
    tampered = links["approve"].replace("token=", "token=x")
    assert httpx.get(tampered, headers={"Accept": "application/json"}).json()["error"]["code"] == "link_invalid"
