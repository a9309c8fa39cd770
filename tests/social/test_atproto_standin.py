"""The atproto stand-in (tests/support/atproto_pds.py) is strict: a small hand-written client signs in through
it, and each thing a careless client could get wrong is refused, so the sign-in tests that pass through it
prove something."""

from __future__ import annotations

import secrets
import threading
import time
from html.parser import HTMLParser
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rejoinder.embedded import free_port

from ..support.servers import AtprotoPds
from ..support.bluesky_server import did_of
from ..support.servers import BlueskyServer

ANN, BOB = did_of("ann.test"), did_of("bob.test")


class ClientSite:
    """Our server's part, played in this process: it serves the client metadata document the PDS fetches
    (uvicorn in a thread on 127.0.0.1). A test changes `document`, `status` or `kind` to serve a bad one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.client_id = f"{self.base}/client-metadata.json"
        self.redirect_uri = f"{self.base}/callback"
        self.restore()
        app = Starlette(routes=[Route("/client-metadata.json", self.serve)])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off", ws="none"))
        self.thread = threading.Thread(target=self.server.run, name="client-metadata", daemon=True)

    def restore(self) -> None:
        self.status, self.kind = 200, "application/json"
        self.document: dict[str, Any] = {
            "client_id": self.client_id, "client_name": "Rejoinder test", "application_type": "web",
            "redirect_uris": [self.redirect_uri], "response_types": ["code"],
            "grant_types": ["authorization_code", "refresh_token"], "scope": "atproto transition:generic",
            "token_endpoint_auth_method": "none", "dpop_bound_access_tokens": True}

    async def serve(self, request: Request) -> Response:
        return JSONResponse(self.document, status_code=self.status, media_type=self.kind)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "client metadata server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class _Page(HTMLParser):
    """The consent page's form: its hidden fields and the ids of its controls."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"] or ""] = a.get("value") or ""


class Client:
    """A hand-written atproto OAuth client: a DPoP key per sign-in, PKCE, PAR with the nonce retry, the
    consent form posted as a browser would, and the token exchange."""

    def __init__(self, pds: AtprotoPds, site: ClientSite) -> None:
        self.pds, self.site = pds, site
        self.key = ECKey.generate_key("P-256")
        self.nonce: str | None = None
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(16)
        self.http = httpx.Client(timeout=10, trust_env=False)

    def proof(self, url: str, key: ECKey | None = None, **claims: Any) -> str:
        key = key or self.key
        body: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": "POST", "htu": url, "iat": int(time.time())}
        if self.nonce:
            body["nonce"] = self.nonce
        body.update(claims)
        return jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}, body, key)

    def post(self, path: str, form: dict[str, str], *, proof: str | None = None, retry: bool = True,
             key: ECKey | None = None, **claims: Any) -> httpx.Response:
        """POST with a DPoP proof; on use_dpop_nonce, once more with the nonce the server gave."""
        url = self.pds.base + path
        answer = self.http.post(url, data=form, headers={"DPoP": proof or self.proof(url, key, **claims)})
        self.nonce = answer.headers.get("DPoP-Nonce", self.nonce)
        if retry and proof is None and answer.status_code == 400 and answer.json()["error"] == "use_dpop_nonce":
            return self.post(path, form, retry=False, key=key, **claims)
        return answer

    def push(self, **fields: str | None) -> httpx.Response:
        form: dict[str, str | None] = {
            "client_id": self.site.client_id, "response_type": "code", "redirect_uri": self.site.redirect_uri,
            "scope": "atproto transition:generic", "state": self.state,
            "code_challenge": create_s256_code_challenge(self.verifier), "code_challenge_method": "S256",
            "login_hint": "ann.test", **fields}
        return self.post("/oauth/par", {k: v for k, v in form.items() if v is not None})

    def request_uri(self, **fields: str | None) -> str:
        answer = self.push(**fields)
        assert answer.status_code == 201, answer.text
        return answer.json()["request_uri"]

    def consent_page(self, request_uri: str) -> httpx.Response:
        return self.http.get(f"{self.pds.base}/oauth/authorize",
                             params={"client_id": self.site.client_id, "request_uri": request_uri})

    def answer(self, request_uri: str, decision: str = "accept", **typed: str) -> httpx.Response:
        """Load the consent page and post its form with one of its buttons, as a browser does."""
        page = self.consent_page(request_uri)
        assert page.status_code == 200, page.text
        form = _Page(page.text)
        assert {"accept", "deny"} <= form.ids
        return self.http.post(f"{self.pds.base}/oauth/authorize", data={**form.fields, "decision": decision, **typed})

    def callback(self, answer: httpx.Response) -> dict[str, str]:
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(self.site.redirect_uri + "?")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def redeem(self, code: str, key: ECKey | None = None, **fields: str) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.site.redirect_uri,
                "client_id": self.site.client_id, "code_verifier": self.verifier}
        return self.post("/oauth/token", {**form, **fields}, key=key)

    def refresh(self, token: str, key: ECKey | None = None) -> httpx.Response:
        return self.post("/oauth/token", {"grant_type": "refresh_token", "refresh_token": token,
                                          "client_id": self.site.client_id}, key=key)

    def code(self, **fields: str | None) -> str:
        back = self.callback(self.answer(self.request_uri(**fields)))
        assert back["state"] == self.state and back["iss"] == self.pds.base
        return back["code"]

    def sign_in(self, **fields: str | None) -> dict[str, Any]:
        answer = self.redeem(self.code(**fields))
        assert answer.status_code == 200, answer.text
        return answer.json()


