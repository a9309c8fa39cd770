"""Passkeys over HTTP, with a software authenticator that makes real keys and signatures
(tests/support/authenticator.py): a reader adds one to their account and signs in with it alone; and
what an attacker who holds a page's session, a stolen credential id, a copied key or their own
authenticator can and cannot do with it."""

from __future__ import annotations

import html
import json
import re
import secrets
from typing import Any, Iterator

import httpx
import pytest

from rejoinder.store import keys
from rejoinder.store.sessions import token_hash

from ..conftest import SITE, register_site
from ..support import authenticator, login
from ..support.api import error_of
from ..support.servers import AppServer


@pytest.fixture(autouse=True)
def _close_popups() -> Iterator[None]:
    yield
    login.close_popups()


@pytest.fixture(autouse=True)
def _own_account(oauth_provider) -> Iterator[None]:
    """Each test signs in with a GitHub account of its own (an account keeps at most ten passkeys)."""
    httpx.put(f"{oauth_provider.base}/_control/user/github", json={"id": str(secrets.randbelow(10**9))})
    yield
    httpx.put(f"{oauth_provider.base}/_control/user/github", json={"id": "1001"})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def popup(app: AppServer) -> httpx.Client:
    """The passkey popup's own calls: a page of our origin."""
    client = httpx.Client(base_url=app.base, timeout=10, headers={"Origin": app.base})
    login.OPEN.append(client)
    return client


def ticket(api: httpx.Client, token: str) -> str:
    r = api.post("/api/auth/passkeys/ticket", params={"site": SITE}, headers=bearer(token))
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def add_passkey(app: AppServer, api: httpx.Client, token: str, **create: Any) -> authenticator.Passkey:
    t = ticket(api, token)
    window = popup(app)
    r = window.post("/api/auth/passkeys/options", json={"ticket": t})
    assert r.status_code == 200, r.text
    passkey, credential = authenticator.create(r.json()["options"], app.base, **create)
    r = window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential})
    assert r.status_code == 201, r.text
    return passkey


class SignIn:
    """The passkey sign-in popup, up to the button: its flow, and the options on its page."""

    def __init__(self, app: AppServer, site: str = SITE) -> None:
        self.app = app
        self.secret, self.h = login.secret_pair()
        self.window = httpx.Client(timeout=10)
        login.OPEN.append(self.window)
        page = self.window.get(f"{app.base}/auth/passkey/start", params={"site": site, "h": self.h},
                               headers=login.FROM_FRAME)
        assert page.status_code == 200, page.text
        self.options = json.loads(html.unescape(re.search(r'data-options="([^"]*)"', page.text).group(1)))
        self.state = re.search(r'name="state" value="([^"]*)"', page.text).group(1)

    def finish(self, assertion: dict[str, Any], origin: str | None = None) -> httpx.Response:
        return self.window.post(f"{self.app.base}/auth/passkey/finish",
                                data={"state": self.state, "credential": json.dumps(assertion)},
                                headers={"Origin": origin or self.app.base, "Sec-Fetch-Site": "same-origin"})


def sign_in(app: AppServer, api: httpx.Client, passkey: authenticator.Passkey) -> dict:
    flow = SignIn(app)
    page = flow.finish(authenticator.get(passkey, flow.options, app.base))
    assert page.status_code == 200 and login.code_of(page), page.text
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": login.code_of(page)})
    assert r.status_code == 200, r.text
    return r.json()


def refused(page: httpx.Response, words: str = "could not be checked") -> None:
    assert page.status_code == 400, page.text
    assert login.code_of(page) is None and "Sign-in failed" in page.text and words in page.text


