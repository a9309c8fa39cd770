"""Sign-in with Mastodon against a local server that speaks Mastodon's app registration, OAuth (with
PKCE) and verify_credentials strictly: the reader names their server, we register an app there once,
and the handover ends as every other sign-in does; and the attacks on it."""

from __future__ import annotations

import html
import re
from typing import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ..conftest import SITE, register_site
from ..support import login
from ..support.api import error_of, post
from ..support.servers import AppServer, MastodonServer

ORIGIN_HEADERS = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def masto(mastodon_server: MastodonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mastodon_server.base, timeout=10) as client:
        client.post("/_admin/reset").raise_for_status()
        yield client


@pytest.fixture(autouse=True)
def _close_popups() -> Iterator[None]:
    yield
    login.close_popups()


def start(app: AppServer, server: str, site: str = SITE, **extra: str) -> tuple[login.Flow, httpx.Response]:
    """The popup: its first page (which server?), then the form posted with `server`."""
    secret, h = login.secret_pair()
    popup = httpx.Client(timeout=10)
    login.OPEN.append(popup)
    params = {"site": site, "h": h, **extra}
    page = popup.get(f"{app.base}/auth/mastodon/start", params=params, headers=login.FROM_FRAME)
    assert page.status_code == 200 and 'name="server"' in page.text, page.text
    answer = popup.post(f"{app.base}/auth/mastodon/start", data={**params, "server": server, "for": ""},
                        headers={"Origin": app.base, **ORIGIN_HEADERS})
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', answer.text)
    return login.Flow(popup, secret, h, html.unescape(found.group(1)) if found else ""), answer


def approve(flow: login.Flow, who: str = "alice", decision: str = "allow") -> str:
    page = flow.popup.get(flow.authorize_url)
    assert page.status_code == 200, page.text
    form = login._Form()
    form.feed(page.text)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(flow.authorize_url))
    r = flow.popup.post(base + form.action, data={**form.fields, "who": who, "decision": decision})
    assert r.status_code == 302, r.text
    return r.headers["location"]


def sign_in(app: AppServer, api: httpx.Client, server: str, who: str = "alice") -> dict:
    flow, answer = start(app, server)
    assert answer.status_code == 200 and flow.authorize_url, answer.text
    page = login.callback(flow, approve(flow, who))
    assert page.status_code == 200, page.text
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": login.code_of(page)})
    assert r.status_code == 200, r.text
    return r.json()


