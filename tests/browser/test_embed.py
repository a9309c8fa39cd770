"""The loader: lazy loading, reserved space, origin-checked messages, site restyling."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from ..admin.conftest import make_admin, make_session
from ..conftest import SITE, register_site
from ..support.api import post
from ..support.servers import SCRAPE, AppServer, metric
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser


def _page(server: AppServer, *, above: str = "", attrs: str = "", style: str = "") -> str:
    return f"""<!doctype html><html lang="en"><title>Embed test</title><style>{style}</style>
      <body><main><h1>Embed test</h1>{above}<div id="rejoinder"></div></main>
      <script src="{server.base}/embed.js" data-site="{SITE}" data-page="embed-test" {attrs} async></script>
      </body></html>"""


def test_comments_load_only_when_the_reader_scrolls_near(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader(height=800)
    r.open_html(_page(app_server, above='<div style="height: 5000px">A long post.</div>'), ready=False)
    r.page.wait_for_timeout(500)
    assert r.page.locator("#rejoinder iframe").count() == 0
    # Space is held even before the iframe exists, so nothing jumps when it arrives.
    assert r.page.locator("#rejoinder").evaluate("e => e.offsetHeight") >= 400
    r.wait_ready()
    assert r.page.locator("#rejoinder iframe").count() == 1


def test_height_messages_from_anyone_but_our_iframe_are_ignored(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader().open_html(_page(app_server))
    r.wait_sized()
    iframe = r.page.locator("#rejoinder iframe")
    before = iframe.evaluate("f => f.offsetHeight")
    # The host page itself (wrong source and origin), and malformed envelopes from the iframe's origin.
    r.page.evaluate("""() => {
      window.postMessage({ rejoinder: { type: 'height', height: 5 } }, '*');
      window.postMessage({ rejoinder: { type: 'scroll', top: 99999 } }, '*');
      window.postMessage({ type: 'height', height: 7 }, '*');
    }""")
    r.frame.locator("html").evaluate("""() => {
      parent.postMessage({ rejoinder: { type: 'height', height: -1 } }, '*');
      parent.postMessage({ rejoinder: { type: 'height', height: 'tall' } }, '*');
      parent.postMessage({ rejoinder: { type: 'store', key: 'not ours', value: 'x' } }, '*');
    }""")
    r.page.wait_for_timeout(300)
    assert iframe.evaluate("f => f.offsetHeight") == before
    assert r.page.evaluate("() => Object.keys(localStorage).filter(k => k.includes('not ours')).length") == 0
    assert r.page.evaluate("scrollY") == 0


def test_site_owner_custom_properties_restyle_the_widget(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader().open_html(_page(app_server, style="#rejoinder { --rejoinder-accent: rgb(150, 20, 40);"
                                                    " --rejoinder-radius: 0px; --rejoinder-font: monospace; }"
                                                    " body { font-family: serif; }",
                                 attrs='data-theme="light"'))
    button = r.frame.get_by_role("button", name="Post Comment")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(150, 20, 40)"
    assert button.evaluate("b => getComputedStyle(b).borderTopLeftRadius") == "0px"
    assert "monospace" in r.frame.locator("body").evaluate("b => getComputedStyle(b).fontFamily")


def test_theme_attribute_forces_dark(reader: ReaderFactory, app_server: AppServer) -> None:
    r = reader(color_scheme="light").open_html(_page(app_server, attrs='data-theme="dark"'))
    assert r.frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(20, 23, 28)"


SPA = """<!doctype html><html lang="en"><title>A single-page blog</title><body>
<nav><a href="/spa/post-1" data-id="post-1">One</a> <a href="/spa/post-2" data-id="post-2">Two</a>
<a href="/spa/post-3" data-id="post-3">Three</a> <button id="off">No comments</button>
<button id="dark">Dark</button></nav>
<main><h1 id="title">Post 1</h1><div id="comments"></div></main>
<script src="{base}/embed.js" data-site="{site}" data-render="manual"></script>
<script>
  const titles = {{"post-1": "Post 1", "post-2": "Post 2", "post-3": "Post 3"}};
  let section = Rejoinder.render(document.getElementById("comments"), {{page: "post-1", title: "Post 1", lazy: false}});
  document.querySelectorAll("nav a").forEach((a) => a.addEventListener("click", (e) => {{
    e.preventDefault();
    history.pushState({{}}, "", a.href);
    document.getElementById("title").textContent = titles[a.dataset.id];
    section.setPage(a.dataset.id, titles[a.dataset.id]);
  }}));
  document.getElementById("off").addEventListener("click", () => section.destroy());
  document.getElementById("dark").addEventListener("click", () => section.setTheme("dark"));
