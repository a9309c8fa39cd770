"""Bluesky: a post, its replies, and whether a reply is gone, through the public AppView's XRPC
endpoints (app.bsky.feed.getPostThread, app.bsky.feed.getPosts, com.atproto.identity.resolveHandle).

A post's replies come nested; each reply is taken with the reply it answers. Replies deeper than the
depth asked for are not in the answer, so a reply missing from it is asked for (getPosts) before it is
taken away (follow.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx2

from ..settings import Settings
from . import posts
from .fetch import RemoteError, get_json
from .refs import DID, HANDLE, Post

DEPTH = 30
# getPosts takes at most this many URIs a request.
GET_POSTS_MAX = 25


def _xrpc(settings: Settings, method: str) -> str:
    return f"{settings.bluesky_appview.rstrip('/')}/xrpc/{method}"


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _with_links(body: str, facets: Any) -> str:
    """The post's text with each link facet's shortened text ("example.com/lo...") replaced by its
    full address. Facet offsets count UTF-8 bytes; ones that do not fit the text are ignored."""
    if not isinstance(facets, list):
        return body
    raw = body.encode()
    spans = []
    for facet in facets[:50]:
        if not isinstance(facet, dict) or not isinstance(facet.get("index"), dict):
            continue
        start, end = facet["index"].get("byteStart"), facet["index"].get("byteEnd")
        uris = [f.get("uri") for f in facet.get("features") or [] if isinstance(f, dict)
                and f.get("$type") == "app.bsky.richtext.facet#link"]
        if (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw) and uris
                and posts.web_url(uris[0])):
            spans.append((start, end, posts.web_url(uris[0])))
    spans.sort()
    out, at = bytearray(), 0
    for start, end, uri in spans:
        if start < at:
            continue  # overlapping facets: keep the first
        out += raw[at:start] + uri.encode()
        at = end
    out += raw[at:]
    return out.decode(errors="replace")


def _post(view: Any, parent: str | None, settings: Settings) -> posts.RemotePost | None:
    if not isinstance(view, dict):
        return None
    uri, author, record = view.get("uri"), view.get("author"), view.get("record")
    if not isinstance(uri, str) or not uri.startswith("at://") or len(uri) > 512:
        return None
    if not isinstance(author, dict) or not isinstance(record, dict):
        return None
    did = author.get("did") if isinstance(author.get("did"), str) and DID.match(author["did"]) else ""
    handle = author.get("handle") if isinstance(author.get("handle"), str) and HANDLE.match(author["handle"]) else ""
    if not did:
        return None
    body = _with_links(posts.text(record.get("text")), record.get("facets")).strip()
    if not body:
        return None
    web = settings.bluesky_web.rstrip("/")
    who = handle or did
    return posts.RemotePost(
        id=uri, parent=parent, name=posts.text(author.get("displayName"), posts.MAX_NAME).strip() or who,
        handle=who, profile=f"{web}/profile/{who}", avatar=posts.web_url(author.get("avatar")),
        text=body[: posts.MAX_TEXT], url=f"{web}/profile/{who}/post/{_rkey(uri)}",
        created_ms=posts.when_ms(record.get("createdAt")))


async def resolve(client: httpx2.AsyncClient, settings: Settings, ref: Post) -> Post:
    """The post with its author as a DID (a handle is resolved once per look)."""
    if ref.who.startswith("did:"):
        return ref
    answer = await get_json(client, settings, _xrpc(settings, "com.atproto.identity.resolveHandle"),
                            {"handle": ref.who})
    did = answer.data.get("did") if isinstance(answer.data, dict) else None
    if not isinstance(did, str) or not DID.match(did):
        raise RemoteError("garbage", answer.wait_until_ms)
    return Post(did, ref.rkey)


async def thread(client: httpx2.AsyncClient, settings: Settings, ref: Post) -> tuple[posts.RemoteThread, int]:
    """The post and its replies, and until when (ms) the AppView asked us to wait (0: it did not)."""
    ref = await resolve(client, settings, ref)
    answer = await get_json(client, settings, _xrpc(settings, "app.bsky.feed.getPostThread"),
                            {"uri": ref.uri, "depth": str(DEPTH), "parentHeight": "0"})
    root = answer.data.get("thread") if isinstance(answer.data, dict) else None
    if not isinstance(root, dict) or not isinstance(root.get("post"), dict):
        raise RemoteError("garbage", answer.wait_until_ms)
    post = root["post"]
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    did = author.get("did") if isinstance(author.get("did"), str) else ""
    handle = author.get("handle") if isinstance(author.get("handle"), str) else ""
    web = settings.bluesky_web.rstrip("/")
    out = posts.RemoteThread(
        author=did, handle=handle, url=f"{web}/profile/{handle or did}/post/{ref.rkey}",
        counts={"likes": posts.count(post.get("likeCount")), "reposts": posts.count(post.get("repostCount")),
                "quotes": posts.count(post.get("quoteCount")), "replies": posts.count(post.get("replyCount"))})
    # Depth first, each reply after the one it answers; iterative, so a deep answer cannot exhaust the stack.
    stack: list[tuple[Any, str]] = [(r, post.get("uri", "")) for r in reversed(_replies(root))]
    while stack and len(out.replies) < posts.MAX_REPLIES:
        node, parent = stack.pop()
        if not isinstance(node, dict) or node.get("$type", "app.bsky.feed.defs#threadViewPost") != \
                "app.bsky.feed.defs#threadViewPost":
            continue  # a notFoundPost or blockedPost
        reply = _post(node.get("post"), parent if parent != post.get("uri") else None, settings)
        if reply is None:
            continue
        out.replies.append(reply)
        stack.extend((c, reply.id) for c in reversed(_replies(node)))
    return out, answer.wait_until_ms


def _replies(node: dict[str, Any]) -> list[Any]:
    replies = node.get("replies")
    return replies[: posts.MAX_REPLIES] if isinstance(replies, list) else []


async def gone(client: httpx2.AsyncClient, settings: Settings, uris: list[str]) -> list[str]:
    """Which of these posts the AppView no longer has (getPosts leaves out the ones that are gone)."""
    out = []
    for start in range(0, len(uris), GET_POSTS_MAX):
        batch = uris[start:start + GET_POSTS_MAX]
        url = _xrpc(settings, "app.bsky.feed.getPosts") + "?" + urlencode([("uris", u) for u in batch])
        answer = await get_json(client, settings, url)
        found = answer.data.get("posts") if isinstance(answer.data, dict) else None
        if not isinstance(found, list):
            raise RemoteError("garbage", answer.wait_until_ms)
        have = {p.get("uri") for p in found if isinstance(p, dict)}
        out += [u for u in batch if u not in have]
    return out
