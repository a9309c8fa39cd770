"""Admin sign-in: the CLI's admins and one-time links (single use, expiring), and the mail's /admin/act links."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from rejoinder import links
from rejoinder.settings import Settings
from rejoinder.store import keys

from ..conftest import SITE
from ..support.api import error_of, post
from ..support.servers import ROOT
from .conftest import ClientFactory, policy


def cli(app_server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rejoinder", *args], env=app_server.env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_adds_lists_and_removes_admins(app_server, redis_client, clients: ClientFactory) -> None:
    from .conftest import make_session

    token = make_session(redis_client, "github:77", "Gail")
    gail = clients(token)
    assert gail.get(f"/api/admin/sites/{SITE}").status_code == 403
    added = cli(app_server, "admin", "add", SITE, "github:77")
    assert added.returncode == 0, added.stderr
    assert cli(app_server, "admin", "list", SITE).stdout.split() == ["u:github:77"]
    assert gail.get(f"/api/admin/sites/{SITE}").status_code == 200
    assert gail.get("/api/admin/me").json()["sites"] == [{"id": SITE, "name": "Demo"}]
    assert cli(app_server, "admin", "remove", SITE, "u:github:77").returncode == 0
    assert gail.get(f"/api/admin/sites/{SITE}").status_code == 403
    assert cli(app_server, "admin", "remove", SITE, "u:github:77").returncode == 1
    assert cli(app_server, "admin", "add", "no-such-site", "github:77").returncode == 1
    assert cli(app_server, "admin", "add", SITE, "not an identity").returncode == 2


def issue_link(app_server) -> str:
    out = cli(app_server, "admin", "token", SITE)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert url.startswith(f"{app_server.base}/admin/#token=")  # in the fragment: never sent to a server
    return url.split("#token=", 1)[1]


def test_one_time_link_signs_in_once(app_server, redis_client, clients: ClientFactory, other_site) -> None:
    token = issue_link(app_server)
    browser = clients()
    r = browser.post("/api/admin/session", json={"token": token})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sites"] == [{"id": SITE, "name": "Demo"}]
    dashboard = clients(body["token"])
    assert dashboard.get(f"/api/admin/sites/{SITE}").status_code == 200
    # It administers that site only.
    assert dashboard.get(f"/api/admin/sites/{other_site}").status_code == 403
    again = browser.post("/api/admin/session", json={"token": token})
    assert again.status_code == 401 and error_of(again)["code"] == "link_invalid"
    # Stored only as a hash, gone once used.
    assert redis_client.exists(keys.admin_link(hashlib.sha256(token.encode()).hexdigest())) == 0
    # Logout ends the session.
    assert dashboard.post("/api/auth/logout").status_code == 200
    assert dashboard.get(f"/api/admin/sites/{SITE}").status_code == 401


def test_one_time_link_expires(app_server, redis_client, clients: ClientFactory) -> None:
    token = issue_link(app_server)
    key = keys.admin_link(hashlib.sha256(token.encode()).hexdigest())
    assert 3500 < redis_client.ttl(key) <= 3600  # REJOINDER_ADMIN_LINK_MINUTES, 60 by default
    redis_client.pexpire(key, 1)  # an hour later
    time.sleep(0.05)
    r = clients().post("/api/admin/session", json={"token": token})
    assert r.status_code == 401 and error_of(r)["code"] == "link_invalid"


def test_bad_link_exchanges_are_refused(clients: ClientFactory) -> None:
    browser = clients()
    assert error_of(browser.post("/api/admin/session", json={"token": "guess"}))["code"] == "link_invalid"
    assert error_of(browser.post("/api/admin/session", json={}))["field"] == "token"
    assert browser.post("/api/admin/session", content=b"token=x").status_code == 415
    r = browser.post("/api/admin/session", json={"token": "x"}, headers={"Origin": "http://127.0.0.1:9"})
    assert r.status_code == 403


# --- the held-comment mail's links ---------------------------------------------------


def settings() -> Settings:
    return Settings(secret_key="test-secret-key", public_url="http://localhost")


def old_token(payload: dict, hours: int) -> str:
    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - hours * 3600

    return URLSafeTimedSerializer("test-secret-key", salt="rejoinder.moderate", signer=Past).dumps(payload)


@pytest.fixture
def held(redis_client, app_server, api, thread) -> dict:
    policy(redis_client, app_server, "hold_all")
    return post(api, thread["id"], "Held <b>for</b> *you*", name="<script>x</script>")["comment"]


def link_token(thread: dict, held: dict, action: str) -> str:
    url = links.moderation_url(settings(), SITE, thread["id"], held["id"], action)
    return url.split("token=", 1)[1]


def test_approve_link_confirms_on_get_and_acts_on_post(clients: ClientFactory, other_reader, thread, held) -> None:
    browser = clients()
    token = link_token(thread, held, "approve")
    page = browser.get("/admin/act", params={"token": token})
    assert page.status_code == 200 and "Approve this comment?" in page.text
    assert "<script>x</script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Looking (or a mail scanner following the link) changes nothing.
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["comments"] == []
    done = browser.post("/admin/act", data={"token": token})
    assert done.status_code == 200 and "Comment approved" in done.text
    assert [c["id"] for c in other_reader.get(f"/api/threads/{thread['id']}").json()["comments"]] == [held["id"]]
    # Used again: it says it is done, and changes nothing more.
    assert "Comment approved" in browser.post("/admin/act", data={"token": token}).text


def test_delete_link_then_the_approve_link_of_a_gone_comment(clients: ClientFactory, thread, held) -> None:
    browser = clients(Accept="application/json")
    r = browser.post("/admin/act", data={"token": link_token(thread, held, "delete")})
    assert r.status_code == 200 and r.json() == {"action": "delete", "status": "deleted", "done": True}
    r = browser.post("/admin/act", data={"token": link_token(thread, held, "approve")})
    assert r.status_code == 409 and error_of(r)["code"] == "comment_deleted"
    gone = links.moderation_url(settings(), SITE, thread["id"], 999, "approve").split("token=")[1]
    r = browser.get("/admin/act", params={"token": gone})
    assert r.status_code == 404 and error_of(r)["code"] == "comment_not_found"


def test_forged_expired_and_foreign_links_are_refused(clients: ClientFactory, other_reader, thread, held) -> None:
    browser = clients()
    payload = {"s": SITE, "t": thread["id"], "c": held["id"], "a": "approve"}
    forged = URLSafeTimedSerializer("another-key", salt="rejoinder.moderate").dumps(payload)
    expired = old_token(payload, 73)  # REJOINDER_MODERATION_LINK_HOURS is 72
    other_purpose = links.sign(settings(), "unsubscribe", payload)
    for token in (forged, expired, other_purpose, "", "x" * 5000):
        for method in ("GET", "POST"):
            r = browser.request(method, "/admin/act", params={"token": token} if method == "GET" else None,
                                data={"token": token} if method == "POST" else None)
            assert r.status_code == 401 and "This link did not work" in r.text, (token[:20], method)
    r = browser.get("/admin/act", params={"token": expired}, headers={"Accept": "application/json"})
    assert error_of(r)["code"] == "link_invalid"
    assert old_token(payload, 71) and browser.get("/admin/act", params={"token": old_token(payload, 71)}).status_code == 200
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["comments"] == []


def test_listed_admins_sign_in_with_social_login(app_server, redis_client, clients: ClientFactory) -> None:
    from ..support.login import callback, close_popups, code_of, consent, start

    try:
        flow = start(app_server.base, "github", site="", **{"for": "admin"})
        page = callback(flow, consent(flow))
        assert page.status_code == 200, page.text
        r = clients().post("/api/auth/handover", json={"secret": flow.secret, "code": code_of(page)})
    finally:
        close_popups()
    dashboard = clients(r.json()["token"])
    me = dashboard.get("/api/admin/me").json()
    assert me["sites"] == []  # signed in, but administers nothing yet
    assert dashboard.get(f"/api/admin/sites/{SITE}").status_code == 403
    assert cli(app_server, "admin", "add", SITE, me["me"]["identity"]).returncode == 0
    assert dashboard.get("/api/admin/me").json()["sites"] == [{"id": SITE, "name": "Demo"}]
    assert dashboard.get(f"/api/admin/sites/{SITE}").status_code == 200
    # A reader's login still needs a registered site.
    from ..support.login import FROM_FRAME, secret_pair
    _, h = secret_pair()
    assert httpx.get(f"{app_server.base}/auth/github/start", params={"h": h}, headers=FROM_FRAME).status_code == 404


def test_dashboard_page_is_served_with_a_strict_csp(clients: ClientFactory) -> None:
    browser = clients()
    r = browser.get("/admin", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/admin/"
    page = browser.get("/admin/")
    csp = page.headers["content-security-policy"]
    assert page.status_code == 200 and "<script src=\"/admin/admin.js\"" in page.text
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert browser.get("/admin/admin.js").status_code == 200
    assert error_of(browser.get("/api/admin/sites/demo/comments", params={"cursor": "9" * 40 + "~x:1"}))["code"] \
        == "auth_required"
