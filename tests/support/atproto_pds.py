"""A local AT Protocol world for the Bluesky sign-in tests: a PLC directory, a PDS, and that PDS's own OAuth
authorization server (as a self-hosted PDS is), speaking the atproto profile of OAuth strictly
(https://atproto.com/specs/oauth): PAR, PKCE S256, DPoP with server nonces, client metadata fetched from the
client_id URL.

All of it is one origin, the issuer http://127.0.0.1:PORT (AtprotoPds.base).

PLC directory (our setting: REJOINDER_BLUESKY_PLC=<issuer>/plc)
  GET  /plc/{did}     the DID document: alsoKnownAs ["at://<handle>"], a Multikey, and the #atproto_pds
                      service naming the account's PDS (this server, unless the account was added with
                      another `pds`); 404 {"message": "DID not registered: …"} for an unknown DID
PDS (resource server)
  GET  /.well-known/oauth-protected-resource     {"resource": issuer, "authorization_servers": [issuer]}
  GET  /xrpc/com.atproto.identity.resolveHandle?handle=   {"did"} for an account hosted here
  GET  /xrpc/app.bsky.actor.getProfile?actor=             {"did", "handle", "displayName"} of one (the demo
                      points REJOINDER_BLUESKY_APPVIEW here: these two are all sign-in asks the AppView)
Authorization server
  GET  /.well-known/oauth-authorization-server   RFC 8414 metadata with the fields the atproto profile requires
  POST /oauth/par      DPoP header; form client_id, response_type=code, redirect_uri, scope (with "atproto"),
                       state, code_challenge, code_challenge_method=S256, login_hint? (handle or DID)
                       -> 201 {"request_uri": "urn:ietf:params:oauth:request_uri:…", "expires_in": 90}
  GET  /oauth/authorize?client_id=&request_uri=   the consent page: buttons #accept and #deny (name=decision,
                       value accept|deny), and a #handle field when the request had no login_hint
  POST /oauth/authorize   that form -> 302 redirect_uri?code=&state=&iss=, or ?error=access_denied&state=&iss=
  POST /oauth/token    DPoP header (the key of the PAR); form grant_type=authorization_code, code, redirect_uri,
                       client_id, code_verifier (or grant_type=refresh_token, refresh_token, client_id)
                       -> {"access_token", "token_type": "DPoP", "expires_in", "refresh_token"?, "scope", "sub"}
DPoP proofs: an ES256 JWT with typ "dpop+jwt" and the public P-256 `jwk` in its header; claims jti (never seen
before), htm, htu (the endpoint URL, no query), iat (within IAT_WINDOW of now) and nonce. Without a nonce, or
with one that is not current: 400 {"error": "use_dpop_nonce"}; every answer carries the current DPoP-Nonce.
Refusals are OAuth's {"error", "error_description"}: invalid_request, invalid_client (401),
invalid_client_metadata, invalid_scope, unsupported_response_type, unsupported_grant_type, invalid_grant,
invalid_dpop_proof, use_dpop_nonce.

Test switches
  POST /_admin/accounts {handle, displayName, pds?}   host an account (DID: bluesky_server.did_of(handle));
       `pds` makes its DID document name another server. Started with --appview (as the atproto_pds fixture
       does), the account is registered with the Bluesky AppView stand-in too, so resolveHandle and
       getProfile know it there: this is the one place a test adds a sign-in account.
  GET  /_admin/accounts       the hosted accounts (ann.test and bob.test from the start)
  POST /_admin/nonce          rotate the DPoP nonce: the old one is refused from then on
  POST /_admin/mode {"mode"}  remote_common's fail (502) | garbage | slow | huge | rate_limited | wrong_shape,
       and wrong_sub: the token endpoint names another account than the one who consented
  GET  /_admin/requests       each request: path, query, method, form, and its DPoP proof's header and claims
  POST /_admin/reset          the two first accounts only, a new nonce, mode ok, nothing recorded

Simpler than the real thing, on purpose:
  - client_id and redirect URIs may be http on localhost/127.0.0.1 with a port (our server in tests is
    http://localhost:PORT); the spec wants https without a port, and its portless "http://localhost" virtual
    client (no metadata fetched) is not supported.
  - public clients only: token_endpoint_auth_method must be "none"; private_key_jwt is advertised (the
    profile requires it) but refused, as is any client_assertion.
  - one nonce at a time, changed only by /_admin/nonce (real servers rotate every few minutes and accept the
    previous nonce for a while): a client that does not retry on use_dpop_nonce fails here at once.
  - signing in is pressing Accept: no password, no session cookie, the whole requested scope is granted.
  - no endpoint takes the access token, no CORS headers, client metadata is fetched afresh for each PAR.

Run: python -m tests.support.atproto_pds --port P [--appview URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .bluesky_server import SIGN_IN_ACCOUNTS, did_of
from .remote_common import Control, misbehave, routes

# Long enough for a browser test to load the consent page and click; a pushed request is meant for at once.
REQUEST_LIFETIME = 90
# A client redeems its code as soon as the redirect lands: a minute covers a slow CI machine.
CODE_LIFETIME = 60
# The 5 minutes the atproto profile recommends for access tokens.
ACCESS_LIFETIME = 300
# A proof is made just before its request and this machine has one clock: a minute either way is ample, and
# a proof older than that is refused anyway, so the log of seen jti values forgets it then.
IAT_WINDOW = 60
# A client metadata document is a few hundred bytes; an answer this big is not one.
METADATA_MAX_BYTES = 64 * 1024
FORM_MAX_BYTES = 64 * 1024  # the cap of tests/support/forms.py; an OAuth form is well under 2 KiB

HANDLE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636's verifier (and a base64url S256 challenge)
LOOPBACK = ("localhost", "127.0.0.1", "::1")
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class Refusal(Exception):
    """An OAuth error answer: {"error", "error_description"} with its status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def answer(self, headers: dict[str, str]) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, status_code=self.status,
                            headers=headers)


