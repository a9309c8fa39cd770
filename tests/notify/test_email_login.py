"""Sign-in by a link mailed to the reader (through the worker and the real local SMTP server): single use,
from the browser that asked, rate-limited; a reader signed in so has a confirmed address."""

from __future__ import annotations

import re
import time
from typing import Iterator

import httpx
import pytest

from ..conftest import SITE, register_site
from ..support import login
from ..support.api import error_of, post
from ..support.mailbox import SmtpServer, link, text_part
from ..support.servers import AppServer
from .conftest import address, open_thread, words


@pytest.fixture(autouse=True)
def _close_popups() -> Iterator[None]:
    yield
    login.close_popups()


def ask(server: AppServer, email: str, name: str = "Erin Mail") -> login.Flow:
    """The popup: the form, then the address posted. Its cookie jar is the browser that asked."""
    secret, h = login.secret_pair()
    popup = httpx.Client(timeout=10)
    login.OPEN.append(popup)
    page = popup.get(f"{server.base}/auth/email/start", params={"site": SITE, "h": h}, headers=login.FROM_FRAME)
    assert page.status_code == 200 and 'name="email"' in page.text, page.text
    r = popup.post(f"{server.base}/auth/email/start", data={"site": SITE, "h": h, "name": name, "email": email},
                   headers={"Origin": server.base, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200 and "Check your mail" in r.text, r.text
    assert email not in r.text  # masked even to its owner's own window
    return login.Flow(popup, secret, h, "")


def open_link(browser: httpx.Client, server: AppServer, url: str) -> httpx.Response:
    page = browser.get(url)
    assert page.status_code == 200 and "Sign in" in page.text, page.text
    return browser.post(url, headers={"Origin": server.base})


def test_a_reader_signs_in_by_the_mailed_link_and_comments(mail_server, smtp_server: SmtpServer, reader) -> None:
    providers = reader.get("/api/auth/providers", params={"site": SITE}).json()["providers"]
    assert {"id": "email", "name": "Email"} in providers
    to = address()
    flow = ask(mail_server, to)
    # Until the link is used, the frame's handover waits.
    assert reader.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404
    [mail] = smtp_server.wait_for(to)
    assert "sign-in link" in mail["Subject"] and "List-Unsubscribe" not in mail
    url = link(mail, "/auth/email/verify")
    done = open_link(flow.popup, mail_server, url)
    assert done.status_code == 200 and "Signed in" in done.text
    r = reader.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 200, r.text
    me = r.json()["me"]
    assert me["name"] == "Erin Mail" and me["provider"] == "email" and me["email"] == to
    reader.headers["Authorization"] = f"Bearer {r.json()['token']}"
    thread = open_thread(reader)
    made = post(reader, thread["id"], words())["comment"]
    assert made["author"]["name"] == "Erin Mail" and made["status"] == "approved"
    assert to not in str(made)
    # Used once: the same link again signs no one in.
    again = flow.popup.post(url, headers={"Origin": mail_server.base})
    assert again.status_code == 410


def test_the_link_works_only_in_the_browser_that_asked(mail_server, smtp_server: SmtpServer, reader) -> None:
    to = address()
    flow = ask(mail_server, to)
    url = link(smtp_server.wait_for(to)[0], "/auth/email/verify")
    with httpx.Client(timeout=10) as elsewhere:  # someone who got hold of the mail, in another browser
        r = open_link(elsewhere, mail_server, url)
        assert r.status_code == 403 and "browser where you asked" in r.text
    assert reader.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404
    # The link was not spent by the wrong browser: its owner still signs in with it.
    assert open_link(flow.popup, mail_server, url).status_code == 200
    assert reader.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 200


def test_a_mail_scanner_following_the_link_signs_no_one_in(mail_server, smtp_server: SmtpServer, reader) -> None:
    to = address()
    flow = ask(mail_server, to)
    url = link(smtp_server.wait_for(to)[0], "/auth/email/verify")
    for _ in range(3):
        assert flow.popup.get(url).status_code == 200  # a GET only shows the button
    assert reader.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404
    # A POST from another site (a hostile page submitting the form) is refused.
    r = flow.popup.post(url, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert open_link(flow.popup, mail_server, url).status_code == 200


def test_one_link_a_minute_per_address(mail_server, smtp_server: SmtpServer) -> None:
    to = address()
    ask(mail_server, to)
    secret, h = login.secret_pair()
    with httpx.Client(timeout=10) as popup:
        r = popup.post(f"{mail_server.base}/auth/email/start", data={"site": SITE, "h": h, "name": "X", "email": to},
                       headers={"Origin": mail_server.base, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 429 and "a moment ago" in r.text
    time.sleep(1.5)
    assert len(smtp_server.messages(to)) == 1


@pytest.mark.parametrize("name,email,field", [("", "a@b.example", "name"), ("Ann", "not an address", "email"),
                                              ("Ann", "", "email")])
def test_bad_input_is_refused_in_words_and_kept(mail_server, name, email, field) -> None:
    secret, h = login.secret_pair()
    with httpx.Client(timeout=10) as popup:
        r = popup.post(f"{mail_server.base}/auth/email/start", data={"site": SITE, "h": h, "name": name, "email": email},
                       headers={"Origin": mail_server.base, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', r.text), r.text


def test_the_form_only_starts_from_our_own_pages(mail_server) -> None:
    secret, h = login.secret_pair()
    with httpx.Client(timeout=10) as stranger:
        page = stranger.get(f"{mail_server.base}/auth/email/start", params={"site": SITE, "h": h},
                            headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                     "Sec-Fetch-Dest": "document"})
        assert page.status_code == 403
        r = stranger.post(f"{mail_server.base}/auth/email/start",
                          data={"site": SITE, "h": h, "name": "Eve", "email": address("victim")},
                          headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403


def test_notify_me_needs_no_confirmation_mail_after_an_email_sign_in(mail_server, smtp_server: SmtpServer, reader,
                                                                      another) -> None:
    to = address()
    flow = ask(mail_server, to)
    open_link(flow.popup, mail_server, link(smtp_server.wait_for(to)[0], "/auth/email/verify"))
    token = reader.post("/api/auth/handover", json={"secret": flow.secret}).json()["token"]
    reader.headers["Authorization"] = f"Bearer {token}"
    thread = open_thread(reader)
    post(reader, thread["id"], words(), notify=True)
    post(another, thread["id"], words(), name="Other")
    # The next mail to the address is the new comment itself, not a request to confirm it.
    mails = smtp_server.wait_for(to, count=2)
    assert "New comment" in mails[1]["Subject"], [m["Subject"] for m in mails]
    assert "Other" in text_part(mails[1])


def test_a_session_from_an_email_link_is_for_its_site_only(mail_server, smtp_server: SmtpServer, reader,
                                                           redis_client) -> None:
    register_site(redis_client, "elsewhere", ["https://elsewhere.example"])
    to = address()
    flow = ask(mail_server, to)
    open_link(flow.popup, mail_server, link(smtp_server.wait_for(to)[0], "/auth/email/verify"))
    token = reader.post("/api/auth/handover", json={"secret": flow.secret}).json()["token"]
    r = reader.get("/api/auth/me", params={"site": "elsewhere"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"
    # Nor does it open the dashboard: it is a reader's session.
    r = reader.get("/api/admin/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
