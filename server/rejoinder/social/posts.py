"""What a remote network's answer becomes before it reaches a thread: plain text and plain fields,
each checked for type and size, whatever the remote server sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

MAX_TEXT = 5000
MAX_NAME = 80
MAX_URL = 1024
# One poll takes at most this many replies of a post; a longer conversation is taken over later polls.
MAX_REPLIES = 500


@dataclass
class RemotePost:
    id: str  # the network's id of the reply (a Mastodon status id, an at:// URI)
    parent: str | None  # the id of what it answers
    name: str
    handle: str
    profile: str  # the author's page
    avatar: str  # the author's picture on their server (copied before it is shown)
    text: str
    url: str  # the reply on its network, for "on Mastodon" links
    created_ms: int


@dataclass
class RemoteThread:
    author: str  # the post's author: a Mastodon profile URL, or a DID
    handle: str
    url: str  # the post on its network
    counts: dict[str, int]
    replies: list[RemotePost] = field(default_factory=list)


def text(value: Any, limit: int = MAX_TEXT) -> str:
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


def web_url(value: Any) -> str:
    """An http(s) URL as a remote server gave it, or "" (a javascript: link never reaches a page)."""
    if isinstance(value, str) and len(value) <= MAX_URL and re.match(r"^https?://[^\s<>\"']+$", value):
        return value
    return ""


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12 else 0


def when_ms(value: Any) -> int:
    if not isinstance(value, str) or len(value) > 64:
        return 0
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


class _Text(HTMLParser):
    """A Mastodon status's HTML as the text a reader sees: paragraphs and line breaks kept, links as
    their full address (Mastodon hides part of a long one in an "invisible" span; the text has it all)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


# The mentions a reply opens with (@owner@server …): the thread already says whom it answers.
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.-]+(?:@[\w.-]+)?\s+)+")


def html_text(html: Any) -> str:
    if not isinstance(html, str):
        return ""
    parser = _Text()
    parser.feed(html[: MAX_TEXT * 4])
    parser.close()
    out = re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
    return _LEADING_MENTIONS.sub("", out)[:MAX_TEXT].strip()


def escape_markdown(value: str) -> str:
    """Remote text is plain text: what Markdown would read as markup is escaped, links stay links."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", value)
