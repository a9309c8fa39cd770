"""Passkeys in Chromium, with its virtual authenticator (DevTools' WebAuthn domain): a reader signed in
with GitHub adds a passkey from the comments; later, in another browser with third-party cookies and
storage blocked (the frame on another site than the page), the passkey alone signs them in."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from ..conftest import SITE
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def own_account(oauth_provider) -> Iterator[None]:
    """A GitHub account of this test's own (an account keeps at most ten passkeys)."""
    httpx.put(f"{oauth_provider.base}/_control/user/github", json={"id": "77001", "name": "Pia Passkey"})
    yield
    httpx.put(f"{oauth_provider.base}/_control/user/github", json={"id": "1001", "name": "Gita Hub"})


def authenticator(page: Page) -> tuple[Any, str]:
    """A platform authenticator in this page (a fingerprint reader that always says yes)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, found["authenticatorId"]


def test_add_a_passkey_then_sign_in_with_it_alone(reader: ReaderFactory, app_server, own_account) -> None:
    # Where the comments keep their own storage (opened on the comments server's own site).
    first = reader()
    page = first.page
    first.expect_refusal(404)  # the handover asked for before the popup is done
    page.goto(f"{app_server.base}/frame?site={SITE}&page=passkey-post&title=Keys")
    page.get_by_role("heading", name=re.compile("thought")).wait_for()
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Log in with GitHub").click()
    opened.value.get_by_role("button", name="Allow").click()
    page.get_by_text("You are commenting using your GitHub account.", exact=False).first.wait_for()

    mine = page.get_by_role("button", name="Passkeys")
    mine.click()
    expect(mine).to_have_attribute("aria-expanded", "true")
    keys = page.locator("#rj-keys")
    expect(keys).to_contain_text("No passkey yet.")
    with page.expect_popup() as opened:
        keys.get_by_role("button", name="Add a passkey").click()
    popup = opened.value
    cdp, device = authenticator(popup)
    create = popup.get_by_role("button", name="Create a passkey")
    expect(create).to_be_enabled()  # the frame handed the popup its ticket
    expect(popup.locator("#passkey-who")).to_have_text("For Pia Passkey (GitHub).")
    create.click()
    expect(popup.get_by_role("heading")).to_have_text("Passkey added")
    page.get_by_text("Passkey added: next time, log in with it alone.").wait_for(state="attached")
    expect(keys.locator("li")).to_have_count(1)
    expect(keys.locator("li")).to_contain_text("Added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": device})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"] and credentials[0]["rpId"] == "localhost"
    with page.expect_download() as downloading:
        page.get_by_role("button", name="My data").click()
    data = json.loads(Path(downloading.value.path()).read_text())
    assert len(data["account"]["passkeys"]) == 1
    popup.close()

    # Another browser, the page on another site (third-party storage blocked): the passkey alone.
    second = reader()
    second.open_demo()
    second.expect_refusal(404)
    f = second.frame
    assert f.locator("html").evaluate("() => { try { return !!window.localStorage } catch (e) { return false } }") is False
    with second.page.expect_popup() as opened:
        f.get_by_role("button", name="Log in with Passkey").click()
    popup = opened.value
    cdp, device = authenticator(popup)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": device, "credential": credentials[0]})
    popup.get_by_role("button", name="Use my passkey").click()
    f.get_by_text("You are commenting using your GitHub account.", exact=False).first.wait_for()
    if not popup.is_closed():  # it closes itself once it handed over; the next sign-in opens a new one
        popup.wait_for_event("close")

    second.field("Comment").fill("Signed in with nothing but a passkey.")
    f.get_by_role("button", name="Post Comment").click()
    mine = second.comment("Signed in with nothing but a passkey.")
    mine.wait_for()
    expect(mine.locator(".rj-name")).to_have_text("Pia Passkey")

    second.reload()
    second.frame.get_by_text("You are commenting using your GitHub account.", exact=False).first.wait_for()
    # The session the blog page holds may not add a key to the account: the button is not offered.
    expect(second.frame.get_by_role("button", name="Add a passkey")).to_have_count(0)
    second.frame.get_by_role("button", name="Log Out", exact=True).click()
    second.field("Name").wait_for()
    expect(second.frame.get_by_role("button", name="Log in with Passkey")).to_be_visible()

    # Back in the first browser, the reader removes the passkey: it signs no one in any more.
    keys.get_by_role("button", name="Remove").click()
    expect(keys).to_contain_text("No passkey yet.")
    with second.page.expect_popup() as opened:
        second.frame.get_by_role("button", name="Log in with Passkey").click()
    popup = opened.value
    cdp, device = authenticator(popup)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": device, "credential": credentials[0]})
    second.expect_refusal(400)  # the sign-in page that says so
    popup.get_by_role("button", name="Use my passkey").click()
    expect(popup.locator("#login-result")).to_contain_text("not known here")
    page.get_by_role("button", name="Log Out", exact=True).click()


def test_a_cancelled_passkey_says_so_and_signs_no_one_in(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    r.expect_refusal(404)
    with r.page.expect_popup() as opened:
        r.frame.get_by_role("button", name="Log in with Passkey").click()
    popup = opened.value
    authenticator(popup)  # a device with no passkey for this site
    popup.get_by_role("button", name="Use my passkey").click()
    expect(popup.get_by_role("alert")).to_have_text("The passkey was not used. Try again when you are ready.",
                                                    timeout=20_000)
    expect(popup.get_by_role("button", name="Use my passkey")).to_be_enabled()
    expect(r.frame.get_by_role("button", name="Log in with Passkey")).to_be_visible()
