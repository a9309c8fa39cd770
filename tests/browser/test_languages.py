"""The widget in the reader's language: an Arabic thread laid out right to left (looked at in a screenshot),
a Japanese one, and a region falling back to its language. Every word comes from the language's own file
(widget/locales/), plurals by the language's own rules."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import expect

from ..conftest import SITE
from ..support.servers import AppServer
from .conftest import ROOT, ReaderFactory
from .seed import comment

pytestmark = pytest.mark.browser


def words(lang: str) -> dict:
    return json.loads((ROOT / "widget" / "locales" / f"{lang}.json").read_text())


def page(app_server: AppServer, lang: str, page_id: str, title: str) -> str:
    return f"""<!doctype html><html lang="en"><title>{title}</title><body><main><h1>{title}</h1>
      <div id="rejoinder"></div></main><script src="{app_server.base}/embed.js" data-site="{SITE}"
      data-page="{page_id}" data-title="{title}" data-lang="{lang}" async></script></body></html>"""


def test_an_arabic_thread_reads_right_to_left(reader: ReaderFactory, api: httpx.Client, app_server: AppServer) -> None:
    title = "إصلاح الأشياء ببطء"
    tid = api.get("/api/threads", params={"site": SITE, "page": "arabic-post", "title": title}).json()["thread"]["id"]
    first = comment(api, tid, "قرأت هذا المقال مرتين، وأصلحت معطفي القديم هذا المساء.", name="ليلى")
    reply = comment(api, tid, "وأنا أيضًا! الخيط الأحمر يبدو جميلًا على القماش الأزرق.", name="عمر", parent=first["id"])
    comment(api, tid, "شكرًا على الفكرة، سأجربها في عطلة نهاية الأسبوع.", name="سارة", parent=reply["id"])
    r = reader()
    r.open_html(page(app_server, "ar", "arabic-post", title))
    f = r.frame
    assert f.locator("html").get_attribute("dir") == "rtl" and f.locator("html").get_attribute("lang") == "ar"
    # Three comments: Arabic's "few" form (3-10), from ar.json.
    expect(f.locator("h2.rj-title")).to_have_text(words("ar")["heading"]["few"].replace("{n}", "3")
                                                   .replace("{title}", title))
    expect(f.get_by_role("button", name=words("ar")["reply"]).first).to_be_visible()
    # A reply is indented from the right: its box ends left of its parent's right edge, and starts at its left.
    parent = f.locator(".rj-body", has_text="قرأت هذا المقال").bounding_box()
    child = f.locator(".rj-body", has_text="الخيط الأحمر").bounding_box()
    assert parent and child
    assert child["x"] + child["width"] < parent["x"] + parent["width"] - 20
    assert abs(child["x"] - parent["x"]) < 8
    # The like button's star is at its start, the right.
    like = f.get_by_role("button", name=words("ar")["like"]).first
    assert like.evaluate("e => getComputedStyle(e).backgroundPositionX") == "100%"
    r.screenshot("arabic-thread")


def test_a_japanese_thread(reader: ReaderFactory, api: httpx.Client, app_server: AppServer) -> None:
    title = "ゆっくり直すこと"
    tid = api.get("/api/threads", params={"site": SITE, "page": "japanese-post", "title": title}).json()["thread"]["id"]
    first = comment(api, tid, "この記事を読んで、古いセーターを繕いました。", name="さくら")
    comment(api, tid, "素敵ですね！写真を見たいです。", name="健太", parent=first["id"])
    r = reader()
    r.open_html(page(app_server, "ja", "japanese-post", title))
    f = r.frame
    ja = words("ja")
    assert f.locator("html").get_attribute("dir") == "ltr"
    expect(f.locator("h2.rj-title")).to_have_text(ja["heading"]["other"].replace("{n}", "2").replace("{title}", title))
    expect(f.get_by_role("button", name=ja["reply"]).first).to_be_visible()
    expect(f.locator("time").first).to_have_text(ja["now"])
    expect(f.get_by_role("button", name=ja["post"])).to_be_visible()
    r.screenshot("japanese-thread")


def test_a_region_falls_back_to_its_language(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader()
    r.open_html(page(app_server, "pt-BR", "portuguese-post", "Consertar devagar"))
    expect(r.frame.locator("h2.rj-title")).to_have_text(words("pt")["heading"]["=0"].replace("{title}",
                                                                                             "Consertar devagar"))
    assert r.frame.locator("html").get_attribute("lang") == "pt"


def popup_words(lang: str) -> dict:
    return json.loads((ROOT / "server" / "rejoinder" / "api" / "locales" / f"{lang}.json").read_text())


def test_the_sign_in_window_speaks_the_comments_language(reader: ReaderFactory, app_server: AppServer,
                                                         atproto_pds) -> None:
    """A German blog read in an English browser: the sign-in window is in German from its first page to its last,
    the one the reader's server sends them back to (which carries no language of ours)."""
    de = popup_words("de")
    httpx.post(f"{atproto_pds.base}/_admin/reset").raise_for_status()
    # The account's server names another account than the one who consented: the last page says so.
    httpx.post(f"{atproto_pds.base}/_admin/mode", json={"mode": "wrong_sub"}).raise_for_status()
    try:
        r = reader()
        r.expect_refusal(404)  # the frame asks for its handover while the popup runs
        r.open_html(page(app_server, "de", "german-post", "Langsam reparieren"))
        assert r.page.evaluate("navigator.language").startswith("en")
        with r.page.expect_popup() as opened:
            r.frame.get_by_role("button", name=words("de")["loginWith"].replace("{provider}", "Bluesky")).click()
        popup = opened.value
        expect(popup.locator("html")).to_have_attribute("lang", "de")
        expect(popup.get_by_role("heading", name=de["bluesky.title"])).to_be_visible()
        popup.get_by_label(de["bluesky.label"]).fill("@ann.test")
        popup.get_by_role("button", name=de["continue"]).click()
        popup.locator("#accept").click()  # at the reader's own server, which sends them back to us
        expect(popup.locator("#login-result h1")).to_have_text(de["failed.title"])
        expect(popup.locator("#login-result p").first).to_have_text(
            de["failed.tryAgain"].replace("{error}", de["bluesky.notConfirmed"]))
        expect(popup.locator("html")).to_have_attribute("lang", "de")
    finally:
        httpx.post(f"{atproto_pds.base}/_admin/reset").raise_for_status()


def admin_words(lang: str) -> dict:
    return json.loads((ROOT / "static" / "admin" / "locales" / f"{lang}.json").read_text())


@pytest.mark.parametrize("lang", ["ar", "ja"])
def test_the_dashboard_in_the_moderators_language(reader: ReaderFactory, redis_client, app_server: AppServer,
                                                  lang: str) -> None:
    """The dashboard speaks the moderator's browser's language: Arabic right to left, Japanese."""
    from .test_admin import one_time_link

    r = reader(locale=lang)
    r.page.goto(one_time_link(redis_client, app_server))
    r.page.locator("#desk").wait_for()
    words = admin_words(lang)
    expect(r.page.get_by_role("button", name=words["tabs.overview"])).to_be_visible()
    expect(r.page.get_by_role("button", name=words["tabs.settings"])).to_be_visible()
    expect(r.page.locator("h1")).to_have_text(words["header.title"])
    assert r.page.locator("html").get_attribute("lang") == lang
    assert r.page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    r.page.get_by_role("button", name=words["tabs.settings"]).click()
    expect(r.page.get_by_role("heading", name=words["settings.title"])).to_be_visible()
    r.page.screenshot(path=str(ROOT / "test-artifacts" / f"dashboard-{lang}.png"))
