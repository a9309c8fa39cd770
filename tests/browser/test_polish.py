"""What a reader sees, polished: the frame takes the blog's own background in dark mode, a liked post says
"Liked", the form shows who is signed in, and the demo's header fits a phone."""

from __future__ import annotations

import pytest

from ..conftest import SITE
from ..support.servers import AppServer
from .conftest import ReaderFactory
from .test_login_attacks import sign_in

pytestmark = pytest.mark.browser


def dark_blog(server: AppServer) -> str:
    return f"""<!doctype html><html><head><title>A dark blog</title>
<style>body {{ background: #101010; color: #eee; }}</style></head><body><h1>A dark post</h1>
<div id="rejoinder"></div>
<script src="{server.base}/embed.js" data-site="{SITE}" data-page="dark-post" async></script></body></html>"""


def test_in_dark_mode_the_frame_shows_the_blogs_own_background(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader(color_scheme="dark").open_html(dark_blog(app_server))
    iframe = r.page.locator("#rejoinder iframe")
    # The frame element and its document agree on a dark scheme (where they differ, browsers paint an
    # opaque backdrop), and the document paints no background of its own.
    assert iframe.evaluate("f => getComputedStyle(f).colorScheme") == "light dark"
    assert r.frame.locator("html").evaluate("() => getComputedStyle(document.documentElement).colorScheme") == "dark"
    for element in ("html", "body"):
        assert r.frame.locator(element).evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"


def test_a_liked_post_says_liked(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    button = r.frame.get_by_role("button", name="Like this post")
    button.click()
    liked = r.frame.get_by_role("button", name="Liked")
    liked.wait_for()
    assert liked.get_attribute("aria-pressed") == "true"
    liked.click()
    r.frame.get_by_role("button", name="Like this post").wait_for()


def test_the_form_shows_who_is_signed_in(reader: ReaderFactory) -> None:
    r = reader().open_demo()
    r.expect_refusal(404)
    sign_in(r, "GitHub")
    me = r.frame.locator(".rj-signedin")
    assert me.locator(".rj-me").text_content() == "Gita Hub"
    assert (me.locator("img.rj-avatar").get_attribute("src") or "").startswith("/api/avatars/u/")


def test_the_demo_header_fits_a_phone(reader: ReaderFactory) -> None:
    r = reader(width=320, height=640).open_demo()
    assert r.page.evaluate("() => document.documentElement.scrollWidth") <= 320
    overlaps = r.page.evaluate("""() => { const [a, b] = document.querySelectorAll('header.site > *');
        const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
        return !(ra.right <= rb.left || rb.bottom <= ra.top || ra.bottom <= rb.top); }""")
    assert not overlaps
