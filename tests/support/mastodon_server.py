"""A local Mastodon server for tests: the public status API the worker uses, spoken as Mastodon 4.x
does, with its rate-limit headers and its anonymous limits, plus /_admin switches for a test to post,
edit and delete statuses, and to make the server slow, failing or garbled.

Endpoints (GET only, no authentication, as for any anonymous client):
  /api/v1/statuses/:id          a Status entity; 404 {"error": "Record not found"} when missing or private
  /api/v1/statuses/:id/context  {"ancestors": [...], "descendants": [...]}: public and unlisted
                                descendants, depth first, at most 60 (Mastodon's anonymous limit)
  /avatars/:name.png            the accounts' pictures

Run: python -m tests.support.mastodon_server --port P
"""

from __future__ import annotations

import argparse
import html
import itertools
from datetime import datetime, timezone
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .remote_common import Control, misbehave, png, routes

DESCENDANTS_LIMIT = 60


def create_app() -> Starlette:
    statuses: dict[str, dict[str, Any]] = {}
    ids = itertools.count(110_000_000_000_000_001)
    control = Control()

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.headers['host']}"

    def entity(request: Request, s: dict[str, Any]) -> dict[str, Any]:
        name = s["username"]
        home = base(request)
        replies = sum(1 for o in statuses.values() if o.get("in_reply_to_id") == s["id"] and not o.get("deleted"))
        return {
            "id": s["id"], "created_at": s["created_at"], "in_reply_to_id": s.get("in_reply_to_id"),
            "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": s["visibility"],
            "language": "en", "uri": f"{home}/users/{name}/statuses/{s['id']}", "url": f"{home}/@{name}/{s['id']}",
            "replies_count": replies, "reblogs_count": s.get("reblogs", 0), "favourites_count": s.get("favourites", 0),
            "edited_at": s.get("edited_at"), "content": s["content"], "reblog": None, "application": None,
            "account": {"id": str(abs(hash(name)) % 10**9), "username": name, "acct": name,
                        "display_name": s.get("display_name", name), "locked": False, "bot": False,
                        "url": f"{home}/@{name}", "avatar": f"{home}/avatars/{name}.png",
                        "avatar_static": f"{home}/avatars/{name}.png", "header": "", "followers_count": 0,
                        "following_count": 0, "statuses_count": 1, "note": "", "emojis": [], "fields": []},
            "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
        }

    def limits() -> dict[str, str]:
        remaining, reset = control.count()
        at = datetime.fromtimestamp(reset, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"X-RateLimit-Limit": str(control.limit), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": at}

    def visible(s: dict[str, Any] | None) -> bool:
        return s is not None and not s.get("deleted") and s["visibility"] in ("public", "unlisted")

    async def status(request: Request) -> Response:
        headers = limits()
        bad = await misbehave(control, request, headers)
        if bad is not None:
            return bad
        found = statuses.get(request.path_params["id"])
        if not visible(found):
            return JSONResponse({"error": "Record not found"}, status_code=404, headers=headers)
        return JSONResponse(entity(request, found), headers=headers)

    async def context(request: Request) -> Response:
        headers = limits()
        bad = await misbehave(control, request, headers)
        if bad is not None:
            return bad
        root = statuses.get(request.path_params["id"])
        if not visible(root):
            return JSONResponse({"error": "Record not found"}, status_code=404, headers=headers)
        out: list[dict[str, Any]] = []

        def walk(parent: str) -> None:
            for s in sorted(statuses.values(), key=lambda x: int(x["id"])):
                if s.get("in_reply_to_id") == parent and visible(s) and len(out) < DESCENDANTS_LIMIT:
                    out.append(entity(request, s))
                    walk(s["id"])
        walk(root["id"])
        return JSONResponse({"ancestors": [], "descendants": out}, headers=headers)

    async def avatar(request: Request) -> Response:
        return Response(png(), media_type="image/png")

    async def post(request: Request) -> JSONResponse:
        """A test posts or edits a status: {username, content (text; paragraphs made as Mastodon makes
        them), in_reply_to_id?, visibility?, display_name?, id? (edit), favourites?, reblogs?}."""
        body = await request.json()
        sid = body.get("id") or str(next(ids))
        old = statuses.get(sid, {})
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        content = body.get("content", old.get("raw"))
        mention = body.get("mention")
        paragraph = html.escape(content or "")
        if mention:
            paragraph = (f'<span class="h-card"><a href="{base(request)}/@{mention}" class="u-url mention">'
                         f'@<span>{mention}</span></a></span> ' + paragraph)
        statuses[sid] = {
            **old, "id": sid, "username": body.get("username", old.get("username")),
            "display_name": body.get("display_name", old.get("display_name", body.get("username"))),
            "in_reply_to_id": body.get("in_reply_to_id", old.get("in_reply_to_id")),
            "visibility": body.get("visibility", old.get("visibility", "public")),
            "raw": content, "content": body.get("html") or f"<p>{paragraph}</p>",
            "created_at": old.get("created_at", now), "edited_at": now if old else None,
            "favourites": body.get("favourites", old.get("favourites", 0)),
            "reblogs": body.get("reblogs", old.get("reblogs", 0)),
        }
        return JSONResponse({"id": sid, "url": f"{base(request)}/@{statuses[sid]['username']}/{sid}"})

    async def delete(request: Request) -> JSONResponse:
        found = statuses.get(request.path_params["id"])
        if found:
            found["deleted"] = True
        return JSONResponse({"deleted": bool(found)})

    def reset() -> None:
        statuses.clear()

    return Starlette(routes=[
        Route("/api/v1/statuses/{id}", status),
        Route("/api/v1/statuses/{id}/context", context),
        Route("/avatars/{name}.png", avatar),
        Route("/_admin/statuses", post, methods=["POST"]),
        Route("/_admin/statuses/{id}", delete, methods=["DELETE"]),
        *routes(control, reset),
    ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning", timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
