"""Small helpers for driving the API as the widget does."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx

_numbers = itertools.count(1)


def in_one_window(window: int = 60, room: float = 6.0) -> None:
    """Wait, if need be, until at least `room` seconds of the rate limits' current window are left, so
    a burst that counts to a limit is counted in one window: around an edge the sliding estimate takes
    only part of the earlier window's count (lib_count_write.lua), and one more write may pass."""
    into = time.time() % window
    if into > window - room:
        time.sleep(window - into + 0.2)


def post(client: httpx.Client, tid: str, text: str = "", *, name: str = "Ann",
         expect: int = 201, headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    # Without a text of the test's own, one of its own each time: the same author saying the same thing
    # twice in a thread is refused (duplicate_comment).
    body = {"text": text or f"A thoughtful comment, number {next(_numbers)}.", "name": name, **fields}
    r = client.post(f"/api/threads/{tid}/comments", json=body, headers=headers or {})
    assert r.status_code == expect, r.text
    return r.json()


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


def all_comments(client: httpx.Client, tid: str, **params: Any) -> list[dict[str, Any]]:
    """Every comment of a thread, through all pages and reply pages, as a reader would load them."""
    r = client.get(f"/api/threads/{tid}", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    out = list(body["comments"])
    pending = dict(body["replies"])
    while body["next"]:
        r = client.get(f"/api/threads/{tid}", params={**params, "cursor": body["next"]})
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["comments"])
        pending.update(body["replies"])
    for root, more in pending.items():
        cursor = more["cursor"]
        while cursor:
            r = client.get(f"/api/threads/{tid}/comments/{root}/replies", params={"cursor": cursor})
            assert r.status_code == 200, r.text
            page = r.json()
            out.extend(page["comments"])
            cursor = page["next"]
    return out
