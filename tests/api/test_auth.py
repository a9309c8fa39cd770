"""Social login against the strict local provider: the flow, the handover, sessions, and the attacks that must fail."""

from __future__ import annotations

import httpx
import pytest

from ..conftest import SITE
from ..support.api import error_of, post
from ..support.login import FROM_FRAME, callback, close_popups, code_of, confirm, consent, login, query, start


@pytest.fixture(autouse=True)
def popups():
    yield
    close_popups()


def as_user(api: httpx.Client, token: str) -> httpx.Client:
    return httpx.Client(base_url=str(api.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.mark.parametrize("provider,name", [("x", "Xavier Example"), ("facebook", "Fiona Facebook"),
                                           ("github", "Gita Hub"), ("google", "Gus Google")])
def test_login_then_comment_shows_name_and_avatar(app_server, api, thread, provider, name) -> None:
    token = login(api, app_server.base, provider)
    with as_user(api, token) as user:
        me = user.get("/api/auth/me").json()["me"]
        assert (me["kind"], me["name"], me["provider"]) == ("user", name, provider)
        comment = post(user, thread["id"], "signed-in comment")["comment"]
        assert comment["author"]["name"] == name and comment["author"]["provider"] == provider
        # The avatar is our copy, served by us: never a hot link to the provider.
        assert comment["author"]["avatar"].startswith("/api/avatars/u/")
        picture = api.get(comment["author"]["avatar"])
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG")
        # No edit token for signed-in readers: their session proves authorship.
        assert "edit_token" not in post(user, thread["id"], "another")
        r = user.patch(f"/api/threads/{thread['id']}/comments/{comment['id']}", json={"text": "edited"})
        assert r.status_code == 200


def test_x_profile_link_and_enabled_providers(app_server, api, thread) -> None:
    token = login(api, app_server.base, "x")
    with as_user(api, token) as user:
        comment = post(user, thread["id"])["comment"]
    assert comment["author"]["profile"] == "https://x.com/xavier"
    providers = api.get(f"/api/sites/{SITE}").json()["site"]["providers"]
    # The four configured, then Mastodon, which needs no registration (no mail here, so no email link).
    assert [p["id"] for p in providers] == ["x", "facebook", "github", "google", "mastodon", "bluesky", "passkey"]


def test_provider_email_is_never_shown_to_others(app_server, api, other_reader, thread) -> None:
    token = login(api, app_server.base, "facebook")
    with as_user(api, token) as user:
        assert user.get("/api/auth/me").json()["me"]["email"] == "fiona@example.com"
        post(user, thread["id"], "hello from facebook")
    assert "fiona@example.com" not in other_reader.get(f"/api/threads/{thread['id']}").text


def test_same_numeric_id_on_two_providers_is_two_users(app_server, api, thread) -> None:
    tid = thread["id"]
    cid = post(api, tid, "like me twice")["comment"]["id"]
    x, gh = login(api, app_server.base, "x"), login(api, app_server.base, "github")
    with as_user(api, x) as ux, as_user(api, gh) as ugh:
        assert ux.put(f"/api/threads/{tid}/comments/{cid}/like").json()["likes"] == 1
        assert ugh.put(f"/api/threads/{tid}/comments/{cid}/like").json()["likes"] == 2
        mine = post(ux, tid, "mine")["comment"]
        r = ugh.patch(f"/api/threads/{tid}/comments/{mine['id']}", json={"text": "not yours"})
        assert r.status_code == 403 and error_of(r)["code"] == "not_your_comment"


def test_display_name_full_of_markup_stays_text(app_server, oauth_provider, api, thread) -> None:
    evil = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    httpx.put(f"{oauth_provider.base}/_control/user/github", json={"name": evil})
    try:
        flow = start(app_server.base, "github")
        page = callback(flow, consent(flow))
        assert "<script>alert(2)" not in page.text and "&lt;script&gt;" in page.text
        token = api.post("/api/auth/handover", json={"secret": flow.secret, "code": code_of(page)}).json()["token"]
        with as_user(api, token) as user:
            comment = post(user, thread["id"])["comment"]
        assert comment["author"]["name"] == evil  # plain text, for the widget's textContent
    finally:
        httpx.put(f"{oauth_provider.base}/_control/user/github", json={"name": "Gita Hub"})


def test_logout_revokes_the_session(app_server, api, thread) -> None:
    token = login(api, app_server.base, "x")
    with as_user(api, token) as user:
        assert user.post("/api/auth/logout").json() == {"me": {"kind": "guest"}, "ended": 1}
        r = user.get("/api/auth/me")
        assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"
        r = user.post(f"/api/threads/{thread['id']}/comments", json={"text": "after logout"})
        assert r.status_code == 401


def test_expired_session_is_refused(app_server, api, redis_client) -> None:
    token = login(api, app_server.base, "x")
    for key in redis_client.scan_iter("rj:{u:*}:s:*"):
        redis_client.pexpire(key, 1)
    import time
    time.sleep(0.05)
    with as_user(api, token) as user:
        assert user.get("/api/auth/me").status_code == 401


def test_missing_or_foreign_state_is_refused(app_server, api) -> None:
    flow = start(app_server.base, "x")
    url = consent(flow)
    params = query(url)
    base = url.split("?")[0]
    for bad in ({"code": params["code"]}, {"code": params["code"], "state": "forged-state"}):
        page = flow.popup.get(base, params=bad)
        assert page.status_code == 400 and code_of(page) is None
    # A different browser (no session cookie) cannot finish someone else's flow either.
    with httpx.Client() as stranger:
        page = stranger.get(url)
        assert page.status_code == 400 and code_of(page) is None
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404


def test_injected_code_fails_pkce(app_server, oauth_provider, api) -> None:
    """A code stolen from one flow and injected into another fails: the verifier is not the one it was issued for."""
    victim, attacker = start(app_server.base, "x"), start(app_server.base, "x")
    victim_code = query(consent(victim))["code"]
    attacker_url = consent(attacker)
    injected = attacker_url.split("?")[0] + f"?code={victim_code}&state={query(attacker_url)['state']}"
    page = callback(attacker, injected)
    assert page.status_code == 400 and code_of(page) is None
    refusals = httpx.get(f"{oauth_provider.base}/_control/refusals").json()
    assert {"error": "invalid_grant", "description": "PKCE verifier does not match"} in refusals


def test_replayed_callback_and_replayed_code_fail(app_server, api) -> None:
    flow = start(app_server.base, "x")
    url = consent(flow)
    assert callback(flow, url).status_code == 200
    again = callback(flow, url)
    assert again.status_code == 400 and code_of(again) is None
    fresh = start(app_server.base, "x")
    fresh_url = consent(fresh)
    replay = fresh_url.split("?")[0] + f"?code={query(url)['code']}&state={query(fresh_url)['state']}"
    page = callback(fresh, replay)
    assert page.status_code == 400 and code_of(page) is None


def test_denied_consent_shows_a_clear_message(app_server, api) -> None:
    flow = start(app_server.base, "facebook")
    page = callback(flow, consent(flow, decision="deny"))
    assert page.status_code == 400 and "Sign-in cancelled" in page.text and "still commenting as a guest" in page.text
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404


def test_provider_error_shows_a_clear_message(app_server) -> None:
    flow = start(app_server.base, "github")
    page = flow.popup.get(f"{app_server.base}/auth/github/callback",
                          params={"error": "server_error", "state": query(flow.authorize_url)["state"]})
    assert page.status_code == 400 and "GitHub reported a problem" in page.text
    assert "content-security-policy" in page.headers


def test_host_header_cannot_move_the_redirect_uri(app_server) -> None:
    from ..support.login import secret_pair
    _, h = secret_pair()
    r = httpx.get(f"{app_server.base}/auth/x/start", params={"site": SITE, "h": h},
                  headers={"Host": "evil.example", **FROM_FRAME})
    assert r.status_code == 302
    assert query(r.headers["location"])["redirect_uri"] == f"{app_server.base}/auth/x/callback"


def test_no_open_redirect_through_return_parameters(app_server) -> None:
    flow = start(app_server.base, "x", next="https://evil.example/", return_to="https://evil.example/",
                 redirect_uri="https://evil.example/")
    assert flow.authorize_url.startswith(f"http://127.0.0.1:")
    assert "evil.example" not in flow.authorize_url
    page = callback(flow, consent(flow))
    assert page.status_code == 200 and "location" not in page.headers


def test_handover_is_single_use_and_needs_the_secret(app_server, api) -> None:
    flow = start(app_server.base, "x")
    page = callback(flow, consent(flow))
    code = code_of(page)
    r = api.post("/api/auth/handover", json={"secret": "x" * 43, "code": code})
    assert r.status_code == 404  # without the secret there is nothing to find
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": "wrong-code"})
    assert r.status_code == 403 and error_of(r)["code"] == "handover_mismatch"
    assert api.post("/api/auth/handover", json={"secret": flow.secret, "code": code}).status_code == 200
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": code})
    assert r.status_code == 404 and error_of(r)["code"] == "handover_pending"


def test_handover_works_without_the_opener(app_server, api) -> None:
    """If the provider cut window.opener, the iframe asks by its secret: pending until the
    reader confirms in the popup, then ready."""
    flow = start(app_server.base, "google")
    r = api.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 404 and error_of(r)["code"] == "handover_pending"
    page = callback(flow, consent(flow))
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404
    assert confirm(flow, page, app_server.base).status_code == 200
    r = api.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 200 and r.json()["me"]["name"] == "Gus Google"


def test_late_handover_is_refused(app_server, api, redis_client) -> None:
    flow = start(app_server.base, "x")
    callback(flow, consent(flow))
    for key in redis_client.scan_iter("rj:{ho:*"):
        redis_client.pexpire(key, 1)
    import time
    time.sleep(0.05)
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404


def test_disabled_or_unknown_provider_is_refused(app_server, redis_server) -> None:
    from ..support.login import secret_pair
    from ..support.servers import AppServer
    _, h = secret_pair()
    r = httpx.get(f"{app_server.base}/auth/myspace/start", params={"site": SITE, "h": h})
    assert r.status_code == 404
    # No provider configured, and those that need none (Mastodon, Bluesky, passkeys) turned off.
    bare = AppServer(redis_server.url, env={"REJOINDER_MASTODON_LOGIN": "false", "REJOINDER_BLUESKY_LOGIN": "false",
                                            "REJOINDER_PASSKEYS": "false"}).start()
    try:
        for provider in ("x", "mastodon", "bluesky", "passkey"):
            r = httpx.get(f"{bare.base}/auth/{provider}/start", params={"site": SITE, "h": h}, headers=FROM_FRAME)
            assert r.status_code == 404 and "not enabled" in r.text
        assert httpx.get(f"{bare.base}/api/sites/{SITE}").json()["site"]["providers"] == []
    finally:
        bare.stop()


def test_bad_login_start_parameters(app_server) -> None:
    r = httpx.get(f"{app_server.base}/auth/x/start", params={"site": SITE, "h": "short"}, headers=FROM_FRAME)
    assert r.status_code == 400
    from ..support.login import secret_pair
    r = httpx.get(f"{app_server.base}/auth/x/start", params={"site": "nosuch", "h": secret_pair()[1]},
                  headers=FROM_FRAME)
    assert r.status_code == 404


def test_session_works_only_from_the_comments_frame(app_server, api, thread) -> None:
    """The token may sit in the blog page's storage (browsers that deny the iframe its own):
    the blog's scripts still cannot act as the reader through the API from the blog's origin."""
    token = login(api, app_server.base, "x")
    with as_user(api, token) as user:
        assert user.get("/api/auth/me", headers={"Origin": app_server.base}).status_code == 200
        r = user.post(f"/api/threads/{thread['id']}/comments", json={"text": "from the blog page"},
                      headers={"Origin": app_server.page_origin})
        assert r.status_code == 403 and error_of(r)["code"] == "origin_not_allowed"


@pytest.mark.parametrize("provider", ["x", "facebook", "github", "google"])
def test_every_provider_runs_pkce(app_server, oauth_provider, api, provider) -> None:
    """A code stolen on its way back is useless without the verifier this server keeps: every
    provider is sent a S256 challenge (the local provider refuses an authorization without one)."""
    flow = start(app_server.base, provider)
    q = query(flow.authorize_url)
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    page = callback(flow, consent(flow))
    assert page.status_code == 200 and code_of(page)
    refusals = httpx.get(f"{oauth_provider.base}/_control/refusals").json()
    assert {"error": "pkce_required", "description": provider} not in refusals
