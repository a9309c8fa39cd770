"""What a reader sees: the thread, nested replies, paging, counts, languages, narrow screens, no jumps."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from ..conftest import SITE
from ..support.api import post
from ..support.servers import AppServer
from .conftest import ReaderFactory
from .seed import TITLE, comment, demo_thread, someone

pytestmark = pytest.mark.browser


def test_thread_shows_count_title_comments_and_likes(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    first = comment(api, tid, "Darning is **meditative**.", name="Grace", website="https://grace.example")
    comment(api, tid, "I glued a chair last week.", name="Linus")
    with someone(api) as other:
        assert other.put(f"/api/threads/{tid}/comments/{first['id']}/like").status_code == 200

    r = reader().open_demo()
    f = r.frame
    assert f.locator("h2.rj-title").text_content() == f"2 thoughts on “{TITLE}”"
    grace = r.comment("meditative")
    name = grace.locator(".rj-name")
    assert name.text_content() == "Grace"
    assert name.get_attribute("href") == "https://grace.example"
    assert set((name.get_attribute("rel") or "").split()) >= {"nofollow", "ugc", "noopener"}
    assert name.get_attribute("target") == "_blank"
    assert grace.locator("strong").text_content() == "meditative"
    assert grace.locator(".rj-likes").text_content() == "Liked by 1 person"
    when = grace.locator("time")
    assert when.get_attribute("datetime") == first["created"]
    assert when.text_content() == "now"
    # The exact time on hover (filled in just after the comments show: its formatter is slow to create).
    expect(when).to_have_attribute("title", re.compile(r"\d{4}"))
    expect(grace.locator("img.rj-avatar")).to_have_attribute("src", re.compile(r"^/api/avatars/"))
    # The thread's feed, for a feed reader: both comments, newest first.
    link = f.get_by_role("link", name="Comments feed")
    assert link.get_attribute("href") == f"/api/feeds/threads/{tid}.atom"
    atom = r.page.request.get(f"{r.server.base}{link.get_attribute('href')}")
    assert atom.ok and atom.text().index("I glued a chair") < atom.text().index("meditative")


def test_nested_replies_render_under_their_parents(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    root = comment(api, tid, "Root thought")
    child = comment(api, tid, "First reply", parent=root["id"])
    comment(api, tid, "Reply to the reply", parent=child["id"])
    comment(api, tid, "Second root")

    r = reader().open_demo()
    root_li = r.comment("Root thought")
    kids = root_li.locator(":scope > ol.rj-kids > li")
    assert kids.count() == 1
    assert "First reply" in (kids.first.locator(":scope > article").text_content() or "")
    grandkids = kids.first.locator(":scope > ol.rj-kids > li")
    assert "Reply to the reply" in (grandkids.first.text_content() or "")
    top = r.frame.locator("ol.rj-list:not(.rj-kids) > li")
    assert top.count() == 2


def test_reply_form_opens_under_the_comment(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    comment(api, tid, "Answer me", name="Grace")
    r = reader().open_demo()
    r.reply("Answer me", "Here is my answer")
    reply = r.comment("Here is my answer")
    reply.wait_for()
    assert r.comment("Answer me").locator(":scope > ol.rj-kids").get_by_text("Here is my answer").count() == 1
    r.reload()
    assert r.comment("Answer me").locator(":scope > ol.rj-kids").get_by_text("Here is my answer").count() == 1


def test_load_more_and_more_replies(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    first = None
    for i in range(55):  # the server's page is 50 top-level comments
        c = comment(api, tid, f"Top {i:02d}")
        first = first or c
    assert first is not None
    for i in range(103):  # 100 replies come inline, the rest behind a button
        comment(api, tid, f"Reply {i:03d}", parent=first["id"])

    r = reader(height=900).open_demo()
    f = r.frame
    assert f.locator("h2.rj-title").text_content() == f"158 thoughts on “{TITLE}”"
    more_replies = f.get_by_role("button", name="Show 3 more replies")
    more_replies.click()
    r.comment("Reply 102").wait_for()
    assert more_replies.count() == 0
    assert r.comment("Top 54").count() == 0
    # The button, for keyboards and for readers who stop there (clicked where it is: scrolling
    # down to it would fetch the page by itself, test_a_long_thread_loads_...).
    f.get_by_role("button", name="Load more comments").evaluate("b => b.click()")
    r.comment("Top 54").wait_for()
    assert f.get_by_role("button", name="Load more comments").is_hidden()
    assert f.locator("li.rj-item[data-id]").count() == 158


def test_a_long_thread_loads_its_next_pages_as_the_reader_scrolls(reader: ReaderFactory, api: httpx.Client) -> None:
    """No button to find in a long thread: the next page of comments is there before the reader
    reaches the end, far-off comments are left to the browser to skip, and live comments still come."""
    tid = demo_thread(api)["id"]
    for i in range(120):  # the server's page is 50 top-level comments: three pages
        comment(api, tid, f"Long thread comment {i:03d}")
    r = reader(height=900).open_demo()
    f = r.frame
    assert f.locator("li.rj-item[data-id]").count() == 50
    for _ in range(200):  # scroll the blog page down, as a reader does, until the last one shows
        if r.comment("Long thread comment 119").count():
            break
        r.page.mouse.wheel(0, 1500)
        r.page.wait_for_timeout(50)
    r.comment("Long thread comment 119").wait_for()
    assert f.locator("li.rj-item[data-id]").count() == 120
    assert f.get_by_role("button", name="Load more comments").is_hidden()
    assert "rj-long" in (f.locator("ol.rj-list").first.get_attribute("class") or "")
    # In order, each once.
    texts = [t.strip() for t in f.locator("li.rj-item[data-id] .rj-body").all_text_contents()]
    assert texts == [f"Long thread comment {i:03d}" for i in range(120)]
    comment(api, tid, "Arrived while reading the end")
    r.comment("Arrived while reading the end").wait_for()


def test_count_js_fills_marked_elements_in_one_request(reader: ReaderFactory, api: httpx.Client,
                                                      app_server: AppServer) -> None:
    tid = demo_thread(api)["id"]
    for i in range(3):
        comment(api, tid, f"Comment {i}")
    other = api.get("/api/threads", params={"site": SITE, "page": "https://blog.example/other"}).json()["thread"]
    comment(api, other["id"], "Only one")

    r = reader()
    requests: list[str] = []
    r.page.on("request", lambda req: "/api/counts" in req.url and requests.append(req.url))
    html = f"""<!doctype html><html lang="en"><title>Index</title><body><main>
      <a href="/a" data-rejoinder-count="demo-post">Comments</a>
      <a href="/b" data-rejoinder-count="https://blog.example/other">Comments</a>
      <span data-rejoinder-count="never-seen" data-rejoinder-zero="Be the first">?</span>
      <span data-rejoinder-count="demo-post" data-rejoinder-other="{{n}} replies">?</span>
      <div id="rejoinder" data-page="demo-post"></div></main>
      <script src="{app_server.base}/count.js" data-site="{SITE}" async></script>
      <script src="{app_server.base}/embed.js" data-site="{SITE}" async></script></body></html>"""
    r.open_html(html)
    page = r.page
    page.wait_for_function("() => document.querySelector('a[href=\"/a\"]').textContent !== 'Comments'")
    assert page.locator('a[href="/a"]').text_content() == "3 comments"
    assert page.locator('a[href="/b"]').text_content() == "1 comment"
    assert page.locator("span").nth(0).text_content() == "Be the first"
    assert page.locator("span").nth(1).text_content() == "3 replies"
    assert len(requests) == 1


@pytest.mark.parametrize("lang,heading", [
    ("fr", "1 réflexion sur « Un billet »"),
    ("de", "1 Gedanke zu „Un billet“"),
    ("en", "1 thought on “Un billet”"),
])
def test_language_follows_data_lang(reader: ReaderFactory, api: httpx.Client, app_server: AppServer,
                                    lang: str, heading: str) -> None:
    tid = api.get("/api/threads", params={"site": SITE, "page": "lang-page", "title": "Un billet"}).json()["thread"]["id"]
    comment(api, tid, "Bonjour")
    r = reader()
    r.open_html(f"""<!doctype html><html lang="en"><title>Un billet</title><body><main><h1>Un billet</h1>
      <div id="rejoinder"></div></main><script src="{app_server.base}/embed.js" data-site="{SITE}"
      data-page="lang-page" data-title="Un billet" data-lang="{lang}" async></script></body></html>""")
    assert r.frame.locator("h2.rj-title").text_content() == heading
    assert r.frame.locator("html").get_attribute("lang") == lang


def test_browser_language_is_the_fallback(reader: ReaderFactory, api: httpx.Client, app_server: AppServer) -> None:
    r = reader(locale="de-DE")
    r.open_html(f"""<!doctype html><title>Post</title><body><main><div id="rejoinder"></div></main>
      <script src="{app_server.base}/embed.js" data-site="{SITE}" data-page="no-lang" data-title="Post"
      async></script></body></html>""")
    assert r.frame.locator("h2.rj-title").text_content() == "Noch keine Gedanken zu „Post“"


def _populate(api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    a = comment(api, tid, "I darned my socks after reading this. The first one looks *terrible*, "
                "the second one almost passable. Thank you for the nudge!", name="Grace Hopper",
                website="https://grace.example")
    with someone(api) as other:
        b = comment(other, tid, "Mine too! A tip: use a lighter thread than the sock so the darn does "
                    "not make a ridge under your heel.", name="Linus", parent=a["id"])
        other.put(f"/api/threads/{tid}/comments/{a['id']}/like")
        other.put(f"/api/threads/{tid}/like")
    comment(api, tid, "Great tip, thanks.", name="Grace Hopper", parent=b["id"])
    comment(api, tid, "The chair story made me smile. Ours has been wobbling for two years; "
                "this weekend it gets `wood glue` and a clamp.", name="Margaret")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 320])
def test_screenshots_and_no_sideways_scroll(reader: ReaderFactory, api: httpx.Client, scheme: str,
                                            width: int) -> None:
    """Readable at 320 px: nothing wider than the screen. The screenshots are kept as artifacts."""
    _populate(api)
    r = reader(color_scheme=scheme, width=width, height=900).open_demo()
    r.frame.locator("li.rj-item").nth(3).wait_for()
    overflow = r.frame.locator("html").evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0
    assert r.page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    r.screenshot(f"widget-{'desktop' if width > 400 else '320px'}-{scheme}")


def test_theme_auto_follows_the_system_setting_live(reader: ReaderFactory, api: httpx.Client) -> None:
    """The demo blog has a dark style of its own: when the system switches, the page does, and the
    comments follow it (its colour, light text), without a reload."""
    r = reader(color_scheme="light").open_demo()
    body = r.frame.locator("body")
    colours = "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
    assert body.evaluate(colours) == ["rgb(251, 248, 242)", "rgb(28, 32, 38)"]  # the demo's paper, dark ink
    r.page.emulate_media(color_scheme="dark")
    r.frame.locator("html[data-theme=dark]").wait_for(state="attached")
    assert body.evaluate(colours) == ["rgb(27, 26, 24)", "rgb(231, 234, 239)"]


def test_page_does_not_shift_when_comments_load(reader: ReaderFactory, api: httpx.Client) -> None:
    """Cumulative layout shift of the host page stays zero while the widget loads
    (below the fold, as on the demo post), sizes itself, and the reader scrolls down to it."""
    _populate(api)
    r = reader(height=800)
    r.page.add_init_script("""
      window.__shift = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value;
      }).observe({ type: 'layout-shift', buffered: true });""")
    r.page.goto(f"{r.server.page_origin}/demo/")
    heading = r.page.locator("h1").bounding_box()
    # The comments sit below the fold; the loader fetches them while the reader is
    # still reading the post, so they are sized before they scroll into view.
    r.page.wait_for_function("() => { const f = document.querySelector('#rejoinder iframe');"
                             " return !!f && f.style.visibility === ''; }", timeout=10_000)
    for _ in range(12):
        r.page.mouse.wheel(0, 300)
        r.page.wait_for_timeout(60)
    r.wait_ready()
    r.frame.locator("li.rj-item").nth(3).wait_for()
    r.page.wait_for_timeout(300)
    r.page.mouse.wheel(0, -5000)
    r.page.wait_for_timeout(200)
    assert r.page.locator("h1").bounding_box() == heading
    assert r.page.evaluate("window.__shift") == 0


def test_the_readers_sort_order_is_kept_across_reloads(reader: ReaderFactory, api: httpx.Client) -> None:
    tid = demo_thread(api)["id"]
    first = comment(api, tid, "The first, liked by none")
    liked = comment(api, tid, "The second, liked by two")
    comment(api, tid, "The third, liked by none")
    comment(api, tid, "A reply under the second", parent=liked["id"])
    for i in range(2):
        with someone(api) as other:
            assert other.put(f"/api/threads/{tid}/comments/{liked['id']}/like").status_code == 200

    def tops(r) -> list[str]:
        return [t.split(",")[0].removeprefix("The ")
                for t in r.frame.locator("ol.rj-list:not(.rj-kids) > li > article .rj-body").all_text_contents()]

    r = reader().open_demo()
    assert tops(r) == ["first", "second", "third"]
    sort = r.frame.get_by_label("Sort by")
    sort.select_option("newest")
    expect(r.frame.locator("ol.rj-list:not(.rj-kids) > li").first).to_contain_text("The third")
    assert tops(r) == ["third", "second", "first"]
    # Replies stay under their parents whatever the order.
    assert r.comment("The second").locator("ol.rj-kids").inner_text().count("A reply under the second") == 1
    # A comment posted now lands on top, live. Above what the reader is looking at, it waits behind
    # the "new comments" button rather than pushing the page down; in view, it shows at once.
    comment(api, tid, "The fourth, just now")
    bar = r.frame.locator("button.rj-newbar", has_text="1 new comment")
    top = r.frame.locator("ol.rj-list:not(.rj-kids) > li").first
    expect(bar.or_(top.filter(has_text="The fourth"))).to_be_visible(timeout=10_000)
    if bar.is_visible():
        bar.click()
    expect(top).to_contain_text("The fourth")

    r.reload()
    assert r.frame.get_by_label("Sort by").input_value() == "newest"
    assert tops(r) == ["fourth", "third", "second", "first"]
    r.frame.get_by_label("Sort by").select_option("best")
    expect(r.frame.locator("ol.rj-list:not(.rj-kids) > li").first).to_contain_text("The second")
    assert tops(r) == ["second", "first", "third", "fourth"]
    assert first["id"] < liked["id"]


def test_a_very_long_thread_keeps_only_what_is_near_the_reader_drawn(reader: ReaderFactory, api: httpx.Client) -> None:
    """Past 1,000 comments, far-off ones sleep (their elements go) and wake, as they were, when the
    reader comes back; what happens to them meanwhile (a like, a reply) is not lost, and nothing the
    reader looks at moves."""
    tid = demo_thread(api)["id"]
    first = comment(api, tid, "Very long thread comment 0000")
    gone, edited = (post(api, tid, f"Very long thread comment {i:04d}", name="Grace") for i in (1, 2))
    for i in range(3, 1050):
        end = comment(api, tid, f"Very long thread comment {i:04d}")
    r = reader(height=900).open_demo()
    f = r.frame
    r.frame.locator(f"#rj-c{first['id']} .rj-like").click()  # this reader likes the first one
    expect(f.locator(f"#rj-c{first['id']} .rj-like")).to_have_attribute("aria-pressed", "true")
    # Down until the last page is in (by id: a text search would make the browser lay out every
    # comment it skips; and a page loaded ahead may sleep at once, several screens below the reader).
    for _ in range(400):
        if f.locator(f"li[data-id='{end['id']}']").count():
            break
        r.page.mouse.wheel(0, 4000)
        r.page.wait_for_timeout(30)
    r.page.evaluate("() => scrollTo(0, document.documentElement.scrollHeight)")
    last = f.locator(f"#rj-c{end['id']}")
    expect(last).to_contain_text("Very long thread comment 1049")
    # The comment whose Like button still has the keyboard focus stays drawn, far up as it is...
    expect(f.locator(f"li.rj-asleep[data-id='{first['id']}']")).to_have_count(0)
    assert f.locator(f"#rj-c{first['id']} .rj-like").evaluate("b => b === document.activeElement")
    # ...until the focus moves on (to the last comment, here).
    last.locator(":scope > article").focus()
    r.page.mouse.wheel(0, -10)
    # Far up, the first comment is asleep: an empty item of the height it had, no comment inside.
    asleep = f.locator(f"#rj-c{first['id']}")
    expect(f.locator(f"li.rj-asleep[data-id='{first['id']}']")).to_have_count(1)
    expect(asleep).to_have_count(0)
    drawn = f.locator("li.rj-item[data-id]:not(.rj-asleep)").count()
    assert 0 < drawn < 400, drawn
    assert f.locator("li.rj-asleep").count() >= 1050 - drawn
    # Nothing the reader sees moves while what is far off goes to sleep.
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    at = last.bounding_box()
    r.page.wait_for_timeout(600)
    assert last.bounding_box() == at

    # Meanwhile, far up, someone else likes the sleeping comment and replies to it, and the
    # authors of the next two delete one and edit the other.
    with someone(api) as other:
        assert other.put(f"/api/threads/{tid}/comments/{first['id']}/like").status_code == 200
        reply = comment(other, tid, "A reply to the first, far up", name="Ada", parent=first["id"])
    def url(c: dict) -> str:
        return f"/api/threads/{tid}/comments/{c['comment']['id']}"

    assert api.delete(url(gone), headers={"X-Rejoinder-Edit-Token": gone["edit_token"]}).status_code == 200
    assert api.patch(url(edited), json={"text": "Edited far up"},
                     headers={"X-Rejoinder-Edit-Token": edited["edit_token"]}).status_code == 200
    expect(f.locator(f"li.rj-asleep[data-id='{edited['comment']['id']}']")).to_have_count(1)
    bar = f.locator("button.rj-newbar", has_text="1 new comment")
    bar.wait_for()
    # The bar takes the reader there: the first comment wakes, with their like, the other's, and the reply.
    bar.click()
    woken = f.locator(f"#rj-c{first['id']}")
    expect(woken.locator(":scope > article .rj-like")).to_have_attribute("aria-pressed", "true")
    expect(woken.locator(":scope > article .rj-likes")).to_contain_text("2")
    expect(f.locator(f"#rj-c{reply['id']}")).to_be_visible()
    expect(f.locator(f"#rj-c{reply['id']}")).to_be_in_viewport()
    expect(f.locator(f"#rj-c{edited['comment']['id']} .rj-body")).to_have_text("Edited far up")
    expect(f.locator(f"li[data-id='{gone['comment']['id']}']")).to_have_count(0)
    # Every comment once, in order, whether drawn or asleep.
    ids = f.locator("ol.rj-list").first.evaluate(
        "ol => Array.from(ol.children, li => Number(li.dataset.id))")
    assert len(ids) == 1049 and ids == sorted(ids), len(ids)
    assert f.locator(f"#rj-c{reply['id']}").count() == 1
    # A comment that arrives at the far end while the reader is up here stays drawn (highlighted, for
    # the "new comments" button to lead to) however far below it is.
    with someone(api) as other:
        late = comment(other, tid, "A late comment at the far end", name="Ada")
    f.locator("button.rj-newbar", has_text="1 new comment").wait_for()
    for _ in range(3):
        r.page.mouse.wheel(0, 40)
        r.page.wait_for_timeout(250)
    expect(f.locator(f"#rj-c{late['id']}.rj-new")).to_have_count(1)
