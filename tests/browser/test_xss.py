"""Every payload of the XSS corpus, posted through the form, renders inert.

Inert means: no dialog, no page error, no console error (the reader fixture
fails the test on any of them), no flag set by injected script in the host
page or the iframe, and nothing script-capable in the rendered comment.
"""

from __future__ import annotations

import pytest

from ..support.xss import PAYLOADS
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser

# What a payload would do if it ran: every one in the corpus calls alert(1);
# these catch the ones that might call something else.
TRAP = """
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = () => { window.__xss = (window.__xss || 0) + 1; };
  }
"""
NOTHING_ACTIVE = """body => {
  const bad = [];
  for (const el of body.querySelectorAll('*')) {
    if (/^(SCRIPT|IFRAME|OBJECT|EMBED|IMG|SVG|MATH|STYLE|LINK|META|BASE|FORM|INPUT|BUTTON|TEMPLATE|VIDEO|AUDIO|SOURCE)$/i.test(el.tagName)) bad.push(el.tagName);
    for (const a of el.attributes) {
      if (/^on/i.test(a.name) || a.name === 'style' || a.name === 'srcset' || a.name === 'formaction') bad.push(el.tagName + '@' + a.name);
    }
    if (el.tagName === 'A' && el.hasAttribute('href') && !/^(https?:|mailto:)/i.test(el.getAttribute('href'))) bad.push('href ' + el.getAttribute('href'));
    if (el.tagName === 'A' && !/noopener/.test(el.getAttribute('rel') || '')) bad.push('a without noopener');
  }
  return bad;
}"""


def _post_and_check(reader: ReaderFactory, text: str, name: str) -> None:
    r = reader()
    r.context.add_init_script(TRAP)  # runs in the host page and in the iframe
    r.open_demo()
    f = r.frame
    r.field("Comment").fill(text)
    r.field("Name").fill(name)
    f.get_by_role("button", name="Post Comment").click()
    # The comment shown once the server answers is the stored, sanitised copy every reader gets.
    item = f.locator("li.rj-item[data-id]")
    item.wait_for()
    r.page.wait_for_timeout(200)  # give anything that would fire (onerror, onload) its chance
    assert item.locator(".rj-body").evaluate(NOTHING_ACTIVE) == []
    assert item.locator(".rj-name").evaluate("e => e.children.length") == 0
    assert r.page.evaluate("window.__xss || 0") == 0
    assert f.locator("html").evaluate("() => window.__xss || 0") == 0


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_payload_renders_inert(reader: ReaderFactory, payload: str) -> None:
    _post_and_check(reader, payload, "Mallory")


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>',
                                  "<svg onload=alert(1)>"], ids=["img_onerror", "script_breakout", "svg_onload"])
def test_name_payload_renders_as_text(reader: ReaderFactory, name: str) -> None:
    _post_and_check(reader, "An innocent comment", name)