def test_a_reader_adds_a_passkey_and_signs_in_with_it_alone(app_server, api, other_reader) -> None:
    token = login.login(api, app_server.base, "github")
    me = api.get("/api/auth/me", headers=bearer(token)).json()["me"]
    passkey = add_passkey(app_server, api, token)
    listed = api.get("/api/auth/passkeys", params={"site": SITE}, headers=bearer(token)).json()["passkeys"]
    assert [p["id"] for p in listed] == [passkey.id] and listed[0]["used"] is None
    assert api.post("/api/auth/logout", headers=bearer(token)).status_code == 200

    # Another browser, nothing but the passkey: the same account, its name and its provider.
    session = sign_in(app_server, other_reader, passkey)
    assert session["me"]["name"] == me["name"] and session["me"]["provider"] == "github"
    again = other_reader.get("/api/auth/passkeys", params={"site": SITE}, headers=bearer(session["token"]))
    assert again.json()["passkeys"][0]["used"] is not None
    data = other_reader.get("/api/auth/me/data", params={"site": SITE}, headers=bearer(session["token"])).json()
    assert [p["id"] for p in data["account"]["passkeys"]] == [passkey.id]
    # A passkey is only a way in: the public key never leaves the server.
    assert set(again.json()["passkeys"][0]) == {"id", "created", "used", "synced"}
    assert passkey.public_key not in json.dumps(again.json()) + json.dumps(data)


def test_the_handover_is_not_for_whoever_chose_h(app_server, api, other_reader) -> None:
    """An attacker who opened the popup with an h of theirs knows the secret, not the code: the victim's
    passkey sign-in is not theirs to collect."""
    passkey = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    flow = SignIn(app_server)
    page = flow.finish(authenticator.get(passkey, flow.options, app_server.base))
    assert page.status_code == 200 and login.code_of(page)
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 404 and error_of(r)["code"] == "handover_pending"
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret, "code": "guessed"})
    assert r.status_code == 403 and error_of(r)["code"] == "handover_mismatch"


def test_a_passkey_session_is_for_its_site_and_readers_only(app_server, api, redis_client) -> None:
    register_site(redis_client, "elsewhere", ["https://elsewhere.example"])
    passkey = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    token = sign_in(app_server, api, passkey)["token"]
    r = api.get("/api/auth/me", params={"site": "elsewhere"}, headers=bearer(token))
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"
    r = api.get("/api/admin/me", headers=bearer(token))
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"


def test_only_the_frames_own_session_may_add_a_passkey(app_server, api) -> None:
    """A session the blog page holds (its scripts can read it) must never add a key to the account: with one,
    a hostile page would keep the reader's account for ever, on every site."""
    flow = login.start(app_server.base, "github")
    page = login.callback(flow, login.consent(flow))
    held = api.post("/api/auth/handover", json={"secret": flow.secret, "code": login.code_of(page), "keep": "page"})
    assert held.status_code == 200, held.text
    r = api.post("/api/auth/passkeys/ticket", params={"site": SITE}, headers=bearer(held.json()["token"]))
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    r = api.post("/api/auth/passkeys/ticket", params={"site": SITE})
    assert r.status_code == 401 and error_of(r)["code"] == "auth_required"


def test_the_popups_calls_come_from_our_own_page(app_server, api) -> None:
    t = ticket(api, login.login(api, app_server.base, "github"))
    for headers in ({"Origin": "https://blog.example"}, {}):
        r = httpx.post(f"{app_server.base}/api/auth/passkeys/options", json={"ticket": t}, headers=headers)
        assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"
    r = popup(app_server).post("/api/auth/passkeys/options", json={"ticket": "x" * 43})
    assert r.status_code == 410 and error_of(r)["code"] == "passkey_expired"


def test_a_ticket_adds_one_passkey_once(app_server, api) -> None:
    t = ticket(api, login.login(api, app_server.base, "github"))
    window = popup(app_server)
    options = window.post("/api/auth/passkeys/options", json={"ticket": t}).json()["options"]
    _, credential = authenticator.create(options, app_server.base)
    assert window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential}).status_code == 201
    _, second = authenticator.create(options, app_server.base)
    r = window.post("/api/auth/passkeys", json={"ticket": t, "credential": second})
    assert r.status_code == 410 and error_of(r)["code"] == "passkey_expired"