class Admin:
    """A test's handle on the stand-in's switches."""

    def __init__(self, server: AtprotoPds) -> None:
        self.http = httpx.Client(base_url=server.base, timeout=10, trust_env=False)

    def add(self, handle: str, name: str, **extra: str) -> dict[str, str]:
        answer = self.http.post("/_admin/accounts", json={"handle": handle, "displayName": name, **extra})
        answer.raise_for_status()
        return answer.json()

    def mode(self, mode: str) -> None:
        self.http.post("/_admin/mode", json={"mode": mode}).raise_for_status()

    def requests(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.http.get("/_admin/requests").json() if r["path"] == path]


@pytest.fixture(scope="module")
def client_site() -> Iterator[ClientSite]:
    site = ClientSite()
    site.start()
    yield site
    site.stop()


@pytest.fixture
def pds(atproto_pds: AtprotoPds, bluesky_server: BlueskyServer, client_site: ClientSite) -> Iterator[Admin]:
    """The stand-in and the AppView as they start, and the metadata document as our server serves it."""
    admin = Admin(atproto_pds)
    with httpx.Client(base_url=bluesky_server.base, timeout=10, trust_env=False) as appview:
        for http in (admin.http, appview):
            http.post("/_admin/reset").raise_for_status()
        client_site.restore()
        yield admin
        for http in (admin.http, appview):
            http.post("/_admin/reset").raise_for_status()
    admin.http.close()


@pytest.fixture
def client(pds: Admin, atproto_pds: AtprotoPds, client_site: ClientSite) -> Iterator[Client]:
    made = Client(atproto_pds, client_site)
    yield made
    made.http.close()


@pytest.fixture
def appview(bluesky_server: BlueskyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bluesky_server.base, timeout=10, trust_env=False) as http:
        yield http


def error_of(answer: httpx.Response) -> str:
    return answer.json()["error"]


# --- the way there: handle -> DID document -> PDS -> authorization server ---------------------------------

def test_documents_lead_from_a_handle_to_the_authorization_server(pds: Admin, atproto_pds: AtprotoPds) -> None:
    http, base = pds.http, atproto_pds.base
    assert http.get("/xrpc/com.atproto.identity.resolveHandle", params={"handle": "ann.test"}).json() == {"did": ANN}
    document = http.get(f"/plc/{ANN}").json()
    assert document["id"] == ANN and document["alsoKnownAs"] == ["at://ann.test"]
    assert document["service"] == [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                     "serviceEndpoint": base}]
    assert http.get(f"/plc/{did_of('nobody.test')}").status_code == 404
    assert http.get("/.well-known/oauth-protected-resource").json()["authorization_servers"] == [base]
    meta = http.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == base and meta["pushed_authorization_request_endpoint"] == f"{base}/oauth/par"
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["dpop_signing_alg_values_supported"] == ["ES256"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"atproto", "transition:generic"} <= set(meta["scopes_supported"])
    assert meta["client_id_metadata_document_supported"] is True


