"""Sign-in attacks in a real browser: login CSRF from another page, and what the blog page can take."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import redis as redis_sync

from ..conftest import SITE, register_site
from ..support.login import secret_pair
from ..support.servers import AppServer
from .conftest import PageHost, Reader, ReaderFactory

pytestmark = pytest.mark.browser


def sign_in(r: Reader, provider: str, *, cut_opener: bool = False) -> None:
    """Press "Log in with <provider>" and "Allow", as the reader does."""
    f = r.frame
    with r.page.expect_popup() as opened:
        f.get_by_role("button", name=f"Log in with {provider}").click()
    popup = opened.value
    if cut_opener:
        # What a provider with Cross-Origin-Opener-Policy does: the popup loses its opener for good.
        popup.evaluate("() => { window.opener = null; }")
    popup.get_by_role("button", name="Allow").click()
    if cut_opener:
        confirm = popup.get_by_role("button", name="Continue")
        confirm.wait_for()
        assert "Continue to the comments on Demo?" in popup.content()
        confirm.click()
        popup.get_by_text("Go back to the page you came from").wait_for()
    f.get_by_text(f"You are commenting using your {provider} account.", exact=False).first.wait_for(timeout=15_000)


def attacker_waits_for_a_session(app_server: AppServer, secret: str, seconds: float = 6.0) -> list[int]:
    """The attacker asks for the session behind their secret for as long as a sign-in takes."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(httpx.post(f"{app_server.base}/api/auth/handover", json={"secret": secret}, timeout=5).status_code)
        time.sleep(0.5)
    return seen


def test_login_csrf_a_page_that_opens_the_sign_in_gets_no_session(
        reader: ReaderFactory, page_host: PageHost, app_server: AppServer) -> None:
    r = reader().open_demo()
    r.expect_refusal(404)  # the frame may ask for its handover before the popup is done
    # The victim has signed in here before, so the provider now sends the browser straight back.
    sign_in(r, "GitHub")
    reader_secret, reader_h = secret_pair()
    admin_secret, admin_h = secret_pair()
    prize = page_host.put("/prize/", f"""<!doctype html><title>You won</title>
<button id="claim">Claim your prize</button>
<a id="dashboard" href="{app_server.base}/auth/github/start?for=admin&h={admin_h}" target="_blank">Open</a>
<script>
document.getElementById("claim").onclick = () =>
  window.open("{app_server.base}/auth/github/start?site={SITE}&h={reader_h}", "prize", "popup");
</script>""")
    r.page.goto(prize)
    for trigger, secret in (("#claim", reader_secret), ("#dashboard", admin_secret)):
        with r.page.expect_popup() as opened:
            r.page.click(trigger)
        popup = opened.value
        popup.wait_for_load_state()
        assert all(status == 404 for status in attacker_waits_for_a_session(app_server, secret, 3.0))
        assert "Sign-in refused" in popup.content(), popup.content()[:500]
        popup.close()


def test_a_popup_that_lost_its_opener_asks_the_reader_then_signs_in(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    r.expect_refusal(404)  # the frame asks for its handover until the reader confirms
    sign_in(r, "Google", cut_opener=True)
    r.field("Comment").fill("Confirmed in the popup, then signed in.")
    r.frame.get_by_role("button", name="Post Comment").click()
    assert r.comment("Confirmed in the popup").locator(".rj-name").text_content() == "Gus Google"


def page_storage(r: Reader) -> dict[str, str]:
    return r.page.evaluate("() => Object.fromEntries(Object.keys(localStorage).map(k => [k, localStorage.getItem(k)]))")


def test_what_the_blog_page_holds_is_useless_beyond_that_blog(
        reader: ReaderFactory, app_server: AppServer, redis_client: redis_sync.Redis) -> None:
    """This browser denies the frame storage of its own, so the frame keeps its entries in the blog
    page's storage, where any script of that page can read and change them."""
    r = reader().open_demo()
    r.expect_refusal(404)
    r.field("Comment").fill("A guest comment first.")
    r.field("Name").fill("Ada")
    r.field("Email").fill("ada@example.com")
    r.frame.get_by_role("checkbox", name="Save my name").check()
    r.frame.get_by_role("button", name="Post Comment").click()
    r.comment("A guest comment first.").get_by_role("button", name="Edit").wait_for()
    sign_in(r, "Facebook")

    kept = page_storage(r)
    assert kept, "the frame kept nothing in the page: this test would prove nothing"
    assert not [v for v in kept.values() if "@example.com" in v], kept
    # An edit token the page holds opens its one comment, for its edit window, and reveals no address.
    edit = next(json.loads(v) for k, v in kept.items() if k.startswith("rejoinder:rj:edit:"))
    (cid, entry), = edit.items()
    tid = next(k for k in kept if k.startswith("rejoinder:rj:edit:")).rsplit(":", 1)[1]
    shown = httpx.patch(f"{app_server.base}/api/threads/{tid}/comments/{cid}", json={"text": "changed"},
                        headers={"X-Rejoinder-Edit-Token": entry["token"]}, timeout=10)
    assert shown.status_code == 200 and "ada@example.com" not in shown.text
    token = json.loads(kept["rejoinder:rj:token"])

    # What a script on the blog page can do with the token it found there.
    register_site(redis_client, "other-blog", ["http://127.0.0.1:7"])
    with httpx.Client(base_url=app_server.base, timeout=10, headers={"Authorization": f"Bearer {token}"}) as s:
        me = s.get("/api/auth/me").json()["me"]
        assert me["name"] == "Fiona Facebook" and me["email"] is None
        other = s.get("/api/threads", params={"site": "other-blog", "page": "https://b.example/"})
        assert other.status_code == 401
        assert s.get("/api/admin/me").status_code == 401
        assert s.post("/api/auth/logout", json={"everywhere": True}).status_code == 403
    digest = token.split(".")[0]
    ttls = [redis_client.ttl(k) for k in redis_client.scan_iter(f"rj:{{u:{digest}}}:s:*")]
    assert ttls and all(0 < t <= 24 * 3600 for t in ttls)

    # The reader notices none of this: still signed in after a reload.
    r.reload()
    r.frame.get_by_text("You are commenting using your Facebook account.", exact=False).first.wait_for()
