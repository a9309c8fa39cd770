"""Social login providers: the Authlib registry built from settings, and each provider's user shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from authlib.integrations.starlette_client import OAuth
from redis.asyncio import Redis

from ..settings import Settings
from ..store import keys
from . import bluesky, passkeys


@dataclass(frozen=True)
class Profile:
    """What we keep of a provider account. The id is the provider's, as a string."""

    provider: str
    id: str
    name: str
    avatar_url: str
    profile: str
    email: str


def _x(data: dict[str, Any]) -> Profile:
    user = data.get("data") or {}
    username = str(user.get("username") or "")
    return Profile("x", str(user["id"]), str(user.get("name") or username),
                   str(user.get("profile_image_url") or ""),
                   f"https://x.com/{username}" if username else "", "")


def _facebook(data: dict[str, Any]) -> Profile:
    picture = ((data.get("picture") or {}).get("data") or {}).get("url") or ""
    return Profile("facebook", str(data["id"]), str(data.get("name") or ""), str(picture), "",
                   str(data.get("email") or ""))


def _github(data: dict[str, Any]) -> Profile:
    return Profile("github", str(data["id"]), str(data.get("name") or data.get("login") or ""),
                   str(data.get("avatar_url") or ""), str(data.get("html_url") or ""), str(data.get("email") or ""))


def _google(claims: dict[str, Any]) -> Profile:
    return Profile("google", str(claims["sub"]), str(claims.get("name") or ""), str(claims.get("picture") or ""),
                   "", str(claims.get("email") or "") if claims.get("email_verified") else "")


@dataclass(frozen=True)
class Provider:
    id: str
    label: str
    parse: Callable[[dict[str, Any]], Profile]
    openid: bool = False


PROVIDERS = {
    "x": Provider("x", "X", _x),
    "facebook": Provider("facebook", "Facebook", _facebook),
    "github": Provider("github", "GitHub", _github),
    "google": Provider("google", "Google", _google, openid=True),
}


class RedisCache:
    """Authlib's state cache, server-side in Redis rather than in a cookie."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, key: str) -> str | None:
        return await self.redis.get(keys.oauth_state(key))

    async def set(self, key: str, value: str, expires: int | None = None) -> None:
        await self.redis.set(keys.oauth_state(key), value, ex=expires or 600)

    async def delete(self, key: str) -> None:
        await self.redis.delete(keys.oauth_state(key))


def enabled(settings: Settings) -> list[Provider]:
    return [p for p in PROVIDERS.values()
            if getattr(settings, f"{p.id}_client_id") and getattr(settings, f"{p.id}_client_secret")]


def registry(settings: Settings, redis: Redis) -> OAuth:
    """Every provider runs the authorization-code flow with PKCE (S256): X requires it; GitHub
    (since July 2025), Facebook and Google accept it. A code stolen on its way back (a log,
    a referrer, a hostile browser extension) is then useless without the verifier this
    server keeps."""
    oauth = OAuth(cache=RedisCache(redis))
    s = settings
    for provider in enabled(settings):
        common = dict(client_id=getattr(s, f"{provider.id}_client_id"),
                      client_secret=getattr(s, f"{provider.id}_client_secret"))
        if provider.id == "x":
            # OAuth 2.0 with PKCE, confidential client authenticating with HTTP Basic.
            oauth.register("x", **common, authorize_url=s.x_authorize_url, access_token_url=s.x_token_url,
                           userinfo_endpoint=s.x_userinfo_url,
                           client_kwargs={"scope": "tweet.read users.read", "code_challenge_method": "S256",
                                          "token_endpoint_auth_method": "client_secret_basic"})
        elif provider.id == "facebook":
            oauth.register("facebook", **common, authorize_url=s.facebook_authorize_url,
                           access_token_url=s.facebook_token_url, userinfo_endpoint=s.facebook_userinfo_url,
                           client_kwargs={"scope": "public_profile email", "code_challenge_method": "S256",
                                          "token_endpoint_auth_method": "client_secret_post"})
        elif provider.id == "github":
            oauth.register("github", **common, authorize_url=s.github_authorize_url,
                           access_token_url=s.github_token_url, userinfo_endpoint=s.github_userinfo_url,
                           client_kwargs={"scope": "read:user", "code_challenge_method": "S256",
                                          "token_endpoint_auth_method": "client_secret_post"})
        else:
            oauth.register("google", **common, server_metadata_url=s.google_discovery_url,
                           client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})
    return oauth


def choices(settings: Settings) -> list[dict[str, str]]:
    """The ways to sign in a reader is offered: each configured OAuth provider, then a link by mail (where
    mail is configured), then Mastodon and Bluesky (which need no registration: the reader names their server or
    handle), then a passkey (added to an account signed in another way)."""
    out = [{"id": p.id, "name": p.label} for p in enabled(settings)]
    if settings.email_login and settings.mail_enabled:
        out.append({"id": "email", "name": "Email"})
    if settings.mastodon_login:
        out.append({"id": "mastodon", "name": "Mastodon"})
    if bluesky.usable(settings):
        out.append({"id": "bluesky", "name": "Bluesky"})
    if passkeys.usable(settings):
        out.append({"id": "passkey", "name": "Passkey"})
    return out