# --- signing in ----------------------------------------------------------------------------------------

def test_sign_in_with_a_handle_gives_that_account(pds: Admin, client: Client, appview: httpx.Client) -> None:
    first = client.post("/oauth/par", {"client_id": client.site.client_id}, retry=False)
    assert first.status_code == 400 and error_of(first) == "use_dpop_nonce" and first.headers["DPoP-Nonce"]
    pushed = client.push()
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert pushed.json()["expires_in"] == 90

    page = client.consent_page(pushed.json()["request_uri"])
    assert client.site.client_id in page.text and "@ann.test" in page.text and 'id="handle"' not in page.text
    back = client.callback(client.answer(pushed.json()["request_uri"]))
    assert back["state"] == client.state and back["iss"] == client.pds.base

    tokens = client.redeem(back["code"]).json()
    assert tokens["sub"] == ANN and tokens["token_type"] == "DPoP" and tokens["scope"] == "atproto transition:generic"
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["expires_in"] > 0
    profile = appview.get("/xrpc/app.bsky.actor.getProfile", params={"actor": tokens["sub"]}).json()
    assert profile["handle"] == "ann.test" and profile["displayName"] == "Ann Atwood"
    assert profile["avatar"].startswith(str(appview.base_url))

    # What was sent is on record: the PAR that worked carried a proof with the server's nonce.
    pars = pds.requests("/oauth/par")
    assert "nonce" not in pars[0]["dpop"]["claims"]
    assert pars[-1]["dpop"]["claims"]["nonce"] and pars[-1]["form"]["login_hint"] == "ann.test"


def test_sign_in_from_the_server_takes_the_handle_typed(client: Client) -> None:
    request_uri = client.request_uri(login_hint=None)
    assert 'id="handle"' in client.consent_page(request_uri).text
    unknown = client.answer(request_uri, handle="nobody.test")
    assert unknown.status_code == 400 and 'id="error"' in unknown.text
    tokens = client.redeem(client.callback(client.answer(request_uri, handle="bob.test"))["code"]).json()
    assert tokens["sub"] == BOB


def test_deny_sends_access_denied_back(client: Client) -> None:
    back = client.callback(client.answer(client.request_uri(), "deny"))
    assert back == {"error": "access_denied", "error_description": "The user denied the request",
                    "state": client.state, "iss": client.pds.base}


def test_refresh_token_is_single_use_and_bound_to_the_key(client: Client) -> None:
    first = client.sign_in()["refresh_token"]
    fresh = client.refresh(first)
    assert fresh.status_code == 200 and fresh.json()["sub"] == ANN and fresh.json()["refresh_token"] != first
    assert error_of(client.refresh(first)) == "invalid_grant"
    assert error_of(client.refresh(fresh.json()["refresh_token"], key=ECKey.generate_key("P-256"))) == "invalid_grant"


# --- DPoP ----------------------------------------------------------------------------------------------

def test_par_without_a_dpop_proof_is_refused(client: Client) -> None:
    answer = client.http.post(f"{client.pds.base}/oauth/par", data={"client_id": client.site.client_id})
    assert answer.status_code == 400 and error_of(answer) == "invalid_dpop_proof"
    assert answer.headers["DPoP-Nonce"]


@pytest.mark.parametrize("htu", ["/oauth/token", "/oauth/par?x=1", "http://localhost:{port}/oauth/par"])
def test_proof_made_for_another_url_is_refused(client: Client, htu: str) -> None:
    client.push()  # learns the nonce
    url = client.pds.base + htu if htu.startswith("/") else htu.format(port=client.pds.port)
    answer = client.post("/oauth/par", {"client_id": client.site.client_id}, htu=url)
    assert answer.status_code == 400 and error_of(answer) == "invalid_dpop_proof"
    assert "htu" in answer.json()["error_description"]


def test_proof_sent_twice_is_refused(client: Client) -> None:
    client.push()  # learns the nonce
    client.state, client.verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    proof = client.proof(f"{client.pds.base}/oauth/par")
    form = {"client_id": client.site.client_id, "response_type": "code", "redirect_uri": client.site.redirect_uri,
            "scope": "atproto", "state": client.state, "code_challenge": create_s256_code_challenge(client.verifier),
            "code_challenge_method": "S256"}
    assert client.post("/oauth/par", form, proof=proof).status_code == 201
    again = client.post("/oauth/par", {**form, "state": "another", "code_challenge": "c" * 43}, proof=proof)
    assert again.status_code == 400 and "jti" in again.json()["error_description"]


