"""The WordPress plugin (integrations/wordpress/rejoinder), on a real WordPress: Debian's package, a MariaDB
server and PHP's built-in server started by the test, driven in Chromium. The owner activates the plugin in
wp-admin: the blog's existing comments are copied to Rejoinder (activating again copies nothing twice), the
post shows them in the widget, the signed-in owner comments under their own name with no second sign-in,
and the blog's index counts the new comment."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from rejoinder.embedded import free_port
from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.wordpress_site import SCRIPTS, MariaDB, WordPress, missing
from .conftest import ROOT, ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

PLUGIN = ROOT / "integrations" / "wordpress" / "rejoinder"


@pytest.fixture
def blog(redis_client, app_server) -> Iterator[tuple[WordPress, int]]:
    assert missing() == [], f"missing {missing()}: scripts/test.sh installs them as root"
    db = MariaDB().start()
    port = free_port()
    site = WordPress(db, "pluginblog", home=f"http://127.0.0.1:{port}")
    try:
        shutil.copytree(PLUGIN, site.root / "wp-content" / "plugins" / "rejoinder")
        shutil.copytree(SCRIPTS / "theme" / "rejoinder-test", site.root / "wp-content" / "themes" / "rejoinder-test")
        secret = secrets.token_urlsafe(32)
        register_site(redis_client, SITE, [app_server.page_origin, f"http://127.0.0.1:{port}"])
        redis_client.set(keys.sso_secret(SITE), secret)
        site.php("setup-plugin.php", app_server.base, SITE, secret)
        ids = site.seed([{"title": "Mending slowly", "date": "2024-03-01 09:00:00", "comments": [
            {"key": "a", "parent": None, "author": "Walter", "email": "walter@blog.test", "url": "",
             "content": "I darned three socks this weekend.", "date_gmt": "2024-03-01 10:00:00", "approved": "1"},
            {"key": "b", "parent": "a", "author": "Ines", "email": "ines@blog.test", "url": "",
             "content": "Three! I managed one.", "date_gmt": "2024-03-01 11:00:00", "approved": "1"}]}])
        assert len(ids) == 2
        site.serve(port)
        yield site, port
    finally:
        site.stop()
        redis_client.delete(keys.sso_secret(SITE))
        db.stop()


def activate(page, base: str) -> str:
    """Activate the plugin in wp-admin; the notice it shows."""
    page.goto(f"{base}/wp-admin/plugins.php")
    page.get_by_role("link", name="Activate Rejoinder").click()
    notice = page.locator("#rejoinder-import")
    notice.wait_for(timeout=60_000)
    return notice.inner_text()


def test_activate_see_the_old_comments_comment_as_the_owner_and_see_the_count(
        reader: ReaderFactory, blog: tuple[WordPress, int], app_server) -> None:
    site, port = blog
    base = f"http://127.0.0.1:{port}"
    r = reader()
    r.expect_refusal(404)  # PHP's server has no favicon.ico
    page = r.page
    page.goto(f"{base}/wp-login.php")
    page.locator("#user_login").fill("admin")
    page.locator("#user_pass").fill("admin-password-1")
    page.get_by_role("button", name="Log In").click()
    page.wait_for_url(f"{base}/wp-admin/**")

    notice = activate(page, base)
    assert "comments copied" in notice and "2" in notice, notice

    # The post: WordPress's comments are in the widget, nested as they were.
    permalink = f"{base}/?p={post_id(site)}"
    page.goto(permalink)
    frame = page.frame_locator("#rejoinder iframe")
    expect(frame.locator(".rj-body", has_text="I darned three socks")).to_be_visible(timeout=15_000)
    expect(frame.locator(".rj-kids .rj-body", has_text="Three! I managed one.")).to_be_visible()
    # The blog's signed-in owner is signed in to the comments too (the plugin signs them: data-sso).
    frame.get_by_text("admin", exact=False).first.wait_for()
    frame.get_by_role("textbox", name="Comment").fill("Thank you both: the darning egg helps.")
    frame.get_by_role("button", name="Post Comment").click()
    mine = frame.locator("li.rj-item", has_text="the darning egg helps")
    expect(mine.locator(".rj-name")).to_have_text("admin")

    # The blog's own index counts it (WordPress's number, kept in step with the thread's).
    page.goto(f"{base}/")
    expect(page.locator(".post-summary .count").first).to_have_text("3 Comments")

    # Activating again copies nothing twice.
    page.goto(f"{base}/wp-admin/plugins.php")
    page.get_by_role("link", name="Deactivate Rejoinder").click()
    notice = activate(page, base)
    assert "comments copied" in notice, notice
    counts = httpx.post(f"{app_server.base}/api/counts", json={"site": SITE, "pages": [permalink]}).json()
    assert counts["counts"][permalink] == 3, counts


def post_id(site: WordPress) -> int:
    return int(site.php("post-id.php").strip())
