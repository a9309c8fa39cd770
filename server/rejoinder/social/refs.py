"""What a page or an admin may name as a thread's remote post, parsed strictly: a Mastodon status URL,
a Bluesky post (at:// URI or its bsky.app page), and a site's own accounts on either network."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_REF = 512

# Mastodon ids are numbers; other servers that speak its API (Pleroma, Akkoma, GoToSocial) use other
# url-safe ids.
_STATUS_PATHS = (
    re.compile(r"^/@[A-Za-z0-9_.-]+(?:@[A-Za-z0-9.-]+)?/(?P<id>[A-Za-z0-9]{1,64})/?$"),
    re.compile(r"^/users/[A-Za-z0-9_.-]+/statuses/(?P<id>[A-Za-z0-9]{1,64})/?$"),
    re.compile(r"^/notice/(?P<id>[A-Za-z0-9]{1,64})/?$"),
)
_DID = r"did:(?:plc:[a-z2-7]{24}|web:[A-Za-z0-9.:%-]{1,253})"
_HANDLE = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_RKEY = r"[A-Za-z0-9._:~-]{1,512}"
_AT_URI = re.compile(rf"^at://(?P<who>{_DID}|{_HANDLE})/app\.bsky\.feed\.post/(?P<rkey>{_RKEY})$")
_WEB_POST = re.compile(rf"^/profile/(?P<who>{_DID}|{_HANDLE})/post/(?P<rkey>{_RKEY})/?$")
DID = re.compile(rf"^{_DID}$")
HANDLE = re.compile(rf"^{_HANDLE}$")


@dataclass(frozen=True)
class Status:
    """A Mastodon status: the server that has it (scheme://host[:port]) and its id there."""

    server: str
    id: str
    url: str


@dataclass(frozen=True)
class Post:
    """A Bluesky post: its author (a DID, or a handle still to resolve) and its record key."""

    who: str
    rkey: str

    @property
    def uri(self) -> str:
        return f"at://{self.who}/app.bsky.feed.post/{self.rkey}"


def _url(value: object) -> tuple[str, str, str] | None:
    if not isinstance(value, str) or not value or len(value) > MAX_REF or any(ord(c) <= 32 for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment:
        return None
    return parts.scheme, parts.netloc.lower(), parts.path


def mastodon_status(value: object) -> Status | None:
    """A status URL as its server shows it (https://host/@name/123, /users/name/statuses/123), or None."""
    parsed = _url(value)
    if parsed is None:
        return None
    scheme, netloc, path = parsed
    for pattern in _STATUS_PATHS:
        match = pattern.match(path)
        if match:
            return Status(f"{scheme}://{netloc}", match["id"], f"{scheme}://{netloc}{path}")
    return None


def bluesky_post(value: object) -> Post | None:
    """An at://…/app.bsky.feed.post/… URI, or a post's page (https://bsky.app/profile/…/post/…), or None."""
    if not isinstance(value, str) or len(value) > MAX_REF:
        return None
    match = _AT_URI.match(value)
    if match is None:
        parsed = _url(value)
        match = _WEB_POST.match(parsed[2]) if parsed else None
    if match is None:
        return None
    who = match["who"]
    return Post(who if who.startswith("did:") else who.lower(), match["rkey"])


def author(value: object) -> str | None:
    """One of a site's own accounts, as kept: a Mastodon profile URL (https://host/@name), a DID, or a
    Bluesky handle (without its @). None if it is none of these."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REF:
        return None
    value = value.strip()
    if DID.match(value):
        return value
    handle = value.removeprefix("@").lower()
    if HANDLE.match(handle):
        return handle
    parsed = _url(value)
    if parsed and re.match(r"^/@[A-Za-z0-9_.-]+/?$", parsed[2]):
        return f"{parsed[0]}://{parsed[1]}{parsed[2].rstrip('/').lower()}"
    return None


def same_account(profile_url: str, authors: list[str]) -> bool:
    """Whether a Mastodon account (its profile URL) is one of the site's."""
    normal = profile_url.rstrip("/").lower()
    return any(a == normal for a in authors if a.startswith(("http://", "https://")))