@pytest.mark.parametrize("lie", ["origin", "challenge", "rp"])
def test_a_passkey_made_elsewhere_is_refused_and_the_ticket_is_spent(app_server, api, lie) -> None:
    token = login.login(api, app_server.base, "github")
    t = ticket(api, token)
    window = popup(app_server)
    options = window.post("/api/auth/passkeys/options", json={"ticket": t}).json()["options"]
    if lie == "challenge":
        options = {**options, "challenge": authenticator.b64url(b"another challenge of 32 bytes!!!")}
    _, credential = authenticator.create(options, "https://evil.example" if lie == "origin" else app_server.base,
                                         rp_id="evil.example" if lie == "rp" else None)
    r = window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential})
    assert r.status_code == 422 and error_of(r)["code"] == "passkey_invalid"
    assert api.get("/api/auth/passkeys", params={"site": SITE}, headers=bearer(token)).json()["passkeys"] == []
    r = window.post("/api/auth/passkeys/options", json={"ticket": t})
    assert r.status_code == 410


def test_a_credential_id_is_never_taken_over(app_server, api, other_reader, redis_client) -> None:
    """An attacker's authenticator claims the victim's credential id with a key of its own: refused, and the
    victim's passkey still signs them in."""
    victim = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    attacker_token = login.login(other_reader, app_server.base, "google")
    t = ticket(other_reader, attacker_token)
    window = popup(app_server)
    options = window.post("/api/auth/passkeys/options", json={"ticket": t}).json()["options"]
    _, credential = authenticator.create(options, app_server.base, credential_id=victim.credential_id)
    r = window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential})
    assert r.status_code == 409 and error_of(r)["code"] == "passkey_exists"
    assert sign_in(app_server, api, victim)["me"]["provider"] == "github"


@pytest.mark.parametrize("lie", ["origin", "challenge", "rp", "old_counter", "other_handle", "unknown", "tampered"])
def test_an_assertion_that_does_not_verify_signs_no_one_in(app_server, api, lie) -> None:
    passkey = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    sign_in(app_server, api, passkey)  # the counter is now 1
    flow = SignIn(app_server)
    options = flow.options
    if lie == "challenge":
        options = SignIn(app_server).options  # signed over another sign-in's challenge
    used = passkey
    if lie == "unknown":
        used = authenticator.Passkey(rp_id=passkey.rp_id, user_handle=passkey.user_handle)
    assertion = authenticator.get(
        used, options, "https://evil.example" if lie == "origin" else app_server.base,
        count_step=-1 if lie == "old_counter" else 1,  # a copy of the key that is behind: cloned
        user_handle=b"\x01" * 16 if lie == "other_handle" else None,
        rp_id="evil.example" if lie == "rp" else None)
    if lie == "tampered":
        assertion["response"]["signature"] = authenticator.b64url(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    page = flow.finish(assertion)
    if lie == "unknown":
        refused(page, "not known here")
    elif lie == "other_handle":
        refused(page, "another account")
    else:
        refused(page)


def test_an_assertion_is_used_once(app_server, api) -> None:
    passkey = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    flow = SignIn(app_server)
    assertion = authenticator.get(passkey, flow.options, app_server.base)
    assert flow.finish(assertion).status_code == 200
    again = flow.finish(assertion)
    assert again.status_code == 400 and "expired or was already used" in again.text


def test_the_finish_form_is_posted_from_our_own_page(app_server, api) -> None:
    passkey = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    flow = SignIn(app_server)
    page = flow.window.post(f"{app_server.base}/auth/passkey/finish",
                            data={"state": flow.state,
                                  "credential": json.dumps(authenticator.get(passkey, flow.options, app_server.base))},
                            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 403 and login.code_of(page) is None


def test_the_sign_in_page_only_starts_from_our_own_pages(app_server) -> None:
    _, h = login.secret_pair()
    r = httpx.get(f"{app_server.base}/auth/passkey/start", params={"site": SITE, "h": h},
                  headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
    assert r.status_code == 403 and "data-options" not in r.text
    r = httpx.get(f"{app_server.base}/auth/passkey/add", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_a_removed_passkey_and_a_deleted_account_sign_no_one_in(app_server, api, other_reader) -> None:
    token = login.login(api, app_server.base, "github")
    first = add_passkey(app_server, api, token)
    second = add_passkey(app_server, api, token)
    r = api.delete(f"/api/auth/passkeys/{first.id}", params={"site": SITE}, headers=bearer(token))
    assert r.status_code == 200, r.text
    flow = SignIn(app_server)
    refused(flow.finish(authenticator.get(first, flow.options, app_server.base)), "not known here")
    r = api.delete(f"/api/auth/passkeys/{first.id}", params={"site": SITE}, headers=bearer(token))
    assert r.status_code == 404

    r = api.request("DELETE", "/api/auth/me", params={"site": SITE}, headers=bearer(token), json={"confirm": True})
    assert r.status_code == 200, r.text
    flow = SignIn(app_server)
    refused(flow.finish(authenticator.get(second, flow.options, app_server.base)), "not known here")


def test_a_passkey_is_added_only_just_after_signing_in(app_server, api, redis_client) -> None:
    """A session taken from a browser later (a token that leaked) cannot add a key of its holder's choosing."""
    token = login.login(api, app_server.base, "github")
    digest, _ = token.split(".", 1)
    key = keys.user_session(digest, token_hash(token))
    record = json.loads(redis_client.get(key))
    record["iat"] -= 11 * 60 * 1000  # signed in eleven minutes ago
    redis_client.set(key, json.dumps(record), keepttl=True)
    r = api.post("/api/auth/passkeys/ticket", params={"site": SITE}, headers=bearer(token))
    assert r.status_code == 403 and error_of(r)["code"] == "reauth_required"


def test_the_dashboard_takes_no_passkey(app_server, api) -> None:
    """A reader's way in must never open the dashboard."""
    _, h = login.secret_pair()
    r = httpx.get(f"{app_server.base}/auth/passkey/start", params={"for": "admin", "h": h}, headers=login.FROM_FRAME)
    assert r.status_code == 404 and "data-options" not in r.text
    assert "passkey" not in [p["id"] for p in api.get("/api/admin/providers").json()["providers"]]


def test_adding_comes_from_the_popup_and_one_ticket_adds_one(app_server, api) -> None:
    t = ticket(api, token := login.login(api, app_server.base, "github"))
    window = popup(app_server)
    options = window.post("/api/auth/passkeys/options", json={"ticket": t}).json()["options"]
    _, credential = authenticator.create(options, app_server.base)
    r = httpx.post(f"{app_server.base}/api/auth/passkeys", json={"ticket": t, "credential": credential},
                   headers={"Origin": "https://blog.example"})
    assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"
    assert window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential}).status_code == 201
    assert window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential}).status_code == 410
    listed = api.get("/api/auth/passkeys", params={"site": SITE}, headers=bearer(token)).json()["passkeys"]
    assert len(listed) == 1


