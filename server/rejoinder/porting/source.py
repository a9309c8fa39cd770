"""What an import file holds once read, whatever its format, and the one safe way to read XML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

FORMATS = ("wxr", "disqus")

WP_NAMESPACE = re.compile(r"^http://wordpress\.org/export/1\.\d+/$")
DISQUS = "http://disqus.com"
DSQ = "http://disqus.com/disqus-internals"


class ImportFailed(Exception):
    """The file as a whole cannot be imported: nothing was written. `code` is in errors.CATALOGUE."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SourceThread:
    key: str  # the thread's id in the file (WordPress post id, Disqus dsq:id)
    link: str = ""
    title: str = ""
    ident: str = ""  # the page id the old system used (post id, Disqus identifier)
    page: str = ""  # an explicit Rejoinder page key (from a Rejoinder WXR export)
    created: int | None = None
    closed: bool = False
    likes: int = 0
    skip: str = ""  # why its comments are not imported ("" if they are)


@dataclass
class SourceComment:
    key: str  # the comment's id in the file
    thread: str
    parent: str = ""
    name: str = ""
    email: str = ""
    website: str = ""
    ip: str = ""
    created: int | None = None
    status: str = "approved"  # approved | pending | spam | deleted
    html: str = ""
    likes: int = 0
    skip: str = ""  # a reason known while reading (pingback, duplicate id...)


@dataclass
class Source:
    format: str
    threads: list[SourceThread] = field(default_factory=list)
    comments: list[SourceComment] = field(default_factory=list)


def parse_xml(data: bytes) -> Element:
    """Parse untrusted XML: no DTD, no entity declarations, no external references,
    so an XML bomb (billion laughs) or an external entity (file or URL read) is refused
    before it can expand."""
    if not data.strip():
        raise ImportFailed("import_invalid", "The file is empty.")
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ImportFailed("import_unsafe", "The file declares a DTD or XML entities (the shape of an XML bomb "
                                            "or an external-entity attack); Rejoinder refuses such files. "
                                            "WordPress and Disqus exports never contain them.") from None
    except ParseError as exc:
        line, column = exc.position
        raise ImportFailed("import_invalid", f"The file is not well-formed XML (line {line}, column {column + 1}: "
                                             f"{str(exc).split(':')[0]}). Check it is the whole export and in "
                                             "the encoding its first line declares.") from None


def detect(root: Element) -> str:
    """The format of a parsed export, or ImportFailed."""
    if root.tag == f"{{{DISQUS}}}disqus":
        return "disqus"
    if root.tag == "rss" and any(WP_NAMESPACE.match(ns) for ns in namespaces_of(root)):
        return "wxr"
    raise ImportFailed("import_invalid", "The file is neither a WordPress export (WXR: an RSS file with the "
                                         "wp: namespace) nor a Disqus export (<disqus xmlns=\"http://disqus.com\">).")


def namespaces_of(root: Element) -> set[str]:
    """The namespaces the elements of the file use."""
    found = set()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            found.add(el.tag[1:el.tag.index("}")])
    return found


def text_of(el: Element | None, path: str = "", ns: dict[str, str] | None = None) -> str:
    if el is None:
        return ""
    found = el.find(path, ns) if path else el
    return (found.text or "").strip() if found is not None else ""


def parse_date(value: str) -> int | None:
    """Milliseconds since the epoch of an ISO date or WordPress's "YYYY-MM-DD HH:MM:SS" (UTC
    unless it says otherwise), or None."""
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


def count(value: Any) -> int | None:
    """A like count from the file: a non-negative integer, else None."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 0 <= number < 10**9 else None
