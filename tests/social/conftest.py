"""Fixtures of the remote-reply tests: the local Mastodon and Bluesky servers, emptied for each test,
and the admin clients of tests/admin."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import httpx
import pytest

from ..admin.conftest import admin, admin_token, clients  # noqa: F401 (fixtures)
from ..support.servers import BlueskyServer, MastodonServer

__all__ = ["admin", "admin_token", "clients"]


class Remote:
    """A test's handle on a local server: post, edit, delete, switch modes, read what it was asked."""

    def __init__(self, server: MastodonServer | BlueskyServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base, timeout=10)

    def reset(self) -> None:
        self.http.post("/_admin/reset").raise_for_status()

    def mode(self, mode: str, **extra: Any) -> None:
        self.http.post("/_admin/mode", json={"mode": mode, **extra}).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return self.http.get("/_admin/requests").json()

    def close(self) -> None:
        self.http.close()


class Mastodon(Remote):
    def post(self, username: str, content: str, **fields: Any) -> dict[str, str]:
        r = self.http.post("/_admin/statuses", json={"username": username, "content": content, **fields})
        r.raise_for_status()
        return r.json()

    def edit(self, sid: str, **fields: Any) -> None:
        self.http.post("/_admin/statuses", json={"id": sid, **fields}).raise_for_status()

    def delete(self, sid: str) -> None:
        self.http.delete(f"/_admin/statuses/{sid}").raise_for_status()

    def profile(self, username: str) -> str:
        return f"{self.server.base}/@{username}"


class Bluesky(Remote):
    def post(self, handle: str, text: str, **fields: Any) -> dict[str, str]:
        r = self.http.post("/_admin/posts", json={"handle": handle, "text": text, **fields})
        r.raise_for_status()
        return r.json()

    def edit(self, uri: str, **fields: Any) -> None:
        post = self.http.post("/_admin/posts", json={"uri": uri, "handle": fields.pop("handle"), **fields})
        post.raise_for_status()

    def delete(self, uri: str) -> None:
        self.http.delete("/_admin/posts", params={"uri": uri}).raise_for_status()


@pytest.fixture
def mastodon(mastodon_server: MastodonServer) -> Iterator[Mastodon]:
    remote = Mastodon(mastodon_server)
    remote.reset()
    yield remote
    remote.reset()
    remote.close()


@pytest.fixture
def bluesky(app_server: Any, bluesky_server: BlueskyServer) -> Iterator[Bluesky]:
    remote = Bluesky(bluesky_server)
    remote.reset()
    yield remote
    remote.reset()
    remote.close()


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll `check` until it answers something truthy (the worker looks every half second here)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}: last saw {last!r}")
