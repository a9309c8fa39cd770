"""Signed links that act without a login: approve/delete from a mail, confirm and
stop notifications. They expire; the secret key signs them, so every node must share it."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from .settings import Settings


def _signer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    # One salt per purpose: a link made for one thing cannot be replayed as another.
    return URLSafeTimedSerializer(settings.secret_key, salt=f"rejoinder.{purpose}")


def sign(settings: Settings, purpose: str, payload: dict[str, Any]) -> str:
    return _signer(settings, purpose).dumps(payload)


def verify(settings: Settings, purpose: str, token: str, max_age_seconds: int) -> dict[str, Any] | None:
    """The payload, or None if the token is forged, for another purpose, or older than max_age."""
    try:
        payload = _signer(settings, purpose).loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return payload if isinstance(payload, dict) else None


def moderation_url(settings: Settings, site: str, tid: str, cid: int, action: str) -> str:
    """A link for a held comment's notification mail: `action` is approve or delete.
    GET shows a confirmation page, POST acts (so mail scanners that follow links act on nothing)."""
    token = sign(settings, "moderate", {"s": site, "t": tid, "c": cid, "a": action})
    return f"{settings.public_url.rstrip('/')}/admin/act?token={token}"
