"""Sign-in with Bluesky over HTTP, against a local PLC directory, PDS and authorization server that speak
the AT Protocol's OAuth profile strictly (tests/support/atproto_pds.py: PAR, PKCE, DPoP with server
nonces, our client document fetched from its URL); and the attacks on it."""

from __future__ import annotations

import html
import re
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ..conftest import SITE, register_site
from ..support import login
from ..support.api import error_of
from ..support.servers import AtprotoPds
from ..support.servers import AppServer

ORIGIN_HEADERS = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def pds(atproto_pds: AtprotoPds) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=atproto_pds.base, timeout=10) as client:
        client.post("/_admin/reset").raise_for_status()
        yield client
        client.post("/_admin/reset").raise_for_status()


@pytest.fixture(autouse=True)
def _close_popups() -> Iterator[None]:
    yield
    login.close_popups()


def start(app: AppServer, handle: str, site: str = SITE) -> tuple[login.Flow, httpx.Response]:
    """The popup: its first page (which account?), then the form posted with `handle`."""
    secret, h = login.secret_pair()
    popup = httpx.Client(timeout=10)
    login.OPEN.append(popup)
    params = {"site": site, "h": h}
    page = popup.get(f"{app.base}/auth/bluesky/start", params=params, headers=login.FROM_FRAME)
    assert page.status_code == 200 and 'name="handle"' in page.text, page.text
    answer = popup.post(f"{app.base}/auth/bluesky/start", data={**params, "handle": handle, "for": ""},
                        headers={"Origin": app.base, **ORIGIN_HEADERS})
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', answer.text)
    return login.Flow(popup, secret, h, html.unescape(found.group(1)) if found else ""), answer


def approve(flow: login.Flow, decision: str = "accept") -> str:
    """At the reader's authorization server: its consent page, answered."""
    page = flow.popup.get(flow.authorize_url)
    assert page.status_code == 200, page.text
    form = login._Form()
    form.feed(page.text)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(flow.authorize_url))
    r = flow.popup.post(base + form.action, data={**form.fields, "decision": decision})
    assert r.status_code == 302, r.text
    return r.headers["location"]


def sign_in(app: AppServer, api: httpx.Client, handle: str = "ann.test") -> dict:
    flow, answer = start(app, handle)
    assert answer.status_code == 200 and flow.authorize_url, answer.text
    page = login.callback(flow, approve(flow))
    assert page.status_code == 200, page.text
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": login.code_of(page)})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_reader_signs_in_with_their_handle_and_comments(app_server, api, thread, pds) -> None:
    session = sign_in(app_server, api, "@Ann.test")
    assert session["me"]["name"] == "Ann Atwood" and session["me"]["provider"] == "bluesky"
    assert session["me"]["email"] is None
    assert (session["me"]["profile"] or "").endswith("/profile/ann.test")
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "Hello from Bluesky."},
                 headers={"Authorization": f"Bearer {session['token']}"})
    assert r.status_code == 201, r.text
    assert r.json()["comment"]["author"]["name"] == "Ann Atwood"
    # Keyed by the account's DID: the same DID is the same reader whatever handle it goes by.
    data = api.get("/api/auth/me/data", params={"site": SITE},
                   headers={"Authorization": f"Bearer {session['token']}"}).json()
    dids = pds.get("/_admin/accounts").json()
    did = next(a["did"] for a in (dids if isinstance(dids, list) else dids["accounts"]) if a["handle"] == "ann.test")
    assert did in data["account"]["identity"]


def test_the_protocol_is_spoken_as_the_profile_asks(app_server, api, pds, atproto_pds) -> None:
    """PAR first (the authorize page gets only the request_uri), PKCE S256, no client secret, DPoP proofs that
    retry with the server's nonce, and the same DPoP key at the token endpoint."""
    sign_in(app_server, api)
    asked = pds.get("/_admin/requests").json()
    asked = asked if isinstance(asked, list) else asked["requests"]
    pars = [r for r in asked if r["path"] == "/oauth/par"]
    tokens = [r for r in asked if r["path"] == "/oauth/token"]
    assert len(pars) == 2 and "nonce" not in pars[0]["dpop"]["claims"] and pars[1]["dpop"]["claims"]["nonce"]
    form = pars[1]["form"]
    assert form["code_challenge_method"] == "S256" and form["scope"] == "atproto" and "client_secret" not in form
    assert form["client_id"] == f"{app_server.base}/auth/bluesky/client-metadata.json"
    assert form["login_hint"] == "ann.test"
    # The nonce learnt at the PAR is used at once at the token endpoint: one request there.
    assert len(tokens) == 1 and tokens[0]["dpop"]["claims"]["nonce"] == pars[1]["dpop"]["claims"]["nonce"]
    assert tokens[0]["dpop"]["header"]["jwk"] == pars[1]["dpop"]["header"]["jwk"]
    assert "d" not in tokens[0]["dpop"]["header"]["jwk"]
    authorize = [r for r in asked if r["path"] == "/oauth/authorize" and r["method"] == "GET"]
    assert set(parse_qs(authorize[0]["query"])) == {"client_id", "request_uri"}


