"""What a reader sees, polished: the comments take the blog's own colour and its light or dark style (and
keep up when it changes), a liked post says "Liked", the form shows who is signed in, and the demo's
header fits a phone."""

from __future__ import annotations

import pytest

from ..conftest import SITE
from ..support.servers import AppServer
from .conftest import Reader, ReaderFactory
from .test_login_attacks import sign_in

pytestmark = pytest.mark.browser


def blog(server: AppServer, style: str = "", attrs: str = "", script: str = "") -> str:
    return f"""<!doctype html><html><head><title>A blog</title>
<style>{style}</style></head><body><h1>A post</h1>
<div id="rejoinder"></div>
<script src="{server.base}/embed.js" data-site="{SITE}" data-page="a-post" {attrs} async></script>{script}</body></html>"""


DARK = "body { background: #101010; color: #eee; }"


def look(r: Reader) -> dict[str, str]:
    """What the reader sees of the comments: their background, text colour and colour scheme."""
    return r.frame.locator("body").evaluate("""b => ({ background: getComputedStyle(b).backgroundColor,
        text: getComputedStyle(b).color, scheme: getComputedStyle(document.documentElement).colorScheme })""") | {
        "frame": r.page.locator("#rejoinder iframe").evaluate("f => getComputedStyle(f).colorScheme")}


def test_on_a_dark_blog_the_comments_take_its_colour(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader(color_scheme="dark").open_html(blog(app_server, DARK))
    # The blog's own colour, painted (so contrast checks see it), light text, and the frame element's
    # colour scheme the same as its document's (where they differ, browsers paint a box of their own).
    assert look(r) == {"background": "rgb(16, 16, 16)", "text": "rgb(231, 234, 239)", "scheme": "dark",
                       "frame": "dark"}


def test_a_light_blog_keeps_light_comments_for_a_reader_whose_system_is_dark(
        reader: ReaderFactory, app_server: AppServer) -> None:
    """data-theme="auto" follows the page, not the system: light text on a white page cannot be read."""
    r = reader(color_scheme="dark").open_html(blog(app_server))
    assert look(r) == {"background": "rgb(255, 255, 255)", "text": "rgb(28, 32, 38)", "scheme": "light",
                       "frame": "light"}


def test_a_forced_style_on_a_page_of_the_other_kind_keeps_its_own_background(
        reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader().open_html(blog(app_server, DARK, attrs='data-theme="light"'))
    assert look(r)["background"] == "rgb(255, 255, 255)" and look(r)["text"] == "rgb(28, 32, 38)"
    r = reader().open_html(blog(app_server, attrs='data-theme="dark"'))
    assert look(r)["background"] == "rgb(20, 23, 28)" and look(r)["text"] == "rgb(231, 234, 239)"


def test_the_comments_follow_the_blogs_own_dark_mode_toggle(reader: ReaderFactory, app_server: AppServer) -> None:
    toggle = """<button id="toggle" onclick="document.documentElement.classList.toggle('night')">Night</button>"""
    r = reader().open_html(blog(app_server, "html.night body { background: #222; color: #ddd; }", script=toggle))
    assert look(r)["background"] == "rgb(255, 255, 255)"
    r.page.locator("#toggle").click()
    r.frame.locator("html[data-theme=dark]").wait_for(state="attached")
    assert look(r) == {"background": "rgb(34, 34, 34)", "text": "rgb(231, 234, 239)", "scheme": "dark",
                       "frame": "dark"}
    r.page.locator("#toggle").click()
    r.frame.locator("html[data-theme=light]").wait_for(state="attached")
    assert look(r)["background"] == "rgb(255, 255, 255)"


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


def test_a_page_can_name_only_a_plain_colour_as_its_backdrop(reader: ReaderFactory, app_server: AppServer) -> None:
    """The embedding page may be hostile: of what it posts as its colour, the frame takes an rgb()
    colour and nothing else (no image to fetch, no declarations to smuggle in)."""
    r = reader().open_html(blog(app_server))
    send = """color => document.querySelector('#rejoinder iframe').contentWindow.postMessage(
        { rejoinder: { type: 'backdrop', color } }, '*')"""
    # Every background the frame takes, in order (evaluate() is not bound by the frame's CSP).
    r.frame.locator("html").evaluate("""html => { window.taken = [];
        new MutationObserver(() => window.taken.push(html.style.getPropertyValue('--rj-bg') + ' ' + html.dataset.theme))
            .observe(html, { attributes: true }); }""")
    for bad in ("url(https://evil.example/x.png)", "rgb(1, 2, 3); background-image: url(//evil.example)",
                "rgb(300, 0, 0)", "red", "rgb(1,2,3)", 7):
        r.page.evaluate(send, bad)
    r.page.evaluate(send, "rgb(1, 2, 3)")  # messages arrive in order: this one comes after all of the above
    r.frame.locator("html[data-theme=dark]").wait_for(state="attached")
    assert look(r)["background"] == "rgb(1, 2, 3)"
    assert set(r.frame.locator("html").evaluate("() => window.taken")) == {"rgb(1, 2, 3) dark"}
