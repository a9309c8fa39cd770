"""Attacks on sign-in and sessions, each performed against the real server and the strict local provider.

Login CSRF: an attacker picks a secret S, sends the victim's browser to the start
of a sign-in with h = H(S), and hopes to redeem the victim's session with S.
Session binding: a token taken from one blog, or from the comments frame, must
open nothing on another blog or on the dashboard.
"""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import error_of, post
from ..support.login import FROM_FRAME, callback, close_popups, code_of, confirm, consent, secret_pair, start

OTHER = "other-blog"


@pytest.fixture(autouse=True)
def popups():
    yield
    close_popups()


def victim_navigates(app_base: str, provider: str, h: str, headers: dict[str, str], **params: str) -> httpx.Response:
    with httpx.Client(timeout=10) as browser:
        return browser.get(f"{app_base}/auth/{provider}/start", params={"h": h, **params}, headers=headers)


CROSS_SITE = {
    # A link on the attacker's page, or window.open from it: Fetch Metadata says cross-site.
    "link or window.open from another site": {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                              "Sec-Fetch-Dest": "document"},
    # A subdomain or another port of the same site is still not our origin.
    "same-site page": {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
    # A URL typed, pasted or opened from a mail or a bookmark.
    "typed or pasted URL": {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
    # Our origin, but loaded into a frame or as a subresource, not a top-level window.
    "framed on our origin": {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate",
                             "Sec-Fetch-Dest": "iframe"},
    # An old browser without Fetch Metadata: the attacker's page as the Referer, or none at all.
    "old browser, foreign Referer": {"Referer": "https://attacker.example/page"},
    "old browser, Referer that only starts like ours": {"Referer": "{base}.attacker.example/"},
    "old browser, no Referer": {},
}


@pytest.mark.parametrize("audience", ["reader", "admin"])
@pytest.mark.parametrize("how", list(CROSS_SITE), ids=list(CROSS_SITE))
def test_login_csrf_a_sign_in_started_from_another_page_is_refused(app_server, api, how, audience) -> None:
    secret, h = secret_pair()
    headers = {k: v.format(base=app_server.base) for k, v in CROSS_SITE[how].items()}
    params = {"site": SITE} if audience == "reader" else {"for": "admin"}
    r = victim_navigates(app_server.base, "github", h, headers, **params)
    assert r.status_code == 403 and "location" not in r.headers
    assert "did not start from the comments" in r.text
    r = api.post("/api/auth/handover", json={"secret": secret})
    assert r.status_code == 404 and error_of(r)["code"] == "handover_pending"


def test_a_sign_in_from_our_own_frame_or_an_old_browser_on_our_origin_starts(app_server) -> None:
    _, h = secret_pair()
    for headers in (FROM_FRAME, {"Referer": f"{app_server.base}/frame?site={SITE}"}):
        r = victim_navigates(app_server.base, "github", h, headers, site=SITE)
        assert r.status_code == 302, (headers, r.text)


@pytest.mark.parametrize("audience", ["reader", "admin"])
def test_login_csrf_the_secret_alone_never_takes_a_finished_sign_in(app_server, api, audience) -> None:
    """Even a sign-in that did finish with the attacker's h hands nothing to whoever merely
    knows S: the code the popup gives its own opener, or the reader's confirmation, is needed."""
    flow = start(app_server.base, "github", site=SITE if audience == "reader" else "",
                 **({} if audience == "reader" else {"for": "admin"}))
    page = callback(flow, consent(flow))
    assert page.status_code == 200 and code_of(page)
    for _ in range(3):
        r = api.post("/api/auth/handover", json={"secret": flow.secret})
        assert r.status_code == 404 and error_of(r)["code"] == "handover_pending"
    # A guessed code does not help either.
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": "guessed-code-123"})
    assert r.status_code == 403 and error_of(r)["code"] == "handover_mismatch"
    # The one who started it holds the code: it redeems once.
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": code_of(page)})
    assert r.status_code == 200 and r.json()["me"]["name"] == "Gita Hub"


def test_a_popup_that_lost_its_opener_asks_the_reader_naming_the_site(app_server, api) -> None:
    flow = start(app_server.base, "google")
    page = callback(flow, consent(flow))
    assert 'id="login-confirm"' in page.text and "Continue to the comments on Demo?" in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404
    # A confirmation posted from another page (it cannot know the code anyway) is refused.
    forged = flow.popup.post(f"{app_server.base}/auth/confirm", data={"h": flow.h, "code": code_of(page)},
                             headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403
    wrong = flow.popup.post(f"{app_server.base}/auth/confirm", data={"h": flow.h, "code": "not-the-code"},
                            headers={"Origin": app_server.base, "Sec-Fetch-Site": "same-origin"})
    assert wrong.status_code == 400
    assert api.post("/api/auth/handover", json={"secret": flow.secret}).status_code == 404
    done = confirm(flow, page, app_server.base)
    assert done.status_code == 200 and "signed in there" in done.text
    r = api.post("/api/auth/handover", json={"secret": flow.secret})
    assert r.status_code == 200 and r.json()["me"]["name"] == "Gus Google"


def redeem(api: httpx.Client, app_base: str, provider: str, site: str = SITE, keep: str = "frame",
           admin: bool = False) -> str:
    flow = start(app_base, provider, site="" if admin else site, **({"for": "admin"} if admin else {}))
    page = callback(flow, consent(flow))
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": code_of(page), "keep": keep})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def bearer(app_base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=app_base, timeout=10, headers={"Authorization": f"Bearer {token}"})


def test_a_session_from_blog_a_opens_nothing_on_blog_b(app_server, api, redis_client) -> None:
    register_site(redis_client, OTHER, ["http://127.0.0.1:7"])
    token = redeem(api, app_server.base, "facebook", site=SITE)
    b_thread = api.get("/api/threads", params={"site": OTHER, "page": "https://b.example/post"}).json()["thread"]
    a_thread = api.get("/api/threads", params={"site": SITE, "page": "https://a.example/post"}).json()["thread"]
    with bearer(app_server.base, token) as user:
        assert post(user, a_thread["id"], "on my own blog")["comment"]["author"]["name"] == "Fiona Facebook"
        for r in (user.get(f"/api/threads/{b_thread['id']}"),
                  user.post(f"/api/threads/{b_thread['id']}/comments", json={"text": "on blog B"}),
                  user.put(f"/api/threads/{b_thread['id']}/like"),
                  user.get("/api/threads", params={"site": OTHER, "page": "https://b.example/post"}),
                  user.get("/api/auth/me", params={"site": OTHER})):
            assert r.status_code == 401 and error_of(r)["code"] == "invalid_session", r.text
        assert user.get("/api/auth/me", params={"site": SITE}).json()["site"] == SITE
    assert api.get(f"/api/threads/{b_thread['id']}").json()["thread"]["count"] == 0


async def hello(app_server, thread: dict, token: str) -> int | None:
    """Open a thread's live socket with this session; the close code if the server refuses it."""
    url = f"{app_server.ws_base}/api/threads/{thread['id']}/live?since=0&epoch={thread['epoch']}"
    async with websockets.connect(url, origin=app_server.base, open_timeout=5) as ws:
        await ws.send(orjson.dumps({"type": "hello", "client": None, "token": token}).decode())
        try:
            while True:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if message["type"] == "ready":
                    return None
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


async def test_a_session_from_blog_a_is_refused_by_blog_bs_live_socket(app_server, api, redis_client) -> None:
    register_site(redis_client, OTHER, ["http://127.0.0.1:7"])
    token = redeem(api, app_server.base, "x", site=SITE)
    a_thread = api.get("/api/threads", params={"site": SITE, "page": "https://a.example/live"}).json()["thread"]
    b_thread = api.get("/api/threads", params={"site": OTHER, "page": "https://b.example/live"}).json()["thread"]
    assert await hello(app_server, a_thread, token) is None
    assert await hello(app_server, b_thread, token) == 4401


def test_a_session_from_blog_a_or_the_dashboard_opens_no_event_stream_on_blog_b(app_server, api, redis_client) -> None:
    """The Server-Sent Events fallback checks sessions as the socket's hello does, even when the
    request looks like the comments frame's own (Sec-Fetch-Site: same-origin)."""
    register_site(redis_client, OTHER, ["http://127.0.0.1:7"])
    reader = redeem(api, app_server.base, "x", site=SITE)
    dashboard = redeem(api, app_server.base, "github", admin=True)
    a_thread = api.get("/api/threads", params={"site": SITE, "page": "https://a.example/sse"}).json()["thread"]
    b_thread = api.get("/api/threads", params={"site": OTHER, "page": "https://b.example/sse"}).json()["thread"]
    frame = {"Sec-Fetch-Site": "same-origin"}
    with httpx.Client(base_url=app_server.base, timeout=10) as c:
        for token, tid in ((reader, b_thread["id"]), (dashboard, a_thread["id"])):
            r = c.get(f"/api/threads/{tid}/stream", headers={**frame, "Authorization": f"Bearer {token}"})
            assert r.status_code == 401 and error_of(r)["code"] == "invalid_session", r.text
        # Blog A's own frame may: its stream opens and says ready.
        with c.stream("GET", f"/api/threads/{a_thread['id']}/stream",
                      headers={**frame, "Authorization": f"Bearer {reader}"}) as r:
            assert r.status_code == 200
            assert any(line.startswith("data: ") and '"ready"' in line for line in r.iter_lines())


def test_a_reader_session_of_an_admin_never_opens_the_admin_api(app_server, api, redis_client) -> None:
    """Gita (github:1001) administers the demo site. Her session from the comments frame, which a
    blog page may hold, opens nothing of the dashboard; her dashboard session does."""
    redis_client.sadd(keys.admins(SITE), "u:github:1001")
    reader_token = redeem(api, app_server.base, "github", site=SITE)
    with bearer(app_server.base, reader_token) as reader:
        for r in (reader.get("/api/admin/me"), reader.get(f"/api/admin/sites/{SITE}"),
                  reader.get(f"/api/admin/sites/{SITE}/comments")):
            assert r.status_code == 401 and error_of(r)["code"] == "invalid_session", r.text
    admin_token = redeem(api, app_server.base, "github", admin=True)
    with bearer(app_server.base, admin_token) as admin:
        assert admin.get(f"/api/admin/sites/{SITE}").status_code == 200
        # ...and the dashboard's session is not a reader's: it cannot comment as her.
        thread = api.get("/api/threads", params={"site": SITE, "page": "https://a.example/x"}).json()["thread"]
        r = admin.post(f"/api/threads/{thread['id']}/comments", json={"text": "as the dashboard"})
        assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"


def test_a_session_the_blog_page_holds_is_short_lived_and_shows_no_email(app_server, api, redis_client) -> None:
    token = redeem(api, app_server.base, "facebook", keep="page")
    digest = token.split(".")[0]
    ttls = [redis_client.ttl(k) for k in redis_client.scan_iter(f"rj:{{u:{digest}}}:s:*")]
    assert len(ttls) == 1 and 0 < ttls[0] <= 24 * 3600
    thread = api.get("/api/threads", params={"site": SITE, "page": "https://a.example/p"}).json()["thread"]
    with bearer(app_server.base, token) as page_script:
        me = page_script.get("/api/auth/me").json()["me"]
        assert me["email"] is None and me["has_email"] is True and me["kept"] == "page"
        assert "fiona@example.com" not in page_script.get(f"/api/threads/{thread['id']}").text
        mine = post(page_script, thread["id"], "from a page-held session")
        assert "fiona@example.com" not in str(mine)
        r = page_script.post("/api/auth/logout", json={"everywhere": True})
        assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    frame_token = redeem(api, app_server.base, "facebook", keep="frame")
    with bearer(app_server.base, frame_token) as frame:
        assert frame.get("/api/auth/me").json()["me"]["email"] == "fiona@example.com"


def test_sign_out_everywhere_ends_every_session_of_the_account(app_server, api, redis_client) -> None:
    register_site(redis_client, OTHER, ["http://127.0.0.1:7"])
    on_a = redeem(api, app_server.base, "github", site=SITE)
    on_b = redeem(api, app_server.base, "github", site=OTHER)
    dashboard = redeem(api, app_server.base, "github", admin=True)
    someone_else = redeem(api, app_server.base, "x", site=SITE)
    with bearer(app_server.base, on_a) as user:
        r = user.post("/api/auth/logout", json={"everywhere": True})
        assert r.status_code == 200 and r.json()["ended"] == 3
    for token, path in ((on_a, "/api/auth/me"), (on_b, "/api/auth/me"), (dashboard, "/api/admin/me")):
        with bearer(app_server.base, token) as gone:
            assert gone.get(path).status_code == 401
    with bearer(app_server.base, someone_else) as other:
        assert other.get("/api/auth/me").status_code == 200


class PictureServer:
    """A server on another loopback address (127.0.0.2) that counts who fetches its picture: a stand-in for
    what only this machine can reach (an internal service, a cloud metadata endpoint)."""

    def __init__(self, picture: bytes) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                outer.hits += 1
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.end_headers()
                self.wfile.write(picture)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.httpd.server_address[1]}/internal.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_an_avatar_that_redirects_into_the_servers_network_is_not_fetched(redis_server) -> None:
    """The provider (allowed: REJOINDER_FETCH_ALLOW names it) answers the account's picture with a
    redirect to an address only this machine reaches: the copy stops at the guard, the sign-in goes on."""
    from rejoinder.embedded import free_port

    from ..support.oauth_provider import app_env
    from ..support.servers import AppServer, ProviderServer

    port = free_port()
    provider = ProviderServer(f"http://localhost:{port}").start()
    internal = PictureServer(httpx.get(f"{provider.base}/avatars/github.png").content)
    server = AppServer(redis_server.url, port=port, env={**app_env(provider.base), "REJOINDER_FETCH_PRIVATE_OK": "0",
                                                         "REJOINDER_FETCH_ALLOW": "127.0.0.1/32"})
    try:
        server.start()
        with httpx.Client(base_url=server.base, timeout=10) as api:
            # First the provider's own picture: it is on the allowed address, so it is copied.
            with bearer(server.base, redeem(api, server.base, "github")) as user:
                assert user.get("/api/auth/me").json()["me"]["avatar"].startswith("/api/avatars/u/")
            moved = f"{provider.base}/_control/redirect?to={internal.url}"
            httpx.put(f"{provider.base}/_control/user/github", json={"avatar": moved})
            with bearer(server.base, redeem(api, server.base, "github")) as user:
                me = user.get("/api/auth/me").json()["me"]
        assert me["name"] == "Gita Hub" and me["avatar"] is None
        assert internal.hits == 0
    finally:
        server.stop()
        provider.stop()
        internal.stop()
