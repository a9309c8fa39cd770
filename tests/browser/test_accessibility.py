"""axe-core finds no WCAG 2.2 A/AA violation in the widget, in light and dark."""

from __future__ import annotations

import httpx
import pytest

from .conftest import AXE, ReaderFactory
from .test_reading import _populate

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]




@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations(reader: ReaderFactory, api: httpx.Client, scheme: str) -> None:
    assert AXE.exists(), "axe-core is missing: run `npm ci` in widget/"
    _populate(api)
    r = reader(color_scheme=scheme).open_demo()
    r.expect_refusal(422)
    r.frame.locator("li.rj-item").nth(3).wait_for()
    # Open what a reader can open: a reply form with an error showing, and the preview.
    r.comment("Great tip").locator(":scope > article").get_by_role("button", name="Reply").click()
    r.frame.get_by_role("button", name="Post Comment").click()
    r.frame.locator(".rj-error:not([hidden])").first.wait_for()
    frame = next(fr for fr in r.page.frames if "/frame?" in fr.url)
    # evaluate() runs through the DevTools protocol, which the frame's CSP does not
    # govern: the page itself still cannot run inline script.
    frame.evaluate(AXE.read_text())
    result = frame.evaluate("""async (tags) => {
      const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) }));
    }""", WCAG)
    assert result == []
