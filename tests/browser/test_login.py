"""Social login from the widget: a popup on the server's origin, a one-time handover, no third-party storage."""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from playwright.sync_api import expect

from rejoinder.store import keys

from ..conftest import SITE
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser


def test_sign_in_with_a_provider_post_as_that_user_and_log_out(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    # While the popup runs, the iframe may ask for its handover before it is ready.
    r.expect_refusal(404)
    f = r.frame
    # The proof that login needs no third-party cookie or storage: this browser denies both to the iframe.
    assert f.locator("html").evaluate("() => { try { return !!window.localStorage } catch (e) { return false } }") is False
    for name in ("X", "Facebook", "GitHub", "Google"):
        assert f.get_by_role("button", name=f"Log in with {name}").count() == 1

    with r.page.expect_popup() as opened:
        f.get_by_role("button", name="Log in with GitHub").click()
    popup = opened.value
    popup.get_by_role("button", name="Allow").click()
    f.get_by_text("You are commenting using your GitHub account.", exact=False).first.wait_for()
    assert r.field("Name").count() == 0 or r.field("Name").is_hidden()

    r.field("Comment").fill("Signed in and commenting.")
    f.get_by_role("button", name="Post Comment").click()
    mine = r.comment("Signed in and commenting.")
    mine.wait_for()
    assert mine.locator(".rj-name").text_content() == "Gita Hub"
    assert (mine.locator("img.rj-avatar").get_attribute("src") or "").startswith("/api/avatars/u/")
    assert mine.get_by_role("button", name="Edit").count() == 1

    # Third-party cookies really are blocked here: one set inside the iframe is neither kept nor sent.
    sent_cookies: list[str] = []
    r.page.on("request", lambda req: sent_cookies.append(req.headers.get("cookie", ""))
              if req.url.startswith(r.server.base) else None)
    f.locator("html").evaluate("() => { document.cookie = 'rjprobe=1; path=/'; }")
    assert "rjprobe" not in f.locator("html").evaluate("() => document.cookie")

    # A reload keeps the reader signed in, with no third-party cookie or iframe storage.
    r.reload()
    f = r.frame
    f.get_by_text("You are commenting using your GitHub account.", exact=False).first.wait_for()
    assert r.comment("Signed in and commenting.").get_by_role("button", name="Edit").count() == 1
    assert sent_cookies and not any("rjprobe" in c for c in sent_cookies)

    f.get_by_role("button", name="Log Out").click()
    r.field("Name").wait_for()
    assert f.get_by_role("button", name="Log in with GitHub").is_visible()
    # The widget redraws the reader's own comments as anyone's (bounded wait, as a reader would see it).
    expect(r.comment("Signed in and commenting.").get_by_role("button", name="Edit")).to_have_count(0)
    expect(r.comment("Signed in and commenting.").locator(".rj-you")).to_have_count(0)


def test_a_blogs_own_member_is_signed_in_by_the_blog_and_comments_under_their_name(
        reader: ReaderFactory, app_server, redis_client) -> None:
    """The blog signs its signed-in member (data-sso) with the site's secret: no second sign-in, the
    comment carries their name, a reload keeps them signed in (the token itself works once), and
    signing out signs out. The frame is on another site than the page, as in the demo."""
    secret = secrets.token_urlsafe(32)
    redis_client.set(keys.sso_secret(SITE), secret)
    now = int(time.time())
    tok = jwt.encode({"alg": "HS256"}, {"aud": SITE, "sub": "m-7", "name": "Mo Member", "iat": now,
                                        "exp": now + 600, "jti": secrets.token_hex(8)},
                     OctKey.import_key(secret.encode()))
    r = reader()
    page = f"""<!doctype html><html lang="en"><title>Members' post</title><body><main><h1>Members' post</h1>
      <div id="rejoinder" data-sso="{tok}"></div></main>
      <script src="{app_server.base}/embed.js" data-site="{SITE}" data-page="members-post" async></script></body></html>"""
    r.open_html(page, path="/members/")
    expect(r.frame.get_by_text("Mo Member", exact=False).first).to_be_visible(timeout=10_000)
    r.field("Comment").fill("Written as a member of the blog")
    r.frame.get_by_role("button", name="Post Comment").click()
    posted = r.comment("Written as a member of the blog")
    expect(posted.locator(".rj-name")).to_have_text("Mo Member")
    # The token never stayed in the frame's address.
    assert "sso=" not in r.page.frames[1].url
    r.reload()
    expect(r.frame.get_by_role("button", name=re.compile("Log out", re.I)).first).to_be_visible(timeout=10_000)
    r.frame.get_by_role("button", name=re.compile("Log out", re.I)).first.click()
    expect(r.field("Name")).to_be_visible()


def test_a_signed_in_reader_downloads_their_data_and_deletes_their_account(reader: ReaderFactory, app_server) -> None:
    """Where the comments keep their own storage (here: opened on the comments server's own site), a
    signed-in reader has "My data" and "Delete my account" (GDPR articles 15 and 17)."""
    r = reader()
    page = r.page
    r.expect_refusal(404)  # the handover asked for before the popup is done; no favicon on its own
    page.goto(f"{app_server.base}/frame?site={SITE}&page=gdpr-post&title=Mine")
    page.get_by_role("heading", name=re.compile("thought")).wait_for()
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Log in with GitHub").click()
    opened.value.get_by_role("button", name="Allow").click()
    page.get_by_text("You are commenting using your GitHub account.", exact=False).first.wait_for()
    page.get_by_role("textbox", name=re.compile("^Comment")).fill("Mine to take away")
    page.get_by_role("button", name="Post Comment").click()
    page.locator("li.rj-item", has_text="Mine to take away").wait_for()

    with page.expect_download() as downloading:
        page.get_by_role("button", name="My data").click()
    data = json.loads(Path(downloading.value.path()).read_text())
    assert [c["text"] for t in data["threads"] for c in t["comments"]] == ["Mine to take away"]
    assert data["account"]["provider"] == "github"

    delete = page.get_by_role("button", name="Delete my account")
    delete.click()
    page.get_by_role("button", name="Really delete your account and comments here?").click()
    page.get_by_text("Your account and your comments here are deleted.").wait_for(state="attached")
    expect(page.get_by_role("textbox", name=re.compile("^Name"))).to_be_visible()
    expect(page.locator("li.rj-item", has_text="Mine to take away")).to_have_count(0)
