"""A local OAuth 2.0 / OpenID Connect provider that speaks the real protocol, strictly.

It plays X (OAuth 2.0 + PKCE, HTTP Basic client auth), Facebook (Graph API
shapes), GitHub and Google (OIDC discovery, RS256-signed id_tokens), each at
/<kind>/. It refuses what a real provider refuses: unknown clients, a
redirect_uri that is not the registered one, wrong client credentials, a code
used twice or late, and a PKCE verifier that does not match the challenge, so
tests that it refuses bad requests prove something.

Run: python -m tests.support.oauth_provider --port P --redirect-base http://localhost:8000
Test control: PUT /_control/user/<kind> {"id", "name", ...} sets the account the next login gets.
Like a real provider, a browser that allowed the app once (a cookie here) is sent straight back
with a code the next time, without a consent page: the case login CSRF relies on.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import secrets
import struct
import time
import zlib
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.forms import form_fields

KINDS = ("x", "facebook", "github", "google")
CODE_SECONDS = 60


def client_id(kind: str) -> str:
    return f"{kind}-client-id"


def client_secret(kind: str) -> str:
    return f"{kind}-client-secret"


def _png(r: int, g: int, b: int) -> bytes:
    """A 2x2 PNG of one colour, built by hand (no image library needed)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes([r, g, b]) * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def default_users(base: str) -> dict[str, dict[str, Any]]:
    # X and GitHub deliberately share the numeric id 1001: they must stay two people.
    return {
        "x": {"id": "1001", "name": "Xavier Example", "username": "xavier", "avatar": f"{base}/avatars/x.png"},
        "facebook": {"id": "2002", "name": "Fiona Facebook", "email": "fiona@example.com",
                     "avatar": f"{base}/avatars/facebook.png"},
        "github": {"id": "1001", "name": "Gita Hub", "login": "gita", "avatar": f"{base}/avatars/github.png"},
        "google": {"id": "3003", "name": "Gus Google", "email": "gus@example.com",
                   "avatar": f"{base}/avatars/google.png"},
    }


