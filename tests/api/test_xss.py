"""One named test per XSS payload: the stored and served HTML of each is inert.

"Inert" is checked on the HTML the API returns, parsed with a real HTML
parser: no script-capable element, no event-handler attribute, no URL with
a scheme other than http, https or mailto, and no style or other attribute
outside the whitelist. The browser tests post the same corpus through the form.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from ..support.api import post
from ..support.xss import PAYLOADS

ALLOWED_TAGS = {"a", "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote",
                "ul", "ol", "li", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
ALLOWED_ATTRS = {"a": {"href", "title", "rel", "target"}, "ol": {"start"}}
SAFE_SCHEMES = {"http", "https", "mailto"}



class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ALLOWED_ATTRS.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name == "href" and value is not None:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"href scheme {scheme}")
            if tag == "a" and name == "rel":
                assert value and {"nofollow", "ugc", "noopener"} <= set(value.split())

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")


def problems(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def test_inspector_catches_what_it_should() -> None:
    """The checker itself must fail on dangerous HTML, or every test below proves nothing."""
    assert problems('<img src=x onerror="alert(1)">')
    assert problems('<a href="javascript:alert(1)">x</a>')
    assert problems('<p onclick="x">y</p>')
    assert problems("<script>x</script>")
    assert problems('<a href="https://example.com" rel="nofollow ugc noopener">ok</a>') == []


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_payload_is_stored_inert(api: httpx.Client, thread: dict, payload: str) -> None:
    tid = thread["id"]
    created = post(api, tid, payload)
    assert problems(created["comment"]["html"]) == []
    listed = api.get(f"/api/threads/{tid}").json()["comments"][0]
    assert problems(listed["html"]) == []
    assert listed["html"] == created["comment"]["html"]


@pytest.mark.parametrize("field,value", [
    ("name", "<img src=x onerror=alert(1)>"),
    ("name", '"><script>alert(1)</script>'),
    ("name", "Ann\u202egnp.exe"),
])
def test_user_strings_come_back_as_plain_text(api: httpx.Client, thread: dict, field: str, value: str) -> None:
    """Names are not HTML: they come back as the text given (minus control characters) for the
    widget to insert with textContent, never rendered."""
    created = post(api, thread["id"], "hi", **{field: value})
    returned = created["comment"]["author"][field]
    assert "\u202e" not in returned
    assert returned == value.replace("\u202e", "")