@pytest.mark.parametrize("claims", [{"iat": int(time.time()) - 3600}, {"htm": "GET"}, {"jti": ""}],
                         ids=["old", "method", "no-jti"])
def test_proof_with_bad_claims_is_refused(client: Client, claims: dict[str, Any]) -> None:
    client.push()
    answer = client.post("/oauth/par", {"client_id": client.site.client_id}, **claims)
    assert answer.status_code == 400 and error_of(answer) == "invalid_dpop_proof"


def test_a_rotated_nonce_is_refused_and_the_new_one_given(pds: Admin, client: Client) -> None:
    client.push()
    old = client.nonce
    pds.http.post("/_admin/nonce").raise_for_status()
    answer = client.post("/oauth/par", {"client_id": client.site.client_id}, retry=False)
    assert error_of(answer) == "use_dpop_nonce" and answer.headers["DPoP-Nonce"] not in (old, None)
    client.state, client.verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    assert client.push().status_code == 201  # the client's retry works with the new nonce


def test_token_request_with_another_dpop_key_is_refused(client: Client) -> None:
    answer = client.redeem(client.code(), key=ECKey.generate_key("P-256"))
    assert answer.status_code == 400 and error_of(answer) == "invalid_grant"
    assert "DPoP key" in answer.json()["error_description"]


# --- PKCE and the code ---------------------------------------------------------------------------------

def test_wrong_pkce_verifier_is_refused(client: Client) -> None:
    answer = client.redeem(client.code(), code_verifier=secrets.token_urlsafe(48))
    assert answer.status_code == 400 and error_of(answer) == "invalid_grant"


def test_code_used_twice_is_refused_and_ends_its_session(client: Client) -> None:
    code = client.code()
    tokens = client.redeem(code).json()
    assert error_of(client.redeem(code)) == "invalid_grant"
    assert error_of(client.refresh(tokens["refresh_token"])) == "invalid_grant"


@pytest.mark.parametrize("field", ["redirect_uri", "client_id"])
def test_token_request_must_repeat_the_authorization_request(client: Client, field: str) -> None:
    answer = client.redeem(client.code(), **{field: "https://elsewhere.example/x"})
    assert answer.status_code == 400 and error_of(answer) == "invalid_grant"


def test_request_uri_is_single_use_and_bound_to_its_client(client: Client) -> None:
    request_uri = client.request_uri()
    other = client.http.get(f"{client.pds.base}/oauth/authorize",
                            params={"client_id": "https://other.example/meta.json", "request_uri": request_uri})
    assert other.status_code == 400
    client.callback(client.answer(request_uri))
    assert client.consent_page(request_uri).status_code == 400
    assert client.consent_page("urn:ietf:params:oauth:request_uri:made-up").status_code == 400


# --- the authorization request and the client metadata -------------------------------------------------

@pytest.mark.parametrize("fields, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"state": None}, "invalid_request"),
    ({"scope": "transition:generic"}, "invalid_scope"),
    ({"scope": "atproto transition:chat.bsky"}, "invalid_scope"),
    ({"login_hint": "nobody.test"}, "invalid_request"),
    ({"client_secret": "s3cret"}, "invalid_request"),
    ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, "invalid_request"),
], ids=["response-type", "plain-pkce", "no-pkce", "no-state", "no-atproto", "undeclared-scope", "unknown-hint",
        "client-secret", "unlisted-redirect"])
def test_bad_authorization_request_is_refused(client: Client, fields: dict[str, str | None], error: str) -> None:
    answer = client.push(**fields)
    assert answer.status_code == 400 and error_of(answer) == error, answer.text


def test_state_and_challenge_are_single_use(client: Client) -> None:
    assert client.push().status_code == 201
    assert error_of(client.push()) == "invalid_request"