def create_provider(base: str, redirect_base: str) -> Starlette:
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
    users = default_users(base)
    codes: dict[str, dict[str, Any]] = {}
    tokens: dict[str, dict[str, Any]] = {}
    log: list[dict[str, Any]] = []  # what the provider refused, for tests to read

    def registered_redirect(kind: str) -> str:
        return f"{redirect_base}/auth/{kind}/callback"

    def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
        log.append({"error": error, "description": description})
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    def grant(kind: str, params: Any) -> Response:
        """Issue a code for these (already checked) authorization parameters and send the browser back."""
        redirect, state = str(params.get("redirect_uri", "")), str(params.get("state", ""))
        code = secrets.token_urlsafe(16)
        codes[code] = {"kind": kind, "redirect_uri": redirect, "challenge": params.get("code_challenge"),
                       "method": params.get("code_challenge_method"), "nonce": params.get("nonce"),
                       "user": dict(users[kind]), "expires": time.time() + CODE_SECONDS}
        return RedirectResponse(f"{redirect}?{urlencode({'code': code, 'state': state})}", 302)

    async def authorize(request: Request) -> Response:
        kind = request.path_params["kind"]
        q = request.query_params
        if kind not in KINDS or q.get("client_id") != client_id(kind):
            return HTMLResponse("<h1>Unknown client</h1>", status_code=400)
        if q.get("redirect_uri") != registered_redirect(kind):
            # Never redirect to an unregistered URI: show the error here instead.
            log.append({"error": "invalid_redirect_uri", "description": q.get("redirect_uri", "")})
            return HTMLResponse("<h1>redirect_uri does not match the registered one</h1>", status_code=400)
        if q.get("response_type") != "code" or not q.get("state"):
            return HTMLResponse("<h1>response_type=code and state are required</h1>", status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            # Every kind here insists on PKCE (X requires it; the others accept it and Rejoinder sends it).
            log.append({"error": "pkce_required", "description": kind})
            return HTMLResponse(f"<h1>{kind} requires PKCE with S256</h1>", status_code=400)
        if kind == "google" and "openid" not in (q.get("scope") or "").split():
            return HTMLResponse("<h1>scope must include openid</h1>", status_code=400)
        if request.cookies.get(f"granted_{kind}") == "1" and q.get("prompt") != "consent":
            # Like a real provider, a browser that already allowed this app is sent straight back.
            return grant(kind, q)
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in q.items())
        name = html.escape(users[kind]["name"])
        return HTMLResponse(
            f'<!doctype html><title>Authorize</title><h1>{kind}: allow Rejoinder to know who you are?</h1>'
            f'<p>Signed in as {name}.</p>'
            f'<form method="post" action="/{kind}/consent">{hidden}<button name="decision" value="allow">Allow</button>'
            f'<button name="decision" value="deny">Deny</button></form>')

    async def consent(request: Request) -> Response:
        kind = request.path_params["kind"]
        form = await form_fields(request)
        redirect = str(form.get("redirect_uri", ""))
        if kind not in KINDS or redirect != registered_redirect(kind) or form.get("client_id") != client_id(kind):
            return HTMLResponse("<h1>bad consent</h1>", status_code=400)
        state = str(form.get("state", ""))
        if form.get("decision") != "allow":
            return RedirectResponse(f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}", 302)
        answer = grant(kind, form)
        answer.set_cookie(f"granted_{kind}", "1", httponly=True, samesite="lax")
        return answer

    async def token(request: Request) -> Response:
        kind = request.path_params["kind"]
        form = await form_fields(request)
        auth = request.headers.get("authorization", "")
        if kind == "x":
            # X: confidential clients authenticate with HTTP Basic, and only so.
            expected = "Basic " + base64.b64encode(f"{client_id(kind)}:{client_secret(kind)}".encode()).decode()
            if auth != expected:
                return oauth_error("invalid_client", "HTTP Basic client authentication failed", 401)
        else:
            ok_basic = auth == "Basic " + base64.b64encode(
                f"{client_id(kind)}:{client_secret(kind)}".encode()).decode()
            ok_post = form.get("client_id") == client_id(kind) and form.get("client_secret") == client_secret(kind)
            if not (ok_basic or ok_post):
                return oauth_error("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            return oauth_error("unsupported_grant_type", "only authorization_code")
        grant = codes.pop(str(form.get("code", "")), None)  # single use: gone once tried
        if grant is None or grant["kind"] != kind:
            return oauth_error("invalid_grant", "unknown or already used code")
        if grant["expires"] < time.time():
            return oauth_error("invalid_grant", "code expired")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
        if grant["challenge"]:
            verifier = str(form.get("code_verifier", ""))
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant["method"] != "S256" or digest != grant["challenge"]:
                return oauth_error("invalid_grant", "PKCE verifier does not match")
        access = secrets.token_urlsafe(24)
        tokens[access] = {"kind": kind, "user": grant["user"]}
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer", "expires_in": 3600}
        if kind == "google":
            now = int(time.time())
            user = grant["user"]
            claims = {"iss": f"{base}/google", "aud": client_id(kind), "sub": user["id"], "iat": now,
                      "exp": now + 600, "nonce": grant["nonce"], "name": user["name"], "picture": user["avatar"],
                      "email": user.get("email", ""), "email_verified": True}
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, key)
            body["scope"] = "openid email profile"
        return JSONResponse(body)

    def bearer(request: Request, kind: str) -> dict[str, Any] | None:
        auth = request.headers.get("authorization", "")
        found = tokens.get(auth[7:]) if auth.lower().startswith("bearer ") else None
        return found["user"] if found and found["kind"] == kind else None

    async def userinfo(request: Request) -> Response:
        kind = request.path_params.get("kind", "x")
        user = bearer(request, kind)
        if user is None:
            return oauth_error("invalid_token", "bad access token", 401)
        if kind == "x":
            return JSONResponse({"data": {"id": user["id"], "name": user["name"], "username": user.get("username", ""),
                                          "profile_image_url": user["avatar"]}})
        if kind == "facebook":
            return JSONResponse({"id": user["id"], "name": user["name"], "email": user.get("email"),
                                 "picture": {"data": {"url": user["avatar"], "is_silhouette": False}}})
        if kind == "github":
            return JSONResponse({"id": int(user["id"]), "login": user.get("login", ""), "name": user["name"],
                                 "avatar_url": user["avatar"], "html_url": f"https://github.com/{user.get('login')}"})
        return JSONResponse({"sub": user["id"], "name": user["name"], "picture": user["avatar"]})

    async def discovery(request: Request) -> JSONResponse:
        g = f"{base}/google"
        return JSONResponse({"issuer": g, "authorization_endpoint": f"{g}/authorize", "token_endpoint": f"{g}/token",
                             "userinfo_endpoint": f"{g}/userinfo", "jwks_uri": f"{g}/jwks",
                             "response_types_supported": ["code"], "subject_types_supported": ["public"],
                             "id_token_signing_alg_values_supported": ["RS256"],
                             "code_challenge_methods_supported": ["S256"]})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(KeySet([key]).as_dict(private=False))

    async def avatar(request: Request) -> Response:
        colours = {"x": (20, 20, 20), "facebook": (24, 119, 242), "github": (110, 84, 148), "google": (52, 168, 83)}
        kind = request.path_params["kind"].removesuffix(".png")
        return Response(_png(*colours.get(kind, (200, 0, 0))), media_type="image/png")

    async def redirect(request: Request) -> Response:
        """GET /_control/redirect?to=URL: a picture that has moved (a test points an account's avatar here)."""
        return RedirectResponse(request.query_params.get("to", "/"), 302)

    async def set_user(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        users[kind] = {**users[kind], **(await request.json())}
        return JSONResponse(users[kind])

    async def refusals(request: Request) -> JSONResponse:
        return JSONResponse(log)

    return Starlette(routes=[
        Route("/google/.well-known/openid-configuration", discovery),
        Route("/google/jwks", jwks),
        Route("/avatars/{kind}", avatar),
        Route("/_control/user/{kind}", set_user, methods=["PUT"]),
        Route("/_control/redirect", redirect),
        Route("/_control/refusals", refusals),
        Route("/{kind}/authorize", authorize),
        Route("/{kind}/consent", consent, methods=["POST"]),
        Route("/{kind}/token", token, methods=["POST"]),
        Route("/x/2/users/me", userinfo, name="x-me"),
        Route("/{kind}/me", userinfo),
        Route("/{kind}/user", userinfo),
        Route("/{kind}/userinfo", userinfo),
    ])


def app_env(base: str) -> dict[str, str]:
    """The REJOINDER_* settings that point every provider at this local one."""
    env = {}
    for kind in KINDS:
        env[f"REJOINDER_{kind.upper()}_CLIENT_ID"] = client_id(kind)
        env[f"REJOINDER_{kind.upper()}_CLIENT_SECRET"] = client_secret(kind)
    env.update({
        "REJOINDER_X_AUTHORIZE_URL": f"{base}/x/authorize", "REJOINDER_X_TOKEN_URL": f"{base}/x/token",
        "REJOINDER_X_USERINFO_URL": f"{base}/x/2/users/me?user.fields=profile_image_url",
        "REJOINDER_FACEBOOK_AUTHORIZE_URL": f"{base}/facebook/authorize",
        "REJOINDER_FACEBOOK_TOKEN_URL": f"{base}/facebook/token",
        "REJOINDER_FACEBOOK_USERINFO_URL": f"{base}/facebook/me?fields=id,name,picture,email",
        "REJOINDER_GITHUB_AUTHORIZE_URL": f"{base}/github/authorize",
        "REJOINDER_GITHUB_TOKEN_URL": f"{base}/github/token",
        "REJOINDER_GITHUB_USERINFO_URL": f"{base}/github/user",
        "REJOINDER_GOOGLE_DISCOVERY_URL": f"{base}/google/.well-known/openid-configuration",
    })
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redirect-base", required=True, help="the Rejoinder server's public URL")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    uvicorn.run(create_provider(base, args.redirect_base.rstrip("/")), host="127.0.0.1", port=args.port,
                log_level="warning")


if __name__ == "__main__":
    main()