@pytest.mark.parametrize("credential", ["[" * 5000 + "]" * 5000, "x" * 20_000, "123", "null", '{"id": 5}', [1, 2]])
def test_a_made_up_passkey_is_refused_in_words(app_server, api, credential) -> None:
    t = ticket(api, login.login(api, app_server.base, "github"))
    window = popup(app_server)
    window.post("/api/auth/passkeys/options", json={"ticket": t}).raise_for_status()
    r = window.post("/api/auth/passkeys", json={"ticket": t, "credential": credential})
    assert r.status_code == 422 and error_of(r)["code"] in ("passkey_invalid", "missing_field")


@pytest.mark.parametrize("body", [b"state=S&credential=%FF%FE", b"state=S&credential=" + b"%5B" * 5000,
                                  b"state=S&credential=" + b"a" * 17_000, b"state=S&credential=%7B%22id%22%3A5%7D",
                                  b"state=S&credential=%E2%82%AC", b"state=S"])
def test_a_made_up_assertion_is_refused_in_words(app_server, body) -> None:
    flow = SignIn(app_server)
    page = flow.window.post(f"{app_server.base}/auth/passkey/finish", content=body.replace(b"S", flow.state.encode(), 1),
                            headers={"Origin": app_server.base, "Sec-Fetch-Site": "same-origin",
                                     "Content-Type": "application/x-www-form-urlencoded"})
    assert page.status_code in (400, 413) and "Sign-in failed" in page.text and login.code_of(page) is None


def test_an_assertion_without_its_user_handle_is_refused(app_server, api) -> None:
    passkey = add_passkey(app_server, api, login.login(api, app_server.base, "github"))
    flow = SignIn(app_server)
    assertion = authenticator.get(passkey, flow.options, app_server.base)
    del assertion["response"]["userHandle"]
    refused(flow.finish(assertion), "another account")