@pytest.mark.parametrize("change, error", [
    ({"client_id": "http://127.0.0.1:9/other.json"}, "invalid_client_metadata"),
    ({"dpop_bound_access_tokens": False}, "invalid_client_metadata"),
    ({"scope": "transition:generic"}, "invalid_client_metadata"),
    ({"grant_types": ["refresh_token"]}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": None}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client"),
], ids=["other-client-id", "not-dpop-bound", "no-atproto", "no-code-grant", "no-auth-method", "confidential"])
def test_client_metadata_is_checked_strictly(client: Client, change: dict[str, Any], error: str) -> None:
    client.site.document = {k: v for k, v in {**client.site.document, **change}.items() if v is not None}
    answer = client.push()
    assert error_of(answer) == error, answer.text


@pytest.mark.parametrize("status, kind", [(404, "application/json"), (200, "text/plain")])
def test_client_metadata_must_be_a_json_200(client: Client, status: int, kind: str) -> None:
    client.site.status, client.site.kind = status, kind
    assert error_of(client.push()) == "invalid_client_metadata"


def test_unreachable_client_metadata_is_refused(client: Client) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/client-metadata.json"
    answer = client.push(client_id=nowhere)
    assert error_of(answer) == "invalid_client_metadata"
    assert "could not be fetched" in answer.json()["error_description"]


def test_client_id_must_be_a_web_url(client: Client) -> None:
    answer = client.push(client_id="rejoinder-app")
    assert answer.status_code == 401 and error_of(answer) == "invalid_client"


# --- accounts and the test switches --------------------------------------------------------------------

def test_added_account_is_known_to_the_plc_the_pds_and_the_appview(pds: Admin, appview: httpx.Client) -> None:
    added = pds.add("eve.test", "Eve Elsewhere", pds="https://pds.elsewhere.example")
    assert added["did"] == did_of("eve.test")
    document = pds.http.get(f"/plc/{added['did']}").json()
    assert document["service"][0]["serviceEndpoint"] == "https://pds.elsewhere.example"
    resolved = appview.get("/xrpc/com.atproto.identity.resolveHandle", params={"handle": "eve.test"})
    assert resolved.json() == {"did": added["did"]}
    profile = appview.get("/xrpc/app.bsky.actor.getProfile", params={"actor": "eve.test"}).json()
    assert profile["did"] == added["did"] and profile["displayName"] == "Eve Elsewhere"


def test_account_hosted_elsewhere_can_still_consent_here(pds: Admin, client: Client) -> None:
    """The sub a client must check against the DID document: this server authorizes an account it is not the
    PDS of, as a confused or malicious one would."""
    pds.add("eve.test", "Eve Elsewhere", pds="https://pds.elsewhere.example")
    tokens = client.redeem(client.callback(client.answer(client.request_uri(login_hint=None),
                                                         handle="eve.test"))["code"]).json()
    assert tokens["sub"] == did_of("eve.test")


def test_wrong_sub_mode_names_another_account(pds: Admin, client: Client) -> None:
    pds.mode("wrong_sub")
    assert client.sign_in()["sub"] == BOB


@pytest.mark.parametrize("mode, status", [("fail", 502), ("garbage", 200)])
def test_failure_modes(pds: Admin, client: Client, mode: str, status: int) -> None:
    pds.mode(mode)
    answer = pds.http.get("/.well-known/oauth-authorization-server")
    assert answer.status_code == status
    with pytest.raises(ValueError):
        answer.json()


@pytest.mark.parametrize("actor", ["nobody.test", "", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"])
def test_appview_profile_of_an_unknown_actor_is_refused(pds: Admin, appview: httpx.Client, actor: str) -> None:
    answer = appview.get("/xrpc/app.bsky.actor.getProfile", params={"actor": actor})
    assert answer.status_code == 400 and error_of(answer) == "InvalidRequest"


def test_appview_profile_by_handle_or_did(pds: Admin, appview: httpx.Client) -> None:
    by_handle = appview.get("/xrpc/app.bsky.actor.getProfile", params={"actor": "Bob.Test"}).json()
    by_did = appview.get("/xrpc/app.bsky.actor.getProfile", params={"actor": BOB}).json()
    assert by_handle == by_did and by_did["handle"] == "bob.test" and by_did["displayName"] == "Bob Bramble"
    assert appview.get(by_did["avatar"]).headers["content-type"] == "image/png"
