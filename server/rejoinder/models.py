"""Comment, Thread and Identity, and their public()/owner() output whitelists.

A stored comment document holds private fields (email, edit token hash,
client and IP hashes). Nothing reaches a response except through the
whitelists below, so a new private field is private by default.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import orjson

from .errors import ApiError

STATUSES = ("approved", "pending", "spam", "rejected", "deleted")

# A pragmatic address check: one @, a dotted domain, no spaces or controls.
_EMAIL = re.compile(r"^[^@\s<>\"'(),;:\\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


@dataclass(frozen=True)
class Identity:
    """Who makes a request: a signed-in user, or a guest known by the widget's anonymous id."""

    kind: str  # "user" | "guest"
    key: str  # stable liker/owner key: "u:<user id>" or "g:<hash of client id>", "" if unknown
    user_id: str = ""
    name: str = ""
    avatar: str = ""
    profile: str = ""
    provider: str = ""
    email: str = ""
    # Where the reader's browser keeps the session ("frame" or "page", see store/sessions.py):
    # a session the blog page holds never shows the reader's email address.
    kept: str = ""

    @property
    def known(self) -> bool:
        return bool(self.key)


# Characters XML 1.0 does not allow (comments may hold them; feeds and WXR files must not).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: Any) -> str:
    """`value` as text an XML document may hold: the characters XML forbids left out."""
    return _NOT_XML.sub("", str(value if value is not None else ""))


def iso(ms: int | float | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean_line(value: Any, field: str, *, max_len: int, required: bool = False) -> str:
    """A one-line user string: text, normalised, no control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError("invalid_field", f"{field} must be a string.", field=field)
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in _CONTROL or ch == " ")
    value = " ".join(value.split())
    if required and not value:
        raise ApiError("missing_field", f"{field} is required.", field=field)
    if len(value) > max_len:
        raise ApiError("invalid_field", f"{field} is longer than {max_len} characters.", field=field)
    return value


def clean_email(value: Any) -> str:
    email = clean_line(value, "email", max_len=254)
    if email and not _EMAIL.match(email):
        raise ApiError("invalid_email", field="email")
    return email


# One DNS label: letters, digits and inner hyphens, at most 63 (RFC 1035, as punycode for IDNs).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def http_host(host: str) -> str | None:
    """The host of an http(s) URL a browser can open, lower-case (IDNs as punycode), else None:
    an IP literal, or a dotted DNS name of valid labels with a letter in its last label."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return ascii_host if not labels[-1].isdigit() else None


def clean_http_url(value: Any, field: str, *, max_len: int = 512, required: bool = False,
                   default_scheme: str = "") -> str:
    """An absolute http:// or https:// URL with a valid host and port and no credentials, else
    422 invalid_url naming `field` (never an exception from URL parsing: a 500)."""
    url = clean_line(value, field, max_len=max_len, required=required)
    if not url:
        return ""
    if default_scheme and "://" not in url:
        url = f"{default_scheme}://{url}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise ApiError("invalid_url", field=field) from None
    host = http_host(parts.hostname or "")
    if (parts.scheme.lower() not in ("http", "https") or host is None or " " in url or parts.port == 0
            or parts.username is not None or parts.password is not None):
        raise ApiError("invalid_url", field=field)
    if host != parts.hostname:
        # An internationalised name as punycode (xn--…), so a look-alike (аррӏе.com) shows as what it is.
        shown = f"[{host}]" if ":" in host else host
        url = parts._replace(netloc=shown + (f":{parts.port}" if parts.port is not None else "")).geturl()
    return url


def clean_website(value: Any) -> str:
    return clean_http_url(value, "website", default_scheme="https")


def public_author(doc: dict[str, Any]) -> dict[str, Any] | None:
    author = doc.get("author")
    if not author:
        return None
    return {
        "name": author.get("name", ""),
        "website": author.get("website") or None,
        "avatar": author.get("avatar") or None,
        "provider": author.get("provider") or None,
        "profile": author.get("profile") or None,
    }


def is_owner(doc: dict[str, Any], viewer: Identity) -> bool:
    return bool(viewer.key) and doc.get("owner") == viewer.key


def visible_to(doc: dict[str, Any], viewer: Identity) -> bool:
    status = doc.get("status")
    return status in ("approved", "deleted") or is_owner(doc, viewer)


def public(doc: dict[str, Any], likes: int = 0, liked: bool = False) -> dict[str, Any]:
    """What anyone may see of a comment."""
    deleted = doc.get("status") == "deleted"
    status = doc.get("status")
    return {
        "id": doc["id"],
        "parent": doc.get("parent"),
        "reply_to": doc.get("reply_to"),
        "depth": doc.get("depth", 0),
        # A spam verdict (or an admin's rejection) is never shown as such: to its author it looks pending.
        "status": "pending" if status in ("spam", "rejected") else status,
        "created": iso(doc.get("created")),
        "edited": iso(doc.get("edited")),
        "author": None if deleted else public_author(doc),
        "html": "" if deleted else doc.get("html", ""),
        "likes": likes,
        "liked": liked,
        # A reply brought in from Mastodon or Bluesky (social/): where it came from and a link to it.
        "remote": None if deleted or not doc.get("remote") else
        {"via": doc["remote"].get("via"), "url": doc["remote"].get("url") or None},
    }


def owner(doc: dict[str, Any], likes: int, liked: bool, edit_window_ms: int) -> dict[str, Any]:
    """What the comment's own author sees: public() plus their own private fields."""
    view = public(doc, likes, liked)
    view["mine"] = True
    view["text"] = doc.get("text", "")
    # Not even its author gets the email address back: a guest is known by an id the blog
    # page may hold for the frame (browsers that deny the frame storage), and that page's
    # scripts must not read the address through it.
    # Every author edits within the window (a signed-in one too: an approved comment must not turn into
    # something else weeks later); a signed-in author may delete theirs at any time.
    view["editable_until"] = iso((doc.get("created") or 0) + edit_window_ms)
    return view


def view(doc: dict[str, Any], viewer: Identity, likes: int, liked: bool, edit_window_ms: int) -> dict[str, Any]:
    if is_owner(doc, viewer) and doc.get("status") != "deleted":
        return owner(doc, likes, liked, edit_window_ms)
    return public(doc, likes, liked)


def thread_view(meta: dict[str, str], tid: str) -> dict[str, Any]:
    return {
        "id": tid,
        "site": meta.get("site", ""),
        "page": meta.get("page", ""),
        "url": meta.get("url") or None,
        "title": meta.get("title", ""),
        "count": int(meta.get("count", 0)),
        "likes": int(meta.get("likes", 0)),
        "locked": meta.get("locked") == "1",
        "pinned": int(meta["pinned"]) if (meta.get("pinned") or "").isdigit() else None,
        "head": int(meta.get("seq", 0)),
        "epoch": meta.get("epoch", ""),
        # The post's likes, boosts and reposts on Mastodon and Bluesky, and a link to it there (social/).
        "remote": remote_counts(meta.get("remote")),
    }


def remote_counts(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        counts = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return counts or None
