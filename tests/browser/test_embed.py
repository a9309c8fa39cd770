"""The loader: lazy loading, reserved space, origin-checked messages, site restyling."""

from __future__ import annotations

import pytest

from ..conftest import SITE
from ..support.servers import AppServer
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
