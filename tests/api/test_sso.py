"""A blog's own members sign in with a token the blog signs: a good one gives a reader session of that
site and the member comments under their own name; an expired, replayed, other-site, tampered or
unsigned one is refused, and a session of one site opens nothing on another."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import error_of, post

OTHER = "other-blog"


def token(secret: str, site: str = SITE, **claims) -> str:
    now = int(time.time())
    body = {"aud": site, "sub": "member-42", "name": "Mia Member", "email": "mia@example.com",
            "iat": now, "exp": now + 600, "jti": secrets.token_hex(8), **claims}
    return jwt.encode({"alg": "HS256"}, {k: v for k, v in body.items() if v is not None},
                      OctKey.import_key(secret.encode()))


def sign_in(client: httpx.Client, tok: str, site: str = SITE, expect: int = 200) -> dict:
    r = client.post("/api/auth/sso", json={"site": site, "token": tok})
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def secret(redis_client) -> str:
    value = secrets.token_urlsafe(32)
    redis_client.set(keys.sso_secret(SITE), value)
    return value


def test_a_member_signs_in_once_and_comments_under_their_own_name(app_server, api, secret, thread) -> None:
    tok = token(secret)
    got = sign_in(api, tok)
    assert got["me"]["name"] == "Mia Member" and got["me"]["provider"] == "sso"
    member = httpx.Client(base_url=app_server.base, timeout=10,
                          headers={"Authorization": f"Bearer {got['token']}", "X-Rejoinder-Client": "sso-member-0001"})
    with member:
        created = post(member, thread["id"], "Hello from a member")["comment"]
        assert created["author"]["name"] == "Mia Member" and created["author"]["provider"] == "sso"
        assert member.get("/api/auth/me", params={"site": SITE}).json()["site"] == SITE
    # The same token again: refused, whoever sends it (it was in the page, which others may have seen).
    assert error_of(api.post("/api/auth/sso", json={"site": SITE, "token": tok}))["code"] == "sso_used"


def test_expired_replayed_other_site_tampered_and_unsigned_tokens_are_refused(
        redis_client, app_server, api, secret) -> None:
    now = int(time.time())
    refused = {
        "expired": token(secret, iat=now - 700, exp=now - 100),
        "too long-lived": token(secret, exp=now + 3 * 86400),
        "from the future": token(secret, iat=now + 3600, exp=now + 4000),
        "for another site": token(secret, site=OTHER),
        "signed with another secret": token(secrets.token_urlsafe(32)),
        "no jti": token(secret, jti=None),
        "no name": token(secret, name=""),
    }
    codes = {why: error_of(api.post("/api/auth/sso", json={"site": SITE, "token": t}))["code"]
             for why, t in refused.items()}
    assert codes == {"expired": "sso_expired", **{why: "sso_invalid" for why in refused if why != "expired"}}
    # Tampered: the member's id changed after signing.
    head, payload, sig = token(secret).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert error_of(api.post("/api/auth/sso", json={"site": SITE, "token": f"{head}.{forged}.{sig}"}))["code"] == \
        "sso_invalid"
    # Unsigned ("alg": "none") or another algorithm: refused before anything is read.
    none_head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    assert error_of(api.post("/api/auth/sso", json={"site": SITE, "token": f"{none_head}.{payload}."}))["code"] == \
        "sso_invalid"
    for bad in (None, 7, "", "x" * 5000, "a.b.c"):
        r = api.post("/api/auth/sso", json={"site": SITE, "token": bad})
        assert (r.status_code, error_of(r)["code"]) == (401, "sso_invalid"), bad
    # A site without single sign-on signs nobody in.
    register_site(redis_client, OTHER, [app_server.page_origin])
    assert error_of(api.post("/api/auth/sso", json={"site": OTHER, "token": token(secret, site=OTHER)}))["code"] == \
        "not_found"


def test_members_are_the_sites_own_and_its_sessions_open_nothing_elsewhere(
        redis_client, app_server, api, secret) -> None:
    other_secret = secrets.token_urlsafe(32)
    register_site(redis_client, OTHER, [app_server.page_origin])
    redis_client.set(keys.sso_secret(OTHER), other_secret)
    mine = sign_in(api, token(secret))
    theirs = sign_in(api, token(other_secret, site=OTHER), site=OTHER)
    # The same member id on two blogs is two people: neither blog can sign in the other's.
    for member in (b"sso:demo:member-42", b"sso:other-blog:member-42"):
        assert redis_client.exists(keys.user(hashlib.sha256(member).hexdigest()[:32]))
    b_thread = api.get("/api/threads", params={"site": OTHER, "page": "https://b.example/sso"}).json()["thread"]
    r = api.post(f"/api/threads/{b_thread['id']}/comments", json={"text": "cross-site"},
                 headers={"Authorization": f"Bearer {mine['token']}"})
    assert (r.status_code, error_of(r)["code"]) == (401, "invalid_session")
    assert theirs["me"]["name"] == "Mia Member"
    # Only the comments frame trades tokens: a page of the blog cannot hold the session itself.
    r = api.post("/api/auth/sso", json={"site": SITE, "token": token(secret)},
                 headers={"Origin": app_server.page_origin})
    assert (r.status_code, error_of(r)["code"]) == (403, "origin_not_allowed")


def import_token(secret: str, site: str = SITE, **claims) -> str:
    now = int(time.time())
    body = {"aud": site, "scope": "import", "iat": now, "exp": now + 300, "jti": secrets.token_hex(8), **claims}
    return jwt.encode({"alg": "HS256"}, {k: v for k, v in body.items() if v is not None},
                      OctKey.import_key(secret.encode()))


def send_import(app_server, tok: str, site: str = SITE) -> httpx.Response:
    from ..support.exports import wxr
    return httpx.post(f"{app_server.base}/api/admin/sites/{site}/import", params={"format": "wxr"},
                      content=wxr(2, posts=1), headers={"Authorization": f"Bearer {tok}",
                                                        "Content-Type": "application/xml"}, timeout=60)


def test_the_blog_imports_its_own_comments_with_a_token_of_its_secret_once(app_server, api, secret) -> None:
    """The WordPress plugin copies the blog's comments in with an import token (scope "import"), once each."""
    tok = import_token(secret)
    r = send_import(app_server, tok)
    assert r.status_code == 200, r.text
    again = send_import(app_server, tok)
    assert again.status_code == 409 and error_of(again)["code"] == "sso_used"
    # A second token: the same file adds nothing twice.
    r = send_import(app_server, import_token(secret))
    assert r.status_code == 200 and r.json()["report"]["comments"]["imported"] == 0, r.text


def test_an_import_token_is_nothing_else_and_a_member_token_imports_nothing(app_server, api, redis_client,
                                                                            secret) -> None:
    now = int(time.time())
    refused = {
        "a member's token": token(secret),
        "expired": import_token(secret, iat=now - 700, exp=now - 100),
        "living longer than ten minutes": import_token(secret, exp=now + 3600),
        "for another site": import_token(secret, site=OTHER),
        "another use": import_token(secret, scope="admin"),
        "signed with another secret": import_token(secrets.token_urlsafe(32)),
        "no jti": import_token(secret, jti=None),
    }
    for why, tok in refused.items():
        r = send_import(app_server, tok)
        assert r.status_code == 401 and error_of(r)["code"] in ("sso_invalid", "sso_expired"), (why, r.text)
    # An import token signs no one in.
    r = api.post("/api/auth/sso", json={"site": SITE, "token": import_token(secret)})
    assert r.status_code == 401 and error_of(r)["code"] == "sso_invalid"
    # A site with no secret takes no import token at all.
    register_site(redis_client, OTHER, ["https://other.example"])
    r = send_import(app_server, import_token(secret, site=OTHER), site=OTHER)
    assert r.status_code == 401 and error_of(r)["code"] == "sso_invalid"