</script></body></html>"""

# Counts the listeners the page's window gains and loses, by type (installed before any script runs).
COUNT_LISTENERS = """(() => {
  const counts = window.__listeners = {};
  const add = window.addEventListener, remove = window.removeEventListener;
  window.addEventListener = function (type, fn, opts) { counts[type] = (counts[type] || 0) + 1; return add.call(this, type, fn, opts); };
  window.removeEventListener = function (type, fn, opts) { counts[type] = (counts[type] || 0) - 1; return remove.call(this, type, fn, opts); };
})();"""


def test_a_single_page_site_moves_between_posts_with_the_script_api(reader: ReaderFactory, app_server: AppServer,
                                                                     api: httpx.Client) -> None:
    for n in (1, 2, 3):
        tid = api.get("/api/threads", params={"site": SITE, "page": f"post-{n}", "title": f"Post {n}"}).json()
        post(api, tid["thread"]["id"], f"Only on post {n}")
    def sockets_open() -> float:
        return metric(httpx.get(f"{app_server.base}/metrics", headers=SCRAPE).text, "rejoinder_websockets_open")

    def settles_at(n: float) -> None:
        deadline = time.monotonic() + 10
        while sockets_open() != n:
            assert time.monotonic() < deadline, f"{sockets_open()} sockets open on the server, not {n}"
            time.sleep(0.1)

    before = sockets_open()
    r = reader()
    r.page.add_init_script(COUNT_LISTENERS)
    r.page.goto(r.page_host.put("/spa/post-1", SPA.format(base=app_server.base, site=SITE)))
    frame = r.page.frame_locator("#comments iframe")
    heading = frame.locator("h2.rj-title")
    expect(heading).to_have_text("1 thought on “Post 1”", timeout=10_000)
    for n in (2, 3, 1):
        r.page.get_by_role("link", name=["One", "Two", "Three"][n - 1]).click()
        expect(heading).to_have_text(f"1 thought on “Post {n}”", timeout=10_000)
        expect(frame.locator("li.rj-item")).to_have_text([re.compile(f"Only on post {n}")])
        assert r.page.url.endswith(f"/spa/post-{n}")
    # One frame, one open socket on the server: each page's socket closed with its page.
    assert r.page.locator("#comments iframe").count() == 1
    settles_at(before + 1)
    # The theme from the site's script, at once.
    r.page.get_by_role("button", name="Dark").click()
    expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
    # destroy(): no frame, no socket, no listener left behind.
    r.page.get_by_role("button", name="No comments").click()
    assert r.page.locator("#comments iframe").count() == 0
    settles_at(before)
    left = r.page.evaluate("() => window.__listeners")
    assert {t: left.get(t, 0) for t in ("message", "scroll", "resize")} == {"message": 0, "scroll": 0, "resize": 0}


def test_a_sites_own_stylesheet_from_its_origin_styles_the_comments(reader: ReaderFactory, app_server: AppServer,
                                                                     redis_client, page_host) -> None:
    css_url = page_host.put("/theme/comments.css", "")
    page_host.pages["/theme/comments.css"] = (b":root { --rj-accent: rgb(200, 0, 100); }\n"
                                              b".rj-title { letter-spacing: 3px; }")
    redis_client.hset(f"rj:{{s:{SITE}}}:site", "stylesheet", css_url)
    r = reader().open_html(_page(app_server))
    title = r.frame.locator("h2.rj-title")
    expect(title).to_have_css("letter-spacing", "3px")
    accent = r.frame.locator("html").evaluate("el => getComputedStyle(el).getPropertyValue('--rj-accent').trim()")
    assert accent == "rgb(200, 0, 100)"


def test_a_stylesheet_must_come_from_one_of_the_sites_origins(redis_client, app_server, page_host) -> None:
    register_site(redis_client, SITE, [app_server.page_origin, page_host.origin])
    make_admin(redis_client, SITE, "github:1001")
    token = make_session(redis_client, "github:1001", "Ada Admin")
    with httpx.Client(base_url=app_server.base, headers={"Authorization": f"Bearer {token}"}) as admin:
        for bad in ("https://evil.example/x.css", "javascript:alert(1)", page_host.origin + '/a".css', 7):
            r = admin.patch(f"/api/admin/sites/{SITE}", json={"stylesheet": bad})
            assert (r.status_code, r.json()["error"]["field"]) == (422, "stylesheet"), bad
        ok = admin.patch(f"/api/admin/sites/{SITE}", json={"stylesheet": f"{page_host.origin}/theme/c.css"})
        assert ok.status_code == 200 and ok.json()["site"]["stylesheet"] == f"{page_host.origin}/theme/c.css"
        frame = httpx.get(f"{app_server.base}/frame", params={"site": SITE})
        assert f"style-src 'self' {page_host.origin};" in frame.headers["content-security-policy"]
        assert f'<link rel="stylesheet" href="{page_host.origin}/theme/c.css"' in frame.text
        assert admin.patch(f"/api/admin/sites/{SITE}", json={"stylesheet": ""}).json()["site"]["stylesheet"] is None


LOUD = {"accent": "#d6007a", "text": "#0b5d1e", "muted": "#c05a00", "bg": "#fff8d6", "surface": "#d9f3ff",
        "border": "#e00000", "radius": "14px", "font": "Georgia, serif"}


def test_each_style_variable_changes_what_the_readme_says(reader: ReaderFactory, app_server: AppServer,
                                                           api: httpx.Client) -> None:
    """The picture in the README: every --rejoinder-* property set to a loud value, and each part it names
    painted with it."""
    tid = api.get("/api/threads", params={"site": SITE, "page": "embed-test", "title": "Embed test"}).json()
    first = post(api, tid["thread"]["id"], "A comment with a [link](https://example.com) and `code`",
                 name="Grace")["comment"]
    post(api, tid["thread"]["id"], "A reply under it", name="Linus", parent=first["id"])
    style = "#rejoinder {" + "".join(f"--rejoinder-{k}: {v};" for k, v in LOUD.items()) + "}"
    r = reader().open_html(_page(app_server, attrs='data-theme="light"', style=style))
    f = r.frame
    rgb = {k: "rgb({}, {}, {})".format(*(int(v[i:i + 2], 16) for i in (1, 3, 5)))
           for k, v in LOUD.items() if v.startswith("#")}
    expect(f.locator(".rj-body a").first).to_have_css("color", rgb["accent"])
    expect(f.locator(".rj-body p").first).to_have_css("color", rgb["text"])
    expect(f.locator("time").first).to_have_css("color", rgb["muted"])
    expect(f.locator("html")).to_have_css("background-color", rgb["bg"])
    expect(f.locator(".rj-body code").first).to_have_css("background-color", rgb["surface"])
    expect(f.locator("textarea")).to_have_css("border-top-left-radius", "14px")
    expect(f.locator("body")).to_have_css("font-family", "Georgia, serif")
    r.screenshot("css-variables")
