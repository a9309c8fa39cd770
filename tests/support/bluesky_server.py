"""A local Bluesky AppView for tests: the public XRPC queries the worker uses, with the AppView's
rate-limit headers and XRPC's error form, plus /_admin switches for a test to post, edit and delete
posts, and to make the server slow, failing or garbled.

Queries (GET, no authentication):
  /xrpc/com.atproto.identity.resolveHandle?handle=      {"did"}
  /xrpc/app.bsky.feed.getPostThread?uri=&depth=&parentHeight=
        {"thread": threadViewPost}, replies nested to `depth`; 400 {"error": "NotFound"} for a missing post
  /xrpc/app.bsky.feed.getPosts?uris=…  (at most 25)     {"posts": [postView]}, missing ones left out
  /xrpc/app.bsky.actor.getProfile?actor=<did or handle>  {"did", "handle", "displayName", "avatar"};
        400 {"error": "InvalidRequest"} for a malformed or unknown actor
Parameters are checked as the lexicons say (an at:// URI with a DID, depth 0-1000, …): a bad one is
400 {"error": "InvalidRequest"}.

Accounts: the AppView knows only the accounts it was told about (resolveHandle and getProfile do not make
up DIDs): the sign-in accounts of SIGN_IN_ACCOUNTS from the start (and again after /_admin/reset), the
authors of posts made with /_admin/posts, and those of POST /_admin/accounts {handle, displayName}. A test
adds a sign-in account through the atproto stand-in (tests/support/atproto_pds.py, POST /_admin/accounts),
which hosts it and registers it here too; the DIDs on both sides are did_of(handle).

Run: python -m tests.support.bluesky_server --port P
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import time
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .remote_common import Control, misbehave, png, routes, serve

AT_URI = re.compile(r"^at://(did:plc:[a-z2-7]{24})/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]{1,512})$")


# The accounts the atproto stand-in (atproto_pds.py) hosts from the start, handle -> display name: the
# AppView knows them too, so a Bluesky sign-in test has someone to sign in as without any set-up.
SIGN_IN_ACCOUNTS = {"ann.test": "Ann Atwood", "bob.test": "Bob Bramble"}


def did_of(handle: str) -> str:
    return "did:plc:" + base64.b32encode(hashlib.sha256(handle.encode()).digest()).decode().lower()[:24]


def create_app() -> Starlette:
    accounts: dict[str, dict[str, str]] = {}  # did -> {handle, displayName}
    posts: dict[str, dict[str, Any]] = {}  # uri -> post
    rkeys = itertools.count(1)
    control = Control(limit=3000)

    def know_sign_in_accounts() -> None:
        for handle, name in SIGN_IN_ACCOUNTS.items():
            accounts.setdefault(did_of(handle), {"handle": handle, "displayName": name})
    know_sign_in_accounts()

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.headers['host']}"

    def limits() -> dict[str, str]:
        remaining, reset = control.count()
        return {"RateLimit-Limit": str(control.limit), "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": str(int(reset)), "RateLimit-Policy": f"{control.limit};w={int(control.window)}"}

    def invalid(message: str, headers: dict[str, str]) -> JSONResponse:
        return JSONResponse({"error": "InvalidRequest", "message": message}, status_code=400, headers=headers)

    def view(request: Request, p: dict[str, Any]) -> dict[str, Any]:
        author = accounts[p["did"]]
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": p["text"], "createdAt": p["createdAt"],
                                  "langs": ["en"]}
        if p.get("facets"):
            record["facets"] = p["facets"]
        if p.get("parent"):
            record["reply"] = {"root": {"uri": p["root"], "cid": posts[p["root"]]["cid"]},
                               "parent": {"uri": p["parent"], "cid": posts[p["parent"]]["cid"]}}
        replies = sum(1 for o in posts.values() if o.get("parent") == p["uri"] and not o.get("deleted"))
        return {"uri": p["uri"], "cid": p["cid"], "author": {
                    "did": p["did"], "handle": author["handle"], "displayName": author["displayName"],
                    "avatar": f"{base(request)}/img/avatar/{p['did']}.png", "labels": []},
                "record": record, "replyCount": replies, "repostCount": p.get("reposts", 0),
                "likeCount": p.get("likes", 0), "quoteCount": 0, "indexedAt": p["createdAt"], "labels": []}

    def thread_view(request: Request, p: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": view(request, p)}
        if depth > 0:
            children = [o for o in posts.values() if o.get("parent") == p["uri"] and not o.get("deleted")]
            out["replies"] = [thread_view(request, c, depth - 1) for c in sorted(children, key=lambda o: o["n"])]
        return out

    async def resolve_handle(request: Request) -> Response:
        headers = limits()
        bad = await misbehave(control, request, headers)
        if bad is not None:
            return bad
        handle = request.query_params.get("handle", "").lower()
        for did, account in accounts.items():
            if account["handle"] == handle:
                return JSONResponse({"did": did}, headers=headers)
        return invalid("Unable to resolve handle", headers)

    async def get_post_thread(request: Request) -> Response:
        headers = limits()
        bad = await misbehave(control, request, headers)
        if bad is not None:
            return bad
        q = request.query_params
        uri = q.get("uri", "")
        if not AT_URI.match(uri):
            return invalid("uri must be a valid at-uri", headers)
        try:
            depth, height = int(q.get("depth", "6")), int(q.get("parentHeight", "80"))
        except ValueError:
            return invalid("depth and parentHeight must be integers", headers)
        if not (0 <= depth <= 1000 and 0 <= height <= 1000):
            return invalid("depth and parentHeight must be between 0 and 1000", headers)
        found = posts.get(uri)
        if found is None or found.get("deleted"):
            return JSONResponse({"error": "NotFound", "message": f"Post not found: {uri}"}, status_code=400,
                                headers=headers)
        return JSONResponse({"thread": thread_view(request, found, depth)}, headers=headers)

    async def get_posts(request: Request) -> Response:
        headers = limits()
        bad = await misbehave(control, request, headers)
        if bad is not None:
            return bad
        uris = request.query_params.getlist("uris")
        if len(uris) > 25:
            return invalid("uris must not have more than 25 elements", headers)
        if not all(AT_URI.match(u) for u in uris):
            return invalid("uris must be valid at-uris", headers)
        return JSONResponse({"posts": [view(request, posts[u]) for u in uris if u in posts
                                       and not posts[u].get("deleted")]}, headers=headers)

    async def get_profile(request: Request) -> Response:
        headers = limits()
        bad = await misbehave(control, request, headers)
        if bad is not None:
            return bad
        actor = request.query_params.get("actor", "")
        actor = actor if actor.startswith("did:") else actor.lower()  # handles are case-insensitive
        found = next((did for did, a in accounts.items() if actor in (did, a["handle"])), None)
        if found is None:
            return invalid("Profile not found", headers)
        account = accounts[found]
        return JSONResponse({"did": found, "handle": account["handle"], "displayName": account["displayName"],
                             "avatar": f"{base(request)}/img/avatar/{found}.png"}, headers=headers)

    async def avatar(request: Request) -> Response:
        return Response(png((200, 120, 60)), media_type="image/png")

    async def add_account(request: Request) -> JSONResponse:
        """A test (or the atproto stand-in, for its own accounts) makes an account known: {handle, displayName}."""
        body = await request.json()
        handle = body["handle"].lower()
        accounts[did_of(handle)] = {"handle": handle, "displayName": body.get("displayName", handle)}
        return JSONResponse({"did": did_of(handle), "handle": handle})

    async def post(request: Request) -> JSONResponse:
        """A test posts or edits: {handle, text, display_name?, reply_to? (uri), uri? (edit), likes?, reposts?,
        facets?}. Accounts are made on first use."""
        body = await request.json()
        handle = body["handle"].lower()
        did = did_of(handle)
        accounts.setdefault(did, {"handle": handle, "displayName": body.get("display_name", handle)})
        uri = body.get("uri")
        if uri:
            old = posts[uri]
        else:
            rkey = f"3l{next(rkeys):011d}"
            uri = f"at://{did}/app.bsky.feed.post/{rkey}"
            parent = body.get("reply_to")
            old = {"uri": uri, "did": did, "n": time.time(), "parent": parent,
                   "root": (posts[parent].get("root") or parent) if parent else None,
                   "createdAt": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        old.update({k: body[k] for k in ("text", "likes", "reposts", "facets") if k in body})
        old["cid"] = "bafyrei" + hashlib.sha256(repr(sorted(old.items())).encode()).hexdigest()[:52]
        posts[uri] = old
        return JSONResponse({"uri": uri, "did": did, "url": f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[1]}"})

    async def delete(request: Request) -> JSONResponse:
        found = posts.get(request.query_params.get("uri", ""))
        if found:
            found["deleted"] = True
        return JSONResponse({"deleted": bool(found)})

    def reset() -> None:
        accounts.clear()
        posts.clear()
        know_sign_in_accounts()

    return Starlette(routes=[
        Route("/xrpc/com.atproto.identity.resolveHandle", resolve_handle),
        Route("/xrpc/app.bsky.feed.getPostThread", get_post_thread),
        Route("/xrpc/app.bsky.feed.getPosts", get_posts),
        Route("/xrpc/app.bsky.actor.getProfile", get_profile),
        Route("/img/avatar/{did}.png", avatar),
        Route("/_admin/posts", post, methods=["POST"]),
        Route("/_admin/posts", delete, methods=["DELETE"]),
        Route("/_admin/accounts", add_account, methods=["POST"]),
        *routes(control, reset),
    ])


if __name__ == "__main__":
    serve(create_app())
