"""In Chromium: sign-in by a mailed link from the widget, with third-party cookies and storage blocked: the popup asks
for a name and an address, the link arrives by SMTP (through the worker), opened in the same browser it
signs the reader in, and the frame collects the session."""

from __future__ import annotations

from typing import Iterator

import pytest
import redis as redis_sync
from playwright.sync_api import Browser, expect

from ..browser.conftest import PageHost, Reader, browser, page_host
from ..conftest import SITE, register_site
from ..support.mailbox import SmtpServer, link
from ..support.servers import AppServer

# The browser and the blog page's host, from the browser tests; the server that sends mail and its SMTP
# server are this folder's (one of each in a run: a second mail server would take the site's mail).
__all__ = ["browser", "page_host"]

pytestmark = pytest.mark.browser


@pytest.fixture
def mail_reader(browser: Browser, mail_server: AppServer, page_host: PageHost,
                redis_client: redis_sync.Redis) -> Iterator[Reader]:
    """A reader of the demo page of the server that sends mail (its console errors fail the test)."""
    register_site(redis_client, SITE, [mail_server.page_origin, page_host.origin])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    r = Reader(context, mail_server, [], page_host)
    yield r
    problems = list(r.problems)
    context.close()
    assert not problems, "\n".join(problems)


def test_sign_in_by_a_mailed_link_post_reload_and_log_out(mail_reader: Reader, smtp_server: SmtpServer) -> None:
    r = mail_reader.open_demo()
    r.expect_refusal(404)  # the frame asks for its handover until the link is opened
    f = r.frame
    assert f.locator("html").evaluate("() => { try { return !!window.localStorage } catch (e) { return false } }") is False
    with r.page.expect_popup() as opened:
        f.get_by_role("button", name="Log in with Email").click()
    popup = opened.value
    to = "reader-browser@mail.example"
    popup.get_by_label("Your name").fill("Erin Mail")
    popup.get_by_label("Your email address").fill(to)
    popup.get_by_role("button", name="Mail me a sign-in link").click()
    expect(popup.get_by_role("heading")).to_have_text("Check your mail")

    # The reader opens the mail's link in a new tab of the same browser, and confirms there.
    [mail] = smtp_server.wait_for(to)
    tab = r.context.new_page()
    tab.goto(link(mail, "/auth/email/verify"))
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading")).to_have_text("Signed in")
    f.get_by_text("You are commenting using your Email account.", exact=False).first.wait_for(timeout=15_000)

    r.field("Comment").fill("Signed in by a link.")
    f.get_by_role("button", name="Post Comment").click()
    mine = r.comment("Signed in by a link.")
    mine.wait_for()
    expect(mine.locator(".rj-name")).to_have_text("Erin Mail")

    r.reload()
    r.frame.get_by_text("You are commenting using your Email account.", exact=False).first.wait_for()
    r.frame.get_by_role("button", name="Log Out").click()
    r.field("Name").wait_for()
    expect(r.frame.get_by_role("button", name="Log in with Email")).to_be_visible()
