"""Markdown -> sanitised HTML: the only place user text becomes HTML."""

from __future__ import annotations

import re

import mdurl
import nh3
from markdown_it import MarkdownIt

# js-default: CommonMark with raw HTML off, so "<script>" stays text. nh3 then
# enforces the whitelist anyway: one layer is a parser setting, the other a
# guarantee.
def _parser(linkify: bool) -> MarkdownIt:
    md = MarkdownIt("js-default", {"linkify": linkify, "typographer": False}).enable(["linkify", "strikethrough"])
    md.normalizeLinkText = _link_text  # type: ignore[method-assign]
    # Images would make every reader's browser fetch a URL of the commenter's
    # choosing (tracking pixels, huge files): render them as plain links instead.
    return md.disable("image")


def _link_text(url: str) -> str:
    """How a bare URL shows as a link's text: as written, but an internationalised host name in
    punycode, so a look-alike ("аррӏе.com", Cyrillic) shows as what it is (xn--80ak6aa92e.com)."""
    parsed = mdurl.parse(url, slashes_denote_host=True)
    if parsed.hostname and not parsed.hostname.isascii():
        try:
            parsed = parsed._replace(hostname=parsed.hostname.encode("idna").decode("ascii"))
        except UnicodeError:
            pass  # not a name IDNA can spell: the href (punycode by markdown-it) still says where it goes
    return mdurl.decode(mdurl.format(parsed), mdurl.DECODE_DEFAULT_CHARS + "%")


_md = _parser(linkify=True)
# The same parser without linkify, for text that cannot hold a link. linkify-it's
# pretest (a scan with its whole TLD list: a third of a comment's rendering) is
# the first thing linkify does, and every link it can find has a ':' (a scheme),
# '//', '@', 'localhost' or a dot before a word character (a TLD, "www.x",
# ".d{1,3}."). Text with none of them renders the same without linkify
# (tests/test_render.py compares the two).
_plain = _parser(linkify=False)
MAY_LINK = re.compile(r"[:@]|//|\.\w|localhost", re.IGNORECASE)

TAGS = {
    "a", "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# Only schemes that navigate: javascript:, data:, vbscript: and the rest are dropped.
URL_SCHEMES = {"http", "https", "mailto"}


# Built once: nh3.clean() would convert these options on every call (4x the cleaning itself).
_cleaner = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="nofollow ugc noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)


def render(text: str) -> str:
    return sanitise((_md if MAY_LINK.search(text) else _plain).render(text))


def sanitise(html: str) -> str:
    """HTML from elsewhere (Markdown above, or an imported comment) cut down to the whitelist."""
    return _cleaner.clean(html).strip()