def test_our_client_document_says_who_we_are(app_server) -> None:
    r = httpx.get(f"{app_server.base}/auth/bluesky/client-metadata.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["client_id"] == str(r.url) and doc["redirect_uris"] == [f"{app_server.base}/auth/bluesky/callback"]
    assert doc["dpop_bound_access_tokens"] is True and doc["token_endpoint_auth_method"] == "none"
    assert doc["scope"] == "atproto" and doc["grant_types"] == ["authorization_code"]


def test_a_server_cannot_sign_in_an_account_it_was_not_asked_for(app_server, api, other_reader, pds) -> None:
    """The authorization server names another account than the one typed (and looked up): refused."""
    pds.post("/_admin/mode", json={"mode": "wrong_sub"}).raise_for_status()
    flow, _ = start(app_server, "ann.test")
    page = login.callback(flow, approve(flow))
    assert page.status_code == 400 and login.code_of(page) is None
    assert "did not confirm" in page.text and "Please try again." in page.text  # in words, and what to do
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 404


def test_an_answer_from_another_server_is_refused(app_server, pds) -> None:
    """Mix-up: the callback's iss must be the server we sent the reader to."""
    flow, _ = start(app_server, "ann.test")
    url = approve(flow).replace("iss=", "iss=https%3A%2F%2Fevil.example&was=")
    page = login.callback(flow, url)
    assert page.status_code == 400 and login.code_of(page) is None and "another server" in page.text


def test_a_denied_sign_in_says_so_and_hands_nothing_over(app_server, api, pds) -> None:
    flow, _ = start(app_server, "ann.test")
    page = login.callback(flow, approve(flow, "deny"))
    assert page.status_code == 400 and "You did not allow the sign-in" in page.text
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404


@pytest.mark.parametrize("typed, words", [("not a handle", "That is not a handle"),
                                          ("nobody.test", "No Bluesky account has this handle")])
def test_what_is_not_an_account_is_refused_in_words(app_server, pds, typed, words) -> None:
    flow, answer = start(app_server, typed)
    assert answer.status_code in (422, 502) and words in html.unescape(answer.text) and not flow.authorize_url
    assert 'aria-invalid="true"' in answer.text


@pytest.mark.parametrize("mode", ["fail", "garbage", "wrong_shape"])
def test_a_broken_server_is_said_so_and_nothing_starts(app_server, pds, mode) -> None:
    pds.post("/_admin/mode", json={"mode": mode}).raise_for_status()
    flow, answer = start(app_server, "ann.test")
    assert answer.status_code == 502 and not flow.authorize_url
    assert 'role="alert"' in answer.text


def test_the_handle_form_only_starts_from_our_own_pages(app_server, pds) -> None:
    _, h = login.secret_pair()
    r = httpx.get(f"{app_server.base}/auth/bluesky/start", params={"site": SITE, "h": h},
                  headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
    assert r.status_code == 403 and 'name="handle"' not in r.text
    r = httpx.post(f"{app_server.base}/auth/bluesky/start", data={"site": SITE, "h": h, "handle": "ann.test"},
                   headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "refresh" not in r.text
    assert not [q for q in pds.get("/_admin/requests").json() if q["path"] == "/oauth/par"]


def test_the_handover_is_not_for_whoever_chose_h(app_server, api, other_reader, pds) -> None:
    flow, _ = start(app_server, "ann.test")
    page = login.callback(flow, approve(flow))
    assert page.status_code == 200
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 404 and error_of(r)["code"] == "handover_pending"
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret, "code": "guessed"})
    assert r.status_code == 403


def test_a_replayed_callback_gets_nothing(app_server, pds) -> None:
    flow, _ = start(app_server, "ann.test")
    url = approve(flow)
    assert login.callback(flow, url).status_code == 200
    again = login.callback(flow, url)
    assert again.status_code == 400 and "expired or was already used" in again.text


def test_a_session_from_bluesky_is_for_its_site_only(app_server, api, redis_client, pds) -> None:
    register_site(redis_client, "elsewhere", ["https://elsewhere.example"])
    session = sign_in(app_server, api)
    r = api.get("/api/auth/me", params={"site": "elsewhere"}, headers={"Authorization": f"Bearer {session['token']}"})
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"
