"""Mastodon (and any server speaking its API): a status, its replies, and whether a reply is gone.

Public endpoints only, on the status's own server: GET /api/v1/statuses/:id and
GET /api/v1/statuses/:id/context. Unauthenticated, Mastodon gives a limited number of descendants (60
in 4.x), so a reply missing from the context is asked for alone before it is taken away (follow.py).
"""

from __future__ import annotations

from typing import Any

import httpx2

from ..settings import Settings
from . import posts
from .fetch import Answer, NotFound, RemoteError, get_json
from .refs import Status

PUBLIC = ("public", "unlisted")


def _account(status: dict[str, Any]) -> dict[str, Any]:
    account = status.get("account")
    return account if isinstance(account, dict) else {}


def _reply(status: Any) -> posts.RemotePost | None:
    if not isinstance(status, dict) or status.get("visibility", "public") not in PUBLIC:
        return None
    sid = status.get("id")
    if not isinstance(sid, str) or not sid or len(sid) > 64:
        return None
    account = _account(status)
    parent = status.get("in_reply_to_id")
    body = posts.html_text(status.get("content"))
    if not body:
        return None
    handle = posts.text(account.get("acct"), 200)
    return posts.RemotePost(
        id=sid, parent=parent if isinstance(parent, str) and parent else None,
        name=posts.text(account.get("display_name"), posts.MAX_NAME).strip() or handle or "?",
        handle=handle, profile=posts.web_url(account.get("url")),
        avatar=posts.web_url(account.get("avatar_static") or account.get("avatar")),
        text=body, url=posts.web_url(status.get("url")) or posts.web_url(status.get("uri")),
        created_ms=posts.when_ms(status.get("created_at")))


async def thread(client: httpx2.AsyncClient, settings: Settings, ref: Status) -> tuple[posts.RemoteThread, int]:
    """The status and its public replies, and until when (ms) the server asked us to wait (0: it did
    not). Raises NotFound when the status is gone, RemoteError otherwise."""
    base = f"{ref.server}/api/v1/statuses/{ref.id}"
    root: Answer = await get_json(client, settings, base)
    if not isinstance(root.data, dict) or root.data.get("id") != ref.id:
        raise RemoteError("garbage", root.wait_until_ms)
    context: Answer = await get_json(client, settings, base + "/context")
    if not isinstance(context.data, dict) or not isinstance(context.data.get("descendants"), list):
        raise RemoteError("garbage", context.wait_until_ms)
    descendants = context.data["descendants"]
    account = _account(root.data)
    out = posts.RemoteThread(
        author=posts.web_url(account.get("url")), handle=posts.text(account.get("acct"), 200),
        url=posts.web_url(root.data.get("url")) or ref.url,
        counts={"likes": posts.count(root.data.get("favourites_count")),
                "boosts": posts.count(root.data.get("reblogs_count")),
                "replies": posts.count(root.data.get("replies_count"))})
    for item in descendants[: posts.MAX_REPLIES]:
        reply = _reply(item)
        if reply is not None:
            out.replies.append(reply)
    return out, max(root.wait_until_ms, context.wait_until_ms)


async def gone(client: httpx2.AsyncClient, settings: Settings, ref: Status, ids: list[str]) -> list[str]:
    """Which of these replies the server says no longer exist (404/410); any other answer keeps one."""
    out = []
    for sid in ids:
        try:
            answer = await get_json(client, settings, f"{ref.server}/api/v1/statuses/{sid}")
        except NotFound:
            out.append(sid)
            continue
        if isinstance(answer.data, dict) and answer.data.get("visibility", "public") not in PUBLIC:
            out.append(sid)  # made private: no longer ours to show
    return out
