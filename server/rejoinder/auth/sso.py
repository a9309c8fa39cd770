"""A site's own accounts (single sign-on): the blog signs a short JWT for its signed-in member with a
secret it shares with this server, and the widget trades it for a reader session of that site.

The token is HS256 only (no "none", no other algorithm a forger could choose), signed with the site's
own secret, and says who the member is and for which site:

    {"aud": "<site id>", "sub": "<member id on the blog>", "name": "Ann", "email"?: "...",
     "avatar"?: "https://...", "url"?: "https://...", "iat": <s>, "exp": <s>, "jti": "<unique>"}

It is refused when it is not for this site, is expired or lives longer than a day, was issued in the
future, has been used before (each jti once), or was changed. Members are namespaced by site
("sso:<site>:<sub>"): one blog's secret can never sign in another blog's member.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from .. import models
from ..errors import ApiError

MAX_TOKEN = 4096  # characters: a few claims
MAX_LIFETIME = 24 * 3600  # exp - iat, seconds
SKEW = 60  # seconds a clock may be ahead
PROVIDER = "sso"


def member_id(site: str, sub: str) -> str:
    """The user id of a blog's member: theirs on that site only."""
    return f"{site}:{sub}"


def jti_digest(site: str, jti: str) -> str:
    return hashlib.sha256(f"{site}\n{jti}".encode()).hexdigest()[:32]


def verify(token: Any, secret: str, site: str, now: float | None = None) -> dict[str, Any]:
    """The member the token names, checked; ApiError sso_invalid or sso_expired otherwise."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        raise ApiError("sso_invalid", "The sign-in from the site is missing or too long.")
    try:
        decoded = jwt.decode(token, OctKey.import_key(secret.encode()), algorithms=["HS256"])
    except (JoseError, ValueError, TypeError):
        raise ApiError("sso_invalid", "The sign-in from the site is not signed with its secret.") from None
    claims = decoded.claims
    now = time.time() if now is None else now
    if claims.get("aud") != site:
        raise ApiError("sso_invalid", "The sign-in from the site is for another site.")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)):
        raise ApiError("sso_invalid", "The sign-in from the site needs iat and exp.")
    if exp <= now:
        raise ApiError("sso_expired")
    if iat > now + SKEW or exp - iat > MAX_LIFETIME:
        raise ApiError("sso_invalid", "The sign-in from the site must be issued now and live at most a day.")
    if "scope" in claims:
        raise ApiError("sso_invalid", "This token is for the site's own use, not a member's sign-in.")
    sub, jti = claims.get("sub"), claims.get("jti")
    if not isinstance(sub, str) or not 0 < len(sub) <= 100 or not isinstance(jti, str) or not 8 <= len(jti) <= 200:
        raise ApiError("sso_invalid", "The sign-in from the site needs sub (the member) and jti (once).")
    name = models.clean_line(claims.get("name"), "name", max_len=200)[:80]
    if not name:
        raise ApiError("sso_invalid", "The sign-in from the site needs the member's name.")
    email = ""
    if claims.get("email"):
        try:
            email = models.clean_email(claims["email"])
        except ApiError:
            raise ApiError("sso_invalid", "The member's email address is not valid.") from None
    links = {}
    for field in ("avatar", "url"):
        value = claims.get(field)
        links[field] = value if isinstance(value, str) and value.startswith("https://") and len(value) <= 512 else ""
    return {"sub": sub, "jti": jti, "exp": float(exp), "name": name, "email": email,
            "avatar": links["avatar"], "url": links["url"]}


IMPORT_LIFETIME = 600  # seconds: an import token is made for one request


def verify_import(token: str, secret: str, site: str, now: float | None = None) -> dict[str, Any]:
    """A token the blog signs with the same secret to import its own comments (the WordPress plugin does, on
    activation): {"aud": site, "scope": "import", "iat", "exp" (at most ten minutes later), "jti"}.
    ApiError sso_invalid or sso_expired otherwise."""
    if not 0 < len(token) <= MAX_TOKEN:
        raise ApiError("sso_invalid", "The import token is missing or too long.")
    try:
        claims = jwt.decode(token, OctKey.import_key(secret.encode()), algorithms=["HS256"]).claims
    except (JoseError, ValueError, TypeError):
        raise ApiError("sso_invalid", "The import token is not signed with the site's secret.") from None
    now = time.time() if now is None else now
    iat, exp, jti = claims.get("iat"), claims.get("exp"), claims.get("jti")
    if claims.get("aud") != site or claims.get("scope") != "import":
        raise ApiError("sso_invalid", "The import token is for another site or another use.")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)) \
            or not isinstance(jti, str) or not 8 <= len(jti) <= 200:
        raise ApiError("sso_invalid", "The import token needs iat, exp and jti.")
    if exp <= now:
        raise ApiError("sso_expired", "The import token has expired.")
    if iat > now + SKEW or exp - iat > IMPORT_LIFETIME:
        raise ApiError("sso_invalid", "The import token must be issued now and live at most ten minutes.")
    return {"jti": jti, "exp": float(exp)}
