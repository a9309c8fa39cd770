"""The moderation dashboard in Chromium: sign in with a one-time link, watch a held comment
arrive live in the queue, approve it with the keyboard; and axe finds no WCAG violation."""

from __future__ import annotations

import hashlib
import secrets

import httpx
import pytest

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import post
from .conftest import AXE, ReaderFactory
from .test_accessibility import WCAG

pytestmark = pytest.mark.browser


def one_time_link(redis_client, app_server) -> str:
    """What `rejoinder admin token demo` prints (written the way AdminStore writes it)."""
    token = secrets.token_urlsafe(32)
    redis_client.set(keys.admin_link(hashlib.sha256(token.encode()).hexdigest()), SITE, ex=3600)
    return f"{app_server.base}/admin/#token={token}"


def open_dashboard(reader: ReaderFactory, redis_client, app_server, scheme: str = "light"):
    r = reader(color_scheme=scheme)
    link = one_time_link(redis_client, app_server)
    r.page.goto(link)
    r.page.locator("#desk").wait_for()
    r.page.get_by_text("Live", exact=True).wait_for()
    return r, link.split("#token=")[1]


def test_sign_in_with_a_link_then_approve_a_live_arrival_with_the_keyboard(
        reader: ReaderFactory, redis_client, app_server, api: httpx.Client, other_reader: httpx.Client,
        thread: dict) -> None:
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    r, token = open_dashboard(reader, redis_client, app_server)
    page = r.page
    # The link's token left the address bar; the session is in this origin's storage, not the URL.
    assert token not in page.url and "#" not in page.url
    stored = page.evaluate("localStorage.getItem('rejoinder.admin.token')")
    assert stored and stored != token
    assert page.locator("#empty").is_visible()

    post(api, thread["id"], "Held until a human **looks**", name="<img src=x onerror=alert(1)>")
    row = page.locator("#list > li", has_text="Held until a human")
    row.wait_for(timeout=5000)  # live: no reload
    assert page.locator("#count-pending").inner_text() == "(1)"
    # The name is text, the body the server's sanitised HTML.
    assert row.locator(".author").inner_text() == "<img src=x onerror=alert(1)>"
    assert row.locator(".body strong").inner_text() == "looks"
    assert other_reader.get(f"/api/threads/{thread['id']}").json()["comments"] == []

    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.matches('#list > li')")
    page.keyboard.press("a")
    row.wait_for(state="detached", timeout=5000)
    page.locator("#announce", has_text="approved").wait_for()
    shown = other_reader.get(f"/api/threads/{thread['id']}").json()["comments"]
    assert [c["html"] for c in shown] == ["<p>Held until a human <strong>looks</strong></p>"]
    assert page.locator("#count-pending").inner_text() == "(0)"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dashboard_has_no_axe_violations(reader: ReaderFactory, redis_client, app_server, api: httpx.Client,
                                         thread: dict, scheme: str) -> None:
    assert AXE.exists(), "axe-core is missing: run `npm ci` in widget/"
    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    post(api, thread["id"], "Waiting with a [link](https://example.com)", email="w@example.com")
    r, _ = open_dashboard(reader, redis_client, app_server, scheme)
    r.page.locator("#list > li").first.wait_for()
    r.page.keyboard.press("j")
    r.page.evaluate(AXE.read_text())
    result = r.page.evaluate("""async (tags) => {
      const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) }));
    }""", WCAG)
    assert result == []


def test_widget_readers_see_approval_and_removal_live(reader: ReaderFactory, redis_client, app_server,
                                                      api: httpx.Client) -> None:
    """The widget applies comment.approved and comment.hidden: other readers gain and lose the
    comment without a reload; its author keeps seeing it, marked as waiting."""
    from ..admin.conftest import make_admin, make_session
    from .seed import demo_thread

    register_site(redis_client, SITE, [app_server.page_origin], moderation="hold_all")
    make_admin(redis_client, SITE, "github:1001")
    admin = httpx.Client(base_url=app_server.base, timeout=10,
                         headers={"Authorization": f"Bearer {make_session(redis_client, 'github:1001')}"})
    tid = demo_thread(api)["id"]
    ann = reader().open_demo()
    bob = reader().open_demo()
    ann.post("Ann waits for a moderator", name="Ann")
    ann.comment("Ann waits for a moderator").locator(".rj-notice").wait_for()
    [row] = admin.get(f"/api/admin/sites/{SITE}/comments").json()["comments"]
    assert admin.post(f"/api/admin/sites/{SITE}/comments/{tid}/{row['id']}/approve").status_code == 200
    bob.comment("Ann waits for a moderator").wait_for()
    bob.frame.locator("h2.rj-title", has_text="1 thought").wait_for()
    ann.comment("Ann waits for a moderator").locator(".rj-notice").wait_for(state="detached")
    assert admin.post(f"/api/admin/sites/{SITE}/comments/{tid}/{row['id']}/spam").status_code == 200
    bob.comment("Ann waits for a moderator").wait_for(state="detached")
    ann.comment("Ann waits for a moderator").locator(".rj-notice").wait_for()  # to her, it waits again
    assert bob.frame.locator("li.rj-item[data-id]").count() == 0
    admin.close()


def test_a_spent_link_shows_sign_in_without_account_controls(reader: ReaderFactory, redis_client,
                                                              app_server) -> None:
    """A link is good once: opened again it lands on the sign-in panel, which says why and
    offers no site picker or sign-out buttons for an account nobody is signed in to."""
    r, token = open_dashboard(reader, redis_client, app_server)
    again = reader()
    again.expect_refusal(401)
    again.page.goto(f"{app_server.base}/admin/#token={token}")
    again.page.locator("#signin").wait_for()
    assert "already used" in again.page.locator("#signin-status").inner_text()
    for control in ("#site", "#signout", "#signout-all"):
        assert not again.page.locator(control).is_visible(), control
    assert r.page.locator("#signout").is_visible()


def test_a_readers_report_reaches_the_dashboard_live_and_is_dismissed(
        reader: ReaderFactory, redis_client, app_server, api: httpx.Client) -> None:
    from .seed import comment, demo_thread
    tid = demo_thread(api)["id"]
    comment(api, tid, "A comment someone will report", name="Grace")
    r, _ = open_dashboard(reader, redis_client, app_server)
    page = r.page
    page.get_by_role("button", name="Reported").click()
    page.locator("#empty").wait_for()

    rita = reader().open_demo()
    target = rita.comment("A comment someone will report")
    target.get_by_role("button", name="Report").click()
    rita.frame.get_by_label("Why report this comment?").select_option("abuse")
    rita.frame.get_by_role("button", name="Send report").click()
    target.get_by_text("Reported: thank you").wait_for()
    # Nothing left to click twice: the button is gone for this reader.
    assert target.get_by_role("button", name="Report").count() == 0

    row = page.locator("#list > li", has_text="A comment someone will report")
    row.wait_for(timeout=10_000)  # live: no reload
    assert "Reported by 1 reader: 1 abusive" in row.locator(".reports").inner_text()
    assert page.locator("#count-reported").inner_text() == "(1)"
    row.get_by_role("button", name="Dismiss reports").click()
    page.locator("#empty").wait_for()
    # Readers never saw any of it: the comment is still there for them.
    assert rita.comment("A comment someone will report").is_visible()
