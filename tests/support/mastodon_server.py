"""A local Mastodon server for tests: the public status API the worker uses, spoken as Mastodon 4.x
does, with its rate-limit headers and its anonymous limits, plus /_admin switches for a test to post,
edit and delete statuses, and to make the server slow, failing or garbled.

Endpoints (GET only, no authentication, as for any anonymous client):
  /api/v1/statuses/:id          a Status entity; 404 {"error": "Record not found"} when missing or private
  /api/v1/statuses/:id/context  {"ancestors": [...], "descendants": [...]}: public and unlisted
                                descendants, depth first, at most 60 (Mastodon's anonymous limit)
  /avatars/:name.png            the accounts' pictures

Sign-in, as Mastodon speaks it to an app (strictly: anything else is refused with Mastodon's errors):
  POST /api/v1/apps                      {client_name, redirect_uris, scopes, website?} (form or JSON)
                                         -> {id, name, client_id, client_secret, redirect_uri, vapid_key}
  GET  /oauth/authorize                  response_type=code, client_id, redirect_uri (exactly as
                                         registered), scope (within the app's), state, code_challenge,
                                         code_challenge_method=S256 -> a page where the person signs in by
                                         name and presses Authorize (or Deny)
  POST /oauth/token                      grant_type=authorization_code, code (single use, 10 minutes),
                                         client_id, client_secret, redirect_uri, code_verifier (PKCE S256)
  GET  /api/v1/accounts/verify_credentials   Bearer token -> the account
/_admin/impersonate makes verify_credentials claim another server's profile URL (a hostile server).

Run: python -m tests.support.mastodon_server --port P
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import secrets
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .remote_common import Control, misbehave, png, routes, serve

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

    apps: dict[str, dict[str, str]] = {}
    codes: dict[str, dict[str, Any]] = {}
    tokens: dict[str, str] = {}
    lies: dict[str, str] = {}

    def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    async def form_or_json(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return await request.json()
        return dict(parse_qsl((await request.body()).decode()))

    async def register_app(request: Request) -> Response:
        body = await form_or_json(request)
        name, redirect = body.get("client_name"), body.get("redirect_uris")
        if not name or not redirect:
            return JSONResponse({"error": "Validation failed: Name can't be blank, Redirect URI must be "
                                          "an absolute URI"}, status_code=422)
        scopes = body.get("scopes") or "read"
        if not set(scopes.split()) <= {"read", "read:accounts", "write", "follow", "push", "profile"}:
            return JSONResponse({"error": "Validation failed: Scopes are invalid"}, status_code=422)
        cid = secrets.token_urlsafe(32)
        apps[cid] = {"name": name, "redirect": redirect, "scopes": scopes, "secret": secrets.token_urlsafe(32)}
        return JSONResponse({"id": str(len(apps)), "name": name, "website": body.get("website"),
                             "redirect_uri": redirect, "client_id": cid, "client_secret": apps[cid]["secret"],
                             "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="})

    async def authorize(request: Request) -> Response:
        q = dict(request.query_params) if request.method == "GET" else await form_or_json(request)
        app = apps.get(q.get("client_id", ""))
        if app is None:
            return HTMLResponse("<h1>Client authentication failed due to unknown client</h1>", status_code=401)
        if q.get("redirect_uri") != app["redirect"]:
            return HTMLResponse("<h1>The redirect uri included is not valid.</h1>", status_code=400)
        if q.get("response_type") != "code" or not set((q.get("scope") or "read").split()) <= set(app["scopes"].split()):
            return HTMLResponse("<h1>The requested scope is invalid, unknown, or malformed.</h1>", status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return HTMLResponse("<h1>Code challenge is required.</h1>", status_code=400)
        if request.method == "GET":
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in q.items())
            return HTMLResponse(f"""<!doctype html><html lang="en"><title>Authorize</title><body><main>
              <h1>{html.escape(app['name'])} would like to access your account</h1>
              <form method="post" action="/oauth/authorize">{hidden}
              <label for="who">Signed in as</label><input id="who" name="who" value="">
              <button name="decision" value="allow">Authorize</button>
              <button name="decision" value="deny">Deny</button></form></main></body></html>""")
        target = app["redirect"]
        state = q.get("state", "")
        if q.get("decision") != "allow":
            return RedirectResponse(f"{target}?error=access_denied&error_description=denied&state={state}", 302)
        code = secrets.token_urlsafe(24)
        codes[code] = {"client": q["client_id"], "redirect": target, "challenge": q["code_challenge"],
                       "who": q.get("who") or "alice", "at": time.time()}
        return RedirectResponse(f"{target}?code={code}&state={state}", 302)

    async def token(request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                                   "application/json")):
            return oauth_error("invalid_request", "unsupported content type")
        body = await form_or_json(request)
        app = apps.get(body.get("client_id", ""))
        if app is None or body.get("client_secret") != app["secret"]:
            return oauth_error("invalid_client", "Client authentication failed due to unknown client.", 401)
        if body.get("grant_type") != "authorization_code":
            return oauth_error("unsupported_grant_type", "The authorization grant type is not supported.")
        grant = codes.pop(body.get("code", ""), None)
        if grant is None or grant["client"] != body["client_id"] or grant["redirect"] != body.get("redirect_uri") \
                or time.time() - grant["at"] > 600:
            return oauth_error("invalid_grant", "The provided authorization grant is invalid, expired or revoked.")
        verifier = body.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if digest != grant["challenge"]:
            return oauth_error("invalid_grant", "The provided authorization grant is invalid, expired or revoked.")
        access = secrets.token_urlsafe(32)
        tokens[access] = grant["who"]
        return JSONResponse({"access_token": access, "token_type": "Bearer", "scope": app["scopes"],
                             "created_at": int(time.time())})

    async def verify_credentials(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        who = tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if who is None:
            return JSONResponse({"error": "The access token is invalid"}, status_code=401)
        home = base(request)
        return JSONResponse({"id": str(abs(hash(who)) % 10**9), "username": who, "acct": who,
                             "display_name": who.title(), "url": lies.get(who) or f"{home}/@{who}",
                             "avatar": f"{home}/avatars/{who}.png", "avatar_static": f"{home}/avatars/{who}.png",
                             "locked": False, "bot": False, "note": "", "emojis": [], "fields": [],
                             "followers_count": 0, "following_count": 0, "statuses_count": 0})

    async def impersonate(request: Request) -> JSONResponse:
        body = await request.json()
        lies[body["who"]] = body["url"]
        return JSONResponse({"ok": True})

    async def list_apps(request: Request) -> JSONResponse:
        return JSONResponse([{"client_id": k, **{n: v for n, v in a.items() if n != "secret"}} for k, a in apps.items()])

    def reset() -> None:
        statuses.clear()
        codes.clear()
        apps.clear()
        tokens.clear()
        lies.clear()

    return Starlette(routes=[
        Route("/api/v1/statuses/{id}", status),
        Route("/api/v1/statuses/{id}/context", context),
        Route("/avatars/{name}.png", avatar),
        Route("/_admin/statuses", post, methods=["POST"]),
        Route("/_admin/statuses/{id}", delete, methods=["DELETE"]),
        Route("/api/v1/apps", register_app, methods=["POST"]),
        Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/api/v1/accounts/verify_credentials", verify_credentials),
        Route("/_admin/impersonate", impersonate, methods=["POST"]),
        Route("/_admin/apps", list_apps),
        *routes(control, reset),
    ])


if __name__ == "__main__":
    serve(create_app())