def multikey() -> str:
    """A fresh P-256 public key as a DID document's Multikey ("zDn…"); nothing checks signatures with it here."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962,
                                                                              PublicFormat.CompressedPoint)
    data = b"\x80\x24" + point  # the multicodec varint of p256-pub
    number, text = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = BASE58[digit] + text
    return "z" + text


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def web_url(url: str) -> bool:
    """An absolute https URL (or http on a loopback host, the stand-in's relaxation), without credentials or
    fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return False
    if parts.username or parts.password or parts.fragment or not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def peek(proof: str | None) -> dict[str, Any] | None:
    """A DPoP proof's header and claims, unverified, for the request log."""
    if not proof:
        return None
    try:
        compact = jws.extract_compact(proof.encode())
        return {"header": compact.protected, "claims": json.loads(compact.payload)}
    except (JoseError, ValueError):
        return {"unreadable": proof[:200]}


async def read_form(request: Request) -> dict[str, str] | None:
    """The posted form; None unless it is urlencoded, small, and names each field once (OAuth forbids repeats)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind != "application/x-www-form-urlencoded" or len(body) > FORM_MAX_BYTES:
        return None
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    fields = dict(pairs)
    return fields if len(fields) == len(pairs) else None


@dataclass
class World:
    """Everything the server remembers; /_admin/reset starts a new one."""

    accounts: dict[str, dict[str, str]] = field(default_factory=dict)  # did -> handle, displayName, pds, key
    pushed: dict[str, dict[str, Any]] = field(default_factory=dict)  # request_uri -> the PAR, bound to a key
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> the consented request
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)  # refresh token -> its session
    states: set[str] = field(default_factory=set)
    challenges: set[str] = field(default_factory=set)
    jtis: dict[str, int] = field(default_factory=dict)  # jti -> iat of the proof that carried it
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def create_app(issuer: str, appview: str | None = None) -> Starlette:
    control = Control()
    world = World()

    def host(handle: str, name: str, pds: str | None = None) -> dict[str, str]:
        account = {"handle": handle, "displayName": name, "pds": pds or issuer, "key": multikey()}
        world.accounts[did_of(handle)] = account
        return account

    def reset() -> None:
        nonlocal world
        world = World()
        for handle, name in SIGN_IN_ACCOUNTS.items():
            host(handle, name)
    reset()

    def account_named(name: str) -> str | None:
        """The DID of the hosted account a login_hint or a typed handle names (a DID, or a handle in any case)."""
        name = name.strip().removeprefix("@")
        if name.startswith("did:"):
            return name if name in world.accounts else None
        return next((did for did, a in world.accounts.items() if a["handle"] == name.lower()), None)

    def headers() -> dict[str, str]:
        return {"DPoP-Nonce": world.nonce, "Cache-Control": "no-store"}

    async def arrive(request: Request) -> tuple[dict[str, str] | None, Response | None]:
        """Read the form, record the request, and play the failure a test switched on (None when well)."""
        form = await read_form(request) if request.method == "POST" else {}
        mark = len(control.requests)  # misbehave() appends this request's entry before it first waits
        bad = await misbehave(control, request, headers())
        if mark < len(control.requests):
            control.requests[mark].update(method=request.method, form=form,
                                          dpop=peek(request.headers.get("dpop")))
        return form, bad

    def check_dpop(request: Request) -> str:
        """The JWK thumbprint of the key that signed the request's DPoP proof, once the proof holds (RFC 9449)."""
        proofs = request.headers.getlist("dpop")
        if len(proofs) != 1:
            raise Refusal("invalid_dpop_proof", "exactly one DPoP proof header is required")
        try:
            header = jws.extract_compact(proofs[0].encode()).protected
        except (JoseError, ValueError):
            raise Refusal("invalid_dpop_proof", "the DPoP proof is not a compact JWS") from None
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            raise Refusal("invalid_dpop_proof", 'the DPoP proof must have typ "dpop+jwt" and alg "ES256"')
        jwk = header.get("jwk")
        # A private key in the header would give the signing key to whoever sees the proof.
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
            raise Refusal("invalid_dpop_proof", "the DPoP proof header must hold the public P-256 jwk")
        try:
            key = ECKey.import_key(jwk)
            claims = jwt.decode(proofs[0], key, algorithms=["ES256"]).claims
        except (JoseError, ValueError):
            raise Refusal("invalid_dpop_proof", "the DPoP proof's signature does not verify") from None
        # A proof made for another endpoint or method cannot be replayed here.
        if claims.get("htm") != request.method or claims.get("htu") != issuer + request.url.path:
            raise Refusal("invalid_dpop_proof", f"the DPoP proof must have htm {request.method} and htu "
                                                f"{issuer + request.url.path}")
        now, iat, jti = time.time(), claims.get("iat"), claims.get("jti")
        if not isinstance(iat, int) or abs(now - iat) > IAT_WINDOW:
            raise Refusal("invalid_dpop_proof", f"the DPoP proof's iat must be within {IAT_WINDOW}s of now")
        if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
            raise Refusal("invalid_dpop_proof", "the DPoP proof needs a jti")
        for old in [j for j, at in world.jtis.items() if at < now - IAT_WINDOW]:
            del world.jtis[old]
        # A captured proof sent again is refused even while its iat is fresh.
        if jti in world.jtis:
            raise Refusal("invalid_dpop_proof", "the DPoP proof's jti was used before")
        world.jtis[jti] = iat
        if claims.get("nonce") != world.nonce:
            raise Refusal("use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
        return key.thumbprint()

    async def client_metadata(client_id: str) -> dict[str, Any]:
        """The client's metadata document, fetched from its client_id as a real server would."""
        if not web_url(client_id):
            raise Refusal("invalid_client", "client_id must be an https URL (or http on localhost here)", 401)
        try:
            async with httpx2.AsyncClient(timeout=5, follow_redirects=False, trust_env=False) as http:
                answer = await http.get(client_id, headers={"Accept": "application/json"})
        except httpx2.HTTPError as error:
            raise Refusal("invalid_client_metadata",
                          f"client metadata could not be fetched from {client_id}: {type(error).__name__}") from None
        if answer.status_code != 200:
            raise Refusal("invalid_client_metadata", f"client metadata answered {answer.status_code}, not 200")
        if answer.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Refusal("invalid_client_metadata", "client metadata must be served as application/json")
        if len(answer.content) > METADATA_MAX_BYTES:
            raise Refusal("invalid_client_metadata", "client metadata is too large")
        try:
            document = answer.json()
        except ValueError:
            raise Refusal("invalid_client_metadata", "client metadata is not JSON") from None
        if not isinstance(document, dict):
            raise Refusal("invalid_client_metadata", "client metadata must be a JSON object")
        return document

    def check_client(document: dict[str, Any], form: dict[str, str]) -> None:
        """The metadata document holds, and allows this request (the atproto profile's client rules)."""
        def listed(name: str) -> list[Any]:
            value = document.get(name)
            return value if isinstance(value, list) else []
        if document.get("client_id") != form["client_id"]:
            raise Refusal("invalid_client_metadata", "client metadata must name its own URL as client_id")
        if document.get("application_type", "web") not in ("web", "native"):
            raise Refusal("invalid_client_metadata", 'application_type must be "web" or "native"')
        if "code" not in listed("response_types") or "authorization_code" not in listed("grant_types"):
            raise Refusal("invalid_client_metadata", 'response_types needs "code", grant_types "authorization_code"')
        if document.get("dpop_bound_access_tokens") is not True:
            raise Refusal("invalid_client_metadata", "dpop_bound_access_tokens must be true")
        declared = document.get("scope")
        if not isinstance(declared, str) or "atproto" not in declared.split():
            raise Refusal("invalid_client_metadata", 'scope must declare "atproto"')
        method = document.get("token_endpoint_auth_method")
        if method == "private_key_jwt":
            raise Refusal("invalid_client", "confidential clients (private_key_jwt) are not supported here", 401)
        if method != "none":
            raise Refusal("invalid_client_metadata", 'token_endpoint_auth_method must be "none"')
        # An unlisted redirect_uri would send the code to whoever wrote the request.
        if form.get("redirect_uri", "") not in listed("redirect_uris") or not web_url(form["redirect_uri"]):
            raise Refusal("invalid_request", "redirect_uri is not one of the client metadata's redirect_uris")
        requested = form.get("scope", "").split()
        if "atproto" not in requested or not set(requested) <= set(declared.split()):
            raise Refusal("invalid_scope", 'scope must include "atproto" and stay within the client metadata\'s')

    async def push_request(request: Request) -> Response:
        """POST /oauth/par: store an authorization request, bound to the DPoP key that pushed it.

        Errors: invalid_dpop_proof, use_dpop_nonce, invalid_request, invalid_client (401),
        invalid_client_metadata, invalid_scope, unsupported_response_type."""
        form, bad = await arrive(request)
        if bad is not None:
            return bad
        try:
            jkt = check_dpop(request)
            if form is None:
                raise Refusal("invalid_request", "the body must be a form, each field once")
            if "client_secret" in form or "request" in form or "request_uri" in form:
                raise Refusal("invalid_request", "client_secret, request and request_uri are not accepted")
            if "client_assertion" in form or "client_assertion_type" in form:
                raise Refusal("invalid_client", "confidential clients (private_key_jwt) are not supported here", 401)
            document = await client_metadata(form.get("client_id", ""))
            check_client(document, form)
            if form.get("response_type") != "code":
                raise Refusal("unsupported_response_type", 'response_type must be "code"')
            if form.get("code_challenge_method") != "S256" or not PKCE_VALUE.match(form.get("code_challenge", "")):
                raise Refusal("invalid_request", "PKCE is required: code_challenge with code_challenge_method S256")
            if not form.get("state"):
                raise Refusal("invalid_request", "state is required")
            # A repeated state or challenge is a replayed request, or a client that does not make new ones.
            if form["state"] in world.states or form["code_challenge"] in world.challenges:
                raise Refusal("invalid_request", "state and code_challenge must be new for every request")
            did = account_named(form["login_hint"]) if "login_hint" in form else None
            if "login_hint" in form and did is None:
                raise Refusal("invalid_request", "login_hint names no account hosted here")
        except Refusal as refusal:
            return refusal.answer(headers())
        world.states.add(form["state"])
        world.challenges.add(form["code_challenge"])
        request_uri = "urn:ietf:params:oauth:request_uri:req-" + secrets.token_urlsafe(24)
        world.pushed[request_uri] = {
            "client_id": form["client_id"], "client_name": str(document.get("client_name") or ""),
            "redirect_uri": form["redirect_uri"], "scope": form["scope"], "state": form["state"],
            "challenge": form["code_challenge"], "did": did, "jkt": jkt, "grant_types": document["grant_types"],
            "expires": time.time() + REQUEST_LIFETIME, "used": False}
        return JSONResponse({"request_uri": request_uri, "expires_in": REQUEST_LIFETIME}, status_code=201,
                            headers=headers())

    def page(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Sign in to '
                            f'{html.escape(issuer)}</title><body><main>{body}</main></body></html>',
                            status_code=status, headers=headers())

    def consent_page(uri: str, pushed: dict[str, Any], error: str = "", status: int = 200) -> HTMLResponse:
        e = html.escape
        if pushed["did"]:
            account = world.accounts[pushed["did"]]
            who = (f'<p id="account">Signed in as <strong>@{e(account["handle"])}</strong> '
                   f'({e(account["displayName"])})</p>')
        else:
            who = '<label for="handle">Your handle</label> <input id="handle" name="handle" autocomplete="username">'
        # The client's own name is unverified (anyone can write any client_name): the URL comes first.
        name = f' (it calls itself “{e(pushed["client_name"])}”)' if pushed["client_name"] else ""
        return page(f"""<h1>Sign in with your account</h1>
          <p>The app at <code id="client">{e(pushed['client_id'])}</code>{name} asks for: {e(pushed['scope'])}</p>
          <form method="post" action="/oauth/authorize">
          <input type="hidden" name="client_id" value="{e(pushed['client_id'])}">
          <input type="hidden" name="request_uri" value="{e(uri)}">
          {who}{f'<p id="error" role="alert">{e(error)}</p>' if error else ''}
          <button id="accept" name="decision" value="accept">Accept</button>
          <button id="deny" name="decision" value="deny">Deny</button></form>""", status)

    def back_to(pushed: dict[str, Any], **params: str) -> RedirectResponse:
        """The authorization response: redirect_uri with the params added to its own query."""
        parts = urlsplit(pushed["redirect_uri"])
        query = "&".join(q for q in (parts.query, urlencode({**params, "state": pushed["state"], "iss": issuer})) if q)
        return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302, headers=headers())

    async def authorize(request: Request) -> Response:
        """GET /oauth/authorize shows the consent page for a pushed request; POST answers it.

        Errors (an HTML page, never a redirect: the request is not trusted yet): 400 for an unknown, expired,
        used or other client's request_uri, and for a handle typed that is not hosted here."""
        form, bad = await arrive(request)
        if bad is not None:
            return bad
        params = dict(request.query_params) if request.method == "GET" else form or {}
        uri = params.get("request_uri", "")
        pushed = world.pushed.get(uri)
        if pushed is None:
            return page("<h1>Unknown request</h1><p>request_uri was not pushed to /oauth/par.</p>", 400)
        if pushed["client_id"] != params.get("client_id"):
            return page("<h1>Wrong client</h1><p>This request_uri belongs to another client_id.</p>", 400)
        if pushed["used"] or time.time() > pushed["expires"]:
            return page("<h1>Request used or expired</h1><p>Start the sign-in again.</p>", 400)
        if request.method == "GET":
            return consent_page(uri, pushed)
        decision = params.get("decision")
        if decision not in ("accept", "deny"):
            return consent_page(uri, pushed, "Press Accept or Deny.", 400)
        did = pushed["did"] or account_named(params.get("handle", ""))
        if decision == "accept" and did is None:
            return consent_page(uri, pushed, "No account with that handle is hosted here.", 400)
        pushed["used"] = True
        if decision == "deny":
            return back_to(pushed, error="access_denied", error_description="The user denied the request")
        code = "cod-" + secrets.token_urlsafe(32)
        world.codes[code] = {**pushed, "did": did, "expires": time.time() + CODE_LIFETIME, "session": None}
        return back_to(pushed, code=code)

    def tokens(session: dict[str, Any]) -> JSONResponse:
        """New tokens for a session; a refresh token only for a client that declared the refresh_token grant."""
        sub = session["did"]
        if control.mode == "wrong_sub":  # a broken or lying server: the client must notice
            sub = next((did for did in world.accounts if did != sub), did_of("mallory.test"))
        body: dict[str, Any] = {"access_token": "acc-" + secrets.token_urlsafe(32), "token_type": "DPoP",
                                "expires_in": ACCESS_LIFETIME, "scope": session["scope"], "sub": sub}
        if "refresh_token" in session["grant_types"]:
            body["refresh_token"] = "ref-" + secrets.token_urlsafe(32)
            world.refresh[body["refresh_token"]] = session
        return JSONResponse(body, headers={**headers(), "Pragma": "no-cache"})

    def redeem_code(form: dict[str, str], jkt: str) -> JSONResponse:
        grant = world.codes.get(form.get("code", ""))
        if grant is None:
            raise Refusal("invalid_grant", "unknown code")
        if grant.get("spent"):
            # A code presented twice was intercepted or replayed: the session it made ends too.
            if grant["session"] is not None:
                grant["session"]["revoked"] = True
            raise Refusal("invalid_grant", "the code was already used")
        grant["spent"] = True  # any presentation spends it, so a wrong guess cannot be followed by another
        if time.time() > grant["expires"]:
            raise Refusal("invalid_grant", "the code has expired")
        if form.get("client_id") != grant["client_id"] or form.get("redirect_uri") != grant["redirect_uri"]:
            raise Refusal("invalid_grant", "client_id and redirect_uri must be those of the authorization request")
        # A stolen code is useless without the key the request was pushed with.
        if jkt != grant["jkt"]:
            raise Refusal("invalid_grant", "the DPoP key is not the one the request was pushed with")
        verifier = form.get("code_verifier", "")
        if not PKCE_VALUE.match(verifier) or not secrets.compare_digest(s256(verifier), grant["challenge"]):
            raise Refusal("invalid_grant", "code_verifier does not match code_challenge")
        grant["session"] = {"did": grant["did"], "client_id": grant["client_id"], "jkt": jkt,
                            "scope": grant["scope"], "grant_types": grant["grant_types"], "revoked": False}
        return tokens(grant["session"])

    def refresh_session(form: dict[str, str], jkt: str) -> JSONResponse:
        session = world.refresh.pop(form.get("refresh_token", ""), None)  # refresh tokens are single use
        if session is None or session["revoked"]:
            raise Refusal("invalid_grant", "unknown, used or revoked refresh token")
        if form.get("client_id") != session["client_id"] or jkt != session["jkt"]:
            raise Refusal("invalid_grant", "the refresh token belongs to another client or DPoP key")
        return tokens(session)

    async def issue_token(request: Request) -> Response:
        """POST /oauth/token: the authorization_code grant (PKCE, same DPoP key as the PAR) and refresh_token.

        Errors: invalid_dpop_proof, use_dpop_nonce, invalid_request, invalid_client (401), invalid_grant,
        unsupported_grant_type."""
        form, bad = await arrive(request)
        if bad is not None:
            return bad
        try:
            jkt = check_dpop(request)
            if form is None:
                raise Refusal("invalid_request", "the body must be a form, each field once")
            if "client_secret" in form:
                raise Refusal("invalid_request", "client_secret is not accepted")
            if "client_assertion" in form or "client_assertion_type" in form:
                raise Refusal("invalid_client", "confidential clients (private_key_jwt) are not supported here", 401)
            if form.get("grant_type") == "authorization_code":
                return redeem_code(form, jkt)
            if form.get("grant_type") == "refresh_token":
                return refresh_session(form, jkt)
            raise Refusal("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        except Refusal as refusal:
            return refusal.answer(headers())

    async def plc_document(request: Request) -> Response:
        """GET /plc/{did}: the DID document, as plc.directory answers it; 404 for an unknown DID."""
        _, bad = await arrive(request)
        if bad is not None:
            return bad
        did = request.path_params["did"]
        account = world.accounts.get(did)
        if account is None:
            return JSONResponse({"message": f"DID not registered: {did}"}, status_code=404, headers=headers())
        return JSONResponse({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did, "alsoKnownAs": [f"at://{account['handle']}"],
            "verificationMethod": [{"id": f"{did}#atproto", "type": "Multikey", "controller": did,
                                    "publicKeyMultibase": account["key"]}],
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                         "serviceEndpoint": account["pds"]}],
        }, headers=headers())

    async def resolve_handle(request: Request) -> Response:
        """GET /xrpc/com.atproto.identity.resolveHandle: the DID of a handle hosted here (a PDS answers this)."""
        _, bad = await arrive(request)
        if bad is not None:
            return bad
        did = account_named(request.query_params.get("handle", "")) if request.query_params.get("handle") else None
        if did is None:
            return JSONResponse({"error": "InvalidRequest", "message": "Unable to resolve handle"}, status_code=400,
                                headers=headers())
        return JSONResponse({"did": did}, headers=headers())

    async def get_profile(request: Request) -> Response:
        """GET /xrpc/app.bsky.actor.getProfile?actor=: a hosted account's public profile (a PDS answers this by
        asking its AppView; here, from what it hosts; no picture)."""
        _, bad = await arrive(request)
        if bad is not None:
            return bad
        actor = request.query_params.get("actor", "")
        did = account_named(actor) if actor else None
        if did is None:
            return JSONResponse({"error": "InvalidRequest", "message": "Profile not found"}, status_code=400,
                                headers=headers())
        account = world.accounts[did]
        return JSONResponse({"did": did, "handle": account["handle"], "displayName": account["displayName"]},
                            headers=headers())

    async def protected_resource(request: Request) -> Response:
        _, bad = await arrive(request)
        if bad is not None:
            return bad
        return JSONResponse({"resource": issuer, "authorization_servers": [issuer], "scopes_supported": [],
                             "bearer_methods_supported": ["header"]}, headers=headers())

    async def server_metadata(request: Request) -> Response:
        _, bad = await arrive(request)
        if bad is not None:
            return bad
        return JSONResponse({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "pushed_authorization_request_endpoint": f"{issuer}/oauth/par",
            "require_pushed_authorization_requests": True,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["atproto", "transition:generic", "transition:chat.bsky"],
            "authorization_response_iss_parameter_supported": True,
            "dpop_signing_alg_values_supported": ["ES256"],
            "client_id_metadata_document_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": True,
            "require_request_uri_registration": True,
            "protected_resources": [issuer],
        }, headers=headers())

    async def add_account(request: Request) -> JSONResponse:
        """A test hosts an account: {handle, displayName, pds?}; registered with the AppView too (--appview)."""
        body = await request.json()
        handle = str(body.get("handle", "")).lower()
        if not HANDLE.match(handle):
            return JSONResponse({"error": f"not a handle: {handle!r}"}, status_code=400)
        account = host(handle, str(body.get("displayName") or handle), body.get("pds"))
        if appview:
            async with httpx2.AsyncClient(timeout=5, trust_env=False) as http:
                answer = await http.post(f"{appview}/_admin/accounts",
                                         json={"handle": handle, "displayName": account["displayName"]})
                answer.raise_for_status()
        return JSONResponse({"did": did_of(handle), **{k: v for k, v in account.items() if k != "key"}})

    async def list_accounts(request: Request) -> JSONResponse:
        return JSONResponse([{"did": did, **{k: v for k, v in a.items() if k != "key"}}
                             for did, a in world.accounts.items()])

    async def rotate_nonce(request: Request) -> JSONResponse:
        world.nonce = secrets.token_urlsafe(24)
        return JSONResponse({"nonce": world.nonce})

    return Starlette(routes=[
        Route("/plc/{did}", plc_document),
        Route("/.well-known/oauth-protected-resource", protected_resource),
        Route("/.well-known/oauth-authorization-server", server_metadata),
        Route("/xrpc/com.atproto.identity.resolveHandle", resolve_handle),
        Route("/xrpc/app.bsky.actor.getProfile", get_profile),
        Route("/oauth/par", push_request, methods=["POST"]),
        Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth/token", issue_token, methods=["POST"]),
        Route("/_admin/accounts", add_account, methods=["POST"]),
        Route("/_admin/accounts", list_accounts),
        Route("/_admin/nonce", rotate_nonce, methods=["POST"]),
        *routes(control, reset),
    ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--appview", help="the Bluesky AppView stand-in that learns the accounts added here")
    args = parser.parse_args()
    # The issuer is fixed (not taken from each request's Host): the metadata, iss and htu checks all name it.
    uvicorn.run(create_app(f"http://127.0.0.1:{args.port}", args.appview), host="127.0.0.1", port=args.port,
                log_level="warning", timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