def my_data(api: httpx.Client, token: str) -> dict:
    r = api.get("/api/auth/me/data", params={"site": SITE}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_reader_signs_in_with_their_server_and_comments(app_server, api, thread, masto, mastodon_server) -> None:
    providers = api.get("/api/auth/providers", params={"site": SITE}).json()["providers"]
    assert {"id": "mastodon", "name": "Mastodon"} in providers
    session = sign_in(app_server, api, mastodon_server.base)
    assert session["me"]["name"] == "Alice" and session["me"]["provider"] == "mastodon"
    assert session["me"]["avatar"].startswith("/api/avatars/u/")
    api.headers["Authorization"] = f"Bearer {session['token']}"
    made = post(api, thread["id"], "Hello from the fediverse")["comment"]
    assert made["author"]["name"] == "Alice" and made["author"]["provider"] == "mastodon"
    me = api.get("/api/auth/me", params={"site": SITE}).json()["me"]
    assert me["kind"] == "user" and me["name"] == "Alice"
    # The app was registered once, with our callback and no more than reading the account.
    apps = masto.get("/_admin/apps").json()
    assert len(apps) == 1 and apps[0]["redirect"] == f"{app_server.base}/auth/mastodon/callback"
    assert apps[0]["scopes"] == "read:accounts"


def test_the_app_is_registered_once_per_server(app_server, api, other_reader, masto, mastodon_server) -> None:
    sign_in(app_server, api, mastodon_server.base, "alice")
    sign_in(app_server, other_reader, mastodon_server.base.replace("http://", "HTTP://"), "bob")
    assert len(masto.get("/_admin/apps").json()) == 1


def test_the_same_name_on_two_servers_is_two_readers(app_server, api, other_reader, redis_client, masto,
                                                     mastodon_server) -> None:
    first = sign_in(app_server, api, mastodon_server.base, "alice")
    # The same server under another name (localhost): to us, another server, so another account.
    other = mastodon_server.base.replace("127.0.0.1", "localhost")
    second = sign_in(app_server, other_reader, other, "alice")
    ids = {my_data(api, s["token"])["account"]["identity"] for s in (first, second)}
    assert ids == {f"u:mastodon:alice@{urlsplit(mastodon_server.base).netloc}",
                   f"u:mastodon:alice@{urlsplit(other).netloc}"}


def test_a_hostile_server_cannot_claim_another_servers_account(app_server, api, masto, mastodon_server) -> None:
    masto.post("/_admin/impersonate", json={"who": "mallory", "url": "https://mastodon.social/@Gargron"})
    session = sign_in(app_server, api, mastodon_server.base, "mallory")
    data = my_data(api, session["token"])
    assert data["account"]["identity"] == f"u:mastodon:mallory@{urlsplit(mastodon_server.base).netloc}"
    assert session["me"]["profile"] is None  # its claim of another server's page is not shown


def test_a_denied_sign_in_says_so_and_hands_nothing_over(app_server, api, masto, mastodon_server) -> None:
    flow, _ = start(app_server, mastodon_server.base)
    page = login.callback(flow, approve(flow, decision="deny"))
    assert page.status_code == 400 and "Sign-in cancelled" in page.text
    r = api.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 404 and r.json()["error"]["code"] == "handover_pending"


@pytest.mark.parametrize("typed", ["not a server", "https://mastodon.social/@me", "javascript:alert(1)",
                                   "ftp://mastodon.social", "a" * 400])
def test_what_is_not_a_server_is_refused_in_words(app_server, typed) -> None:
    flow, answer = start(app_server, typed)
    assert answer.status_code == 422 and "not a server" in answer.text and 'role="alert"' in answer.text


def test_the_server_form_only_starts_from_our_own_pages(app_server, mastodon_server) -> None:
    secret, h = login.secret_pair()
    with httpx.Client(timeout=10) as stranger:
        # A link on another site: no same-origin navigation.
        page = stranger.get(f"{app_server.base}/auth/mastodon/start", params={"site": SITE, "h": h},
                            headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                     "Sec-Fetch-Dest": "document"})
        assert page.status_code == 403
        # A form on another site posting to ours.
        r = stranger.post(f"{app_server.base}/auth/mastodon/start",
                          data={"site": SITE, "h": h, "server": mastodon_server.base},
                          headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403 and "refresh" not in r.text


def test_the_handover_is_not_for_whoever_chose_h(app_server, api, other_reader, masto, mastodon_server) -> None:
    """An attacker who opened the popup with an h of theirs learns the secret but not the code: the victim's
    sign-in is not theirs to collect (without the reader's confirmation in the popup)."""
    flow, _ = start(app_server, mastodon_server.base)
    page = login.callback(flow, approve(flow, "victim"))
    assert page.status_code == 200
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 404 and r.json()["error"]["code"] == "handover_pending"
    r = other_reader.post("/api/auth/handover", json={"secret": flow.secret, "code": "guessed"})
    assert r.status_code == 403


def test_a_replayed_callback_gets_nothing(app_server, api, masto, mastodon_server) -> None:
    flow, _ = start(app_server, mastodon_server.base)
    url = approve(flow)
    assert login.callback(flow, url).status_code == 200
    again = login.callback(flow, url)
    assert again.status_code == 400 and "expired or was already used" in again.text


def test_a_session_from_mastodon_is_for_its_site_only(app_server, api, redis_client, masto, mastodon_server) -> None:
    register_site(redis_client, "elsewhere", ["https://elsewhere.example"])
    session = sign_in(app_server, api, mastodon_server.base)
    r = api.get("/api/auth/me", params={"site": "elsewhere"}, headers={"Authorization": f"Bearer {session['token']}"})
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"


def test_a_server_on_a_private_address_is_not_asked(redis_server, mastodon_server, masto) -> None:
    node = AppServer(redis_server.url, env={"REJOINDER_FETCH_PRIVATE_OK": "0"}).start()
    try:
        # http:// is for closed networks only: refused as no server's address...
        _, answer = start(node, mastodon_server.base)
        assert answer.status_code == 422
        # ...and a name that leads to a private address is refused by the address guard.
        _, answer = start(node, f"localhost:{urlsplit(mastodon_server.base).port}")
        assert answer.status_code == 502 and "did not answer" in answer.text
        assert masto.get("/_admin/apps").json() == []
    finally:
        node.stop()
