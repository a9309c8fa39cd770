"""Email notifications through a real SMTP server: double opt-in, batches, replies,
held comments for owners, one-click unsubscribe, and no mail lost or sent twice."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner

from rejoinder import links
from rejoinder.settings import Settings
from rejoinder.store import keys, stats

from ..conftest import SITE
from ..support.api import error_of, post
from ..support.login import close_popups, login
from ..support.mailbox import html_part, link, text_part
from .conftest import address, cli, open_thread, reader_client, subscribe, words

TEST_SETTINGS = Settings(secret_key="test-secret-key", public_url="http://localhost:1")


def test_confirmation_mail_then_a_mail_per_new_comment(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    confirm = smtp_server.messages(sub)[0]
    assert "Confirm" in confirm["Subject"] and "Post one" not in confirm["Subject"]  # no text a poster chose

    post(another, mail_thread["id"], "Here is what I think about it.", name="Bea", email=address("bea"))
    mails = smtp_server.wait_for(sub, 2)
    assert len(mails) == 2
    news = mails[1]
    assert news["Subject"] == "New comment on “Post one”"
    assert "Bea wrote:" in text_part(news) and "Here is what I think about it." in text_part(news)
    assert "Here is what I think about it." in html_part(news)
    assert news["To"] == sub and "comments@blog.test" in news["From"]


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_every_mail_has_one_click_unsubscribe_headers_and_link(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    post(another, mail_thread["id"], words(), name="Bea")
    mails = smtp_server.wait_for(sub, 2)
    ids = set()
    for mail in mails:
        unsubscribe = mail["List-Unsubscribe"]
        assert unsubscribe.startswith("<http://localhost:") and "/api/notify/unsubscribe?token=" in unsubscribe
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe.strip("<>") in text_part(mail) and "Unsubscribe" in html_part(mail)
        assert mail.get_content_type() == "multipart/alternative"
        ids.add(mail["Message-ID"])
    assert len(ids) == len(mails)


def test_an_unconfirmed_address_gets_only_the_confirmation(reader, another, smtp_server, mail_thread) -> None:
    confirmed, unconfirmed = address("yes"), address("no")
    subscribe(reader, smtp_server, mail_thread["id"], confirmed)
    post(another, mail_thread["id"], words(), name="Cy", email=unconfirmed, notify=True)
    smtp_server.wait_for(unconfirmed, 1)
    post(reader, mail_thread["id"], words(), name="Dee")
    smtp_server.wait_for(confirmed, 2)  # the worker has passed both comments
    time.sleep(2)  # and a batch window more
    [only] = smtp_server.messages(unconfirmed)
    assert "Confirm" in only["Subject"]


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_nobody_is_mailed_their_own_comment(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    post(reader, mail_thread["id"], "Talking to myself.", name="Sub", email=sub)
    post(another, mail_thread["id"], "Someone else speaks.", name="Eve")
    mails = smtp_server.wait_for(sub, 2)
    time.sleep(2)
    mails = smtp_server.messages(sub)
    assert len(mails) == 2
    assert "Someone else speaks." in text_part(mails[1]) and "Talking to myself." not in text_part(mails[1])


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_comments_within_the_window_come_in_one_mail(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    texts = [f"Burst comment {i} {words()}" for i in range(3)]
    for text in texts:
        post(another, mail_thread["id"], text, name="Fay")
    mails = smtp_server.wait_for(sub, 2)
    time.sleep(2.5)  # more than the window: a second batch mail would be here by now
    mails = smtp_server.messages(sub)
    assert len(mails) == 2
    digest = mails[1]
    assert digest["Subject"] == "3 new comments on “Post one”"
    body = text_part(digest)
    assert all(text in body for text in texts)
    assert body.index(texts[0]) < body.index(texts[1]) < body.index(texts[2])


def test_a_reply_tells_the_parent_author(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    mine = subscribe(reader, smtp_server, mail_thread["id"], sub, name="Gus")
    post(another, mail_thread["id"], "I disagree, respectfully.", name="Hal", parent=mine["comment"]["id"])
    mails = smtp_server.wait_for(sub, 2)
    assert mails[1]["Subject"] == "Hal replied to your comment on “Post one”"
    assert "I disagree, respectfully." in text_part(mails[1])
    time.sleep(2)
    assert len(smtp_server.messages(sub)) == 2  # the reply is not mailed a second time in a batch


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_a_mention_tells_the_mentioned_reader_who_asked_for_mail(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    mine = subscribe(reader, smtp_server, mail_thread["id"], sub, name="Gus")
    quiet = post(another, mail_thread["id"], "I never ask for mail.", name="Ivy", email=address("ivy"))["comment"]
    post(another, mail_thread["id"], "@Gus and @Ivy: have you tried wax?", name="Hal",
         mentions=[mine["comment"]["id"], quiet["id"]])
    smtp_server.wait_for(sub, 3)  # the confirmation, Ivy's comment (in a batch) and the mention
    time.sleep(2)
    mails = smtp_server.messages(sub)
    about = [m for m in mails if "have you tried wax?" in text_part(m)]
    # Once, as a mention: not a second time in a batch.
    assert [m["Subject"] for m in about] == ["Hal mentioned you on “Post one”"] and len(mails) == 3
    assert smtp_server.messages(address("ivy")) == []  # she never asked for mail
    for bad in ([0], ["1"], [True], list(range(1, 13)), [999], "1"):
        r = another.post(f"/api/threads/{mail_thread['id']}/comments",
                         json={"text": f"bad mentions {bad!r}", "name": "Hal", "mentions": bad})
        assert (r.status_code, error_of(r)["field"]) == (422, "mentions"), bad


def test_owner_gets_held_comments_with_approve_and_delete_links(reader, smtp_server, mail_thread, redis_server) -> None:
    owner = address("owner")
    cli(redis_server.url, "site", "update", SITE, "--moderation", "hold_all", "--owner-email", owner)
    post(reader, mail_thread["id"], "Please let this through.", name="Ida", email=address("ida"))
    [mail] = smtp_server.wait_for(owner)
    assert "awaits moderation" in mail["Subject"]
    assert "Ida" in text_part(mail) and "Please let this through." in text_part(mail)
    assert "72 hours" in text_part(mail)
    assert mail["List-Unsubscribe"]
    found = {}
    for line in text_part(mail).splitlines():
        if line.startswith(("Approve: ", "Delete: ")):
            label, url = line.split(": ", 1)
            assert url.startswith("http://localhost:") and "/admin/act?token=" in url
            token = parse_qs(urlsplit(url).query)["token"][0]
            payload = links.verify(TEST_SETTINGS, "moderate", token, 72 * 3600)
            assert payload is not None and payload["a"] == label.lower()
            found[payload["a"]] = payload
    # The links are for this comment, need no login, and name the action (the /admin/act
    # page that acts on them is the moderation dashboard's: its click-through test is there).
    assert set(found) == {"approve", "delete"}
    assert all(p["s"] == SITE and p["t"] == mail_thread["id"] and p["c"] == 1 for p in found.values())
    assert links.verify(TEST_SETTINGS, "moderate", token, -1) is None  # they expire


def test_unsubscribe_page_has_a_button_and_one_click_post_works(reader, another, smtp_server, mail_thread) -> None:
    by_page, one_click = address("page"), address("oneclick")
    subscribe(reader, smtp_server, mail_thread["id"], by_page)
    subscribe(another, smtp_server, mail_thread["id"], one_click)
    post(reader, mail_thread["id"], words(), name="Jo")
    [_, news] = smtp_server.wait_for(one_click, 2)
    smtp_server.wait_for(by_page, 2)

    page_url = link(smtp_server.messages(by_page)[0], "/api/notify/unsubscribe")
    page = httpx.get(page_url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<form method="post">' in page.text and "Unsubscribe" in page.text
    assert httpx.get(page_url).status_code == 200 and by_page not in page.text  # a GET changes nothing...
    assert httpx.post(page_url, data={}).status_code == 200  # ...pressing the button does

    # RFC 8058: the mail client POSTs this body to the List-Unsubscribe URL, no cookies, no page.
    r = httpx.post(news["List-Unsubscribe"].strip("<>"), content=b"List-Unsubscribe=One-Click",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    assert httpx.post(news["List-Unsubscribe"].strip("<>"), content=b"List-Unsubscribe=One-Click").status_code == 200

    control = address("control")
    subscribe(reader, smtp_server, mail_thread["id"], control)
    after = words()
    post(reader, mail_thread["id"], after, name="Kim", email=address("kim"))
    # Mail about comments from before the unsubscribe may still be on its way (the
    # batch window); about a comment after it, none must come.
    [*_, news_after] = smtp_server.wait_for(control, 2)
    assert after in text_part(news_after)
    time.sleep(2)
    for gone in (by_page, one_click):
        assert not [m for m in smtp_server.messages(gone) if after in text_part(m)]


def test_owner_can_unsubscribe_in_one_click(reader, smtp_server, mail_thread, redis_server) -> None:
    owner, other_owner = address("owner"), address("owner2")
    cli(redis_server.url, "site", "update", SITE, "--moderation", "hold_all", "--owner-email", owner,
        "--owner-email", other_owner)
    post(reader, mail_thread["id"], words(), name="Lu")
    [mail] = smtp_server.wait_for(owner)
    assert httpx.post(mail["List-Unsubscribe"].strip("<>"), content=b"List-Unsubscribe=One-Click").status_code == 200
    post(reader, mail_thread["id"], words(), name="Lu")
    smtp_server.wait_for(other_owner, 2)
    time.sleep(1)
    assert len(smtp_server.messages(owner)) == 1


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_nothing_is_lost_while_the_smtp_server_is_down(reader, another, smtp_server, mail_thread,
                                                      redis_client) -> None:
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    smtp_server.stop()
    try:
        mine = post(another, mail_thread["id"], "Written while mail is down.", name="Mo", email=address("mo"))
        post(reader, mail_thread["id"], "A reply while mail is down.", name="Sub", parent=mine["comment"]["id"])
        time.sleep(4)  # the batch closes and the worker retries against a dead server for a while
    finally:
        smtp_server.start()
    mails = smtp_server.wait_for(sub, 2, timeout=30)
    assert "Written while mail is down." in text_part(mails[1])
    time.sleep(2)
    assert len(smtp_server.messages(sub)) == 2
    # The overview's figures of the day: the confirmation and the news sent, the failed tries counted.
    day = redis_client.hgetall(keys.stats_day(SITE, stats.day_of(int(time.time() * 1000))))
    assert int(day["mail:sent"]) >= len(smtp_server.messages(sub)) == 2 and int(day["mail:deferred"]) >= 1
    assert "mail:failed" not in day


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_mail_is_in_the_sites_language(reader, another, smtp_server, mail_thread, redis_server) -> None:
    cli(redis_server.url, "site", "update", SITE, "--language", "fr")
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    assert smtp_server.messages(sub)[0]["Subject"] == "Confirmez : messages sur les nouveaux commentaires de Demo"
    post(another, mail_thread["id"], words(), name="Ned")
    mails = smtp_server.wait_for(sub, 2)
    assert mails[1]["Subject"] == "Nouveau commentaire sur « Post one »"
    assert "Se désabonner" in text_part(mails[1]) and 'lang="fr"' in html_part(mails[1])


@pytest.mark.single_only  # network-side: its database steps run on the cluster elsewhere
def test_html_part_escapes_a_name_with_markup(reader, another, smtp_server, mail_thread) -> None:
    sub = address("sub")
    subscribe(reader, smtp_server, mail_thread["id"], sub)
    post(another, mail_thread["id"], "Hello <script>alert(2)</script> **there**", name="<img src=x onerror=alert(1)>")
    mails = smtp_server.wait_for(sub, 2)
    html = html_part(mails[1])
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<script" not in html
    assert "<strong>there</strong>" in html  # the body is the stored, sanitised HTML
    assert "<img src=x onerror=alert(1)> wrote:" in text_part(mails[1])  # plain text is just text


def test_emails_never_appear_in_api_responses(reader, another, smtp_server, mail_thread, mail_server) -> None:
    secret = address("secret")
    mine = subscribe(reader, smtp_server, mail_thread["id"], secret)
    reply = post(another, mail_thread["id"], words(), name="Oz", parent=mine["comment"]["id"])
    cid = mine["comment"]["id"]
    seen = [
        another.get(f"/api/threads/{mail_thread['id']}").text,
        another.get("/api/threads", params={"site": SITE, "page": mail_thread["page"]}).text,
        another.get(f"/api/threads/{mail_thread['id']}/comments/{cid}").text,
        another.get(f"/api/threads/{mail_thread['id']}/comments/{cid}/replies").text,
        another.get(f"/api/sites/{SITE}").text,
        str(reply),
    ]
    mails = smtp_server.wait_for(secret, 2)
    for mail in mails:
        for url in (u for u in text_part(mail).split() if "/api/notify/" in u):
            seen.append(httpx.get(url).text)
            seen.append(httpx.get(url, headers={"Accept": "text/html"}).text)
    assert all(secret not in text and secret.split("@")[0] not in text for text in seen)
    # Not even the author's own view carries it (the page may hold the id that opens that view).
    assert secret not in str(mine)


def test_the_widget_is_told_notifications_are_available(reader) -> None:
    assert reader.get(f"/api/sites/{SITE}").json()["site"]["notifications"] is True
    assert open_thread(reader) and reader.get(
        "/api/threads", params={"site": SITE, "page": "p"}).json()["site"]["notifications"] is True


@pytest.mark.parametrize("provider,email", [("x", None), ("google", "gus@example.com")])
def test_a_signed_in_reader_is_offered_mail_only_with_an_address(mail_server, reader, smtp_server, mail_thread,
                                                                  provider, email) -> None:
    """X gives no address, Google does: the thread page tells the reader (only them) which, and the widget
    offers "Notify me" only with one; a request without one is refused on the checkbox, not a hidden field."""
    token = login(reader, mail_server.base, provider)
    close_popups()
    tid = mail_thread["id"]
    with reader_client(mail_server) as user:
        user.headers["Authorization"] = f"Bearer {token}"
        assert user.get(f"/api/threads/{tid}").json()["me"]["email"] == email
        r = user.post(f"/api/threads/{tid}/comments", json={"text": words(), "notify": True})
        if email is None:
            assert r.status_code == 422 and error_of(r) == {
                "code": "notify_needs_email", "message": "Notifications need an email address.", "field": "notify"}
            assert user.get(f"/api/threads/{tid}").json()["thread"]["count"] == 0
        else:
            assert r.status_code == 201, r.text
            [mail] = smtp_server.wait_for(email)
            assert link(mail, "/api/notify/confirm")
    # Nobody else sees the address.
    assert email is None or email not in reader.get(f"/api/threads/{tid}").text


def test_bad_notify_requests_are_refused(reader, mail_thread) -> None:
    r = reader.post(f"/api/threads/{mail_thread['id']}/comments", json={"text": words(), "name": "Pat", "notify": True})
    assert r.status_code == 422 and error_of(r) == {
        "code": "notify_needs_email", "message": "Notifications need an email address.", "field": "email"}
    r = reader.post(f"/api/threads/{mail_thread['id']}/comments",
                    json={"text": words(), "name": "Pat", "email": address(), "notify": "yes"})
    assert r.status_code == 422 and error_of(r)["field"] == "notify"
    assert reader.get(f"/api/threads/{mail_thread['id']}").json()["thread"]["count"] == 0


@pytest.mark.parametrize("path", ["/api/notify/confirm", "/api/notify/unsubscribe"])
def test_bad_and_expired_links_are_refused(reader, path, monkeypatch) -> None:
    for token in ("", "garbage", "x" * 2000, links.sign(TEST_SETTINGS, "moderate", {"s": SITE})):
        for method in ("GET", "POST"):
            r = reader.request(method, path, params={"token": token} if token else {})
            assert r.status_code == 400 and error_of(r)["code"] == "invalid_link", (token, r.text)
    r = reader.get(path, params={"token": "garbage"}, headers={"Accept": "text/html"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html") and "invalid_link" in r.text
    purpose = path.rsplit("/", 1)[1]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 6 * 366 * 86400)
    old = links.sign(TEST_SETTINGS, purpose, {"s": SITE, "t": "a" * 24, "e": "b" * 24})
    monkeypatch.undo()
    r = reader.post(path, params={"token": old})
    assert r.status_code == 410 and error_of(r)["code"] == "link_expired"


def test_confirming_a_cancelled_subscription_says_so(reader, smtp_server, mail_thread) -> None:
    sub = address("sub")
    post(reader, mail_thread["id"], words(), name="Quin", email=sub, notify=True)
    [mail] = smtp_server.wait_for(sub)
    assert httpx.post(link(mail, "/api/notify/unsubscribe")).status_code == 200
    r = httpx.post(link(mail, "/api/notify/confirm"))
    assert r.status_code == 404 and error_of(r)["code"] == "subscription_not_found"
