"""Passkeys (WebAuthn, through the `webauthn` package): a signed-in reader adds one, and later signs in
with it alone.

Both ceremonies run in the sign-in popup, a top-level page on this server's own origin: the relying
party is this server's host name, never a blog's, and a browser runs no ceremony inside the comments
frame that sits on the blog's site. The credential is discoverable (resident), so signing in asks for
nothing first: the authenticator offers the reader's passkeys for this host and the assertion names its
credential. The server checks what the package checks (the challenge it gave, the origin, the host's
hash, the signature with the key kept at registration, a counter that never goes back) and that the
credential's user handle is the one it gave that account.

What a passkey signs in is the account it was added to (a GitHub, Mastodon, mail… account): a passkey is
a way back into it, not an account of its own. A site's own members (single sign-on) cannot add one: the
blog vouches for them, and only on that blog.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlsplit

import orjson
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json, \
    parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor, \
    ResidentKeyRequirement, UserVerificationRequirement

from ..settings import Settings

PROVIDER = "passkey"
LABEL = "Passkey"
MAX_CREDENTIAL = 16_384  # characters of the browser's JSON: an assertion is ~1 KB, an attestation a few
TIMEOUT_MS = 120_000


class PasskeyError(Exception):
    """A ceremony that did not verify; the message is the key of the reader's words (api/locales)."""


def usable(settings: Settings) -> bool:
    """Browsers run WebAuthn only in a secure context: https, or localhost."""
    parts = urlsplit(settings.public_url)
    return settings.passkeys and (parts.scheme == "https" or parts.hostname == "localhost")


def rp_id(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or ""


def user_handle(settings: Settings, uid: str) -> bytes:
    """The WebAuthn user id of an account: one per account (an authenticator keeps one passkey per account
    and host), keyed, so it says nothing about the account to whoever reads the authenticator."""
    return hmac.new(settings.secret_key.encode(), f"passkey:{uid}".encode(), hashlib.sha256).digest()[:16]


def registration(settings: Settings, user: dict[str, Any], provider_label: str,
                 existing: list[str]) -> tuple[dict[str, Any], str]:
    """The options for adding a passkey to `user` (the browser's JSON form) and their challenge."""
    options = generate_registration_options(
        rp_id=rp_id(settings), rp_name=rp_id(settings),
        user_id=user_handle(settings, user["id"]), user_name=f"{user['name']} ({provider_label})",
        user_display_name=user["name"], timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing])
    return orjson.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


# What the webauthn package may raise on a credential a browser (or an attacker) made up.
_BAD = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, RecursionError)
MAX_CREDENTIAL_ID = 1023  # bytes (WebAuthn: credential ids are at most 1,023 bytes)


def _json(credential: object) -> dict[str, Any]:
    """The browser's credential JSON as an object: a string (at most MAX_CREDENTIAL characters, parsed by
    orjson, which caps nesting) or an object already; anything else is PasskeyError."""
    if isinstance(credential, str):
        if not 0 < len(credential) <= MAX_CREDENTIAL:
            raise PasskeyError("passkey.notSent")
        try:
            credential = orjson.loads(credential)
        except orjson.JSONDecodeError:
            raise PasskeyError("passkey.notSent") from None
    if not isinstance(credential, dict):
        raise PasskeyError("passkey.notSent")
    return credential


def verify_registration(settings: Settings, credential: object, challenge: str) -> tuple[str, dict[str, Any]]:
    """The new passkey's credential id and the record to keep, or PasskeyError."""
    try:
        parsed = parse_registration_credential_json(_json(credential))
        verified = verify_registration_response(
            credential=parsed, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(settings),
            expected_origin=settings.public_origin, require_user_verification=True)
    except _BAD as exc:
        raise PasskeyError("passkey.unchecked") from exc
    if verified.credential_id != parsed.raw_id or len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise PasskeyError("passkey.unchecked")
    now = int(time.time() * 1000)
    transports = [t.value for t in (parsed.response.transports or [])]
    return bytes_to_base64url(verified.credential_id), {
        "pk": bytes_to_base64url(verified.credential_public_key), "count": verified.sign_count,
        "created": now, "used": 0, "synced": verified.credential_backed_up, "transports": transports}


def authentication(settings: Settings) -> tuple[dict[str, Any], str]:
    """The options for signing in with any passkey of this host, and their challenge."""
    options = generate_authentication_options(rp_id=rp_id(settings), timeout=TIMEOUT_MS,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    return orjson.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def assertion(credential: object) -> tuple[str, dict[str, Any]]:
    """The credential id an assertion names (to find its owner) and the assertion as an object, or
    PasskeyError."""
    data = _json(credential)
    try:
        return bytes_to_base64url(parse_authentication_credential_json(data).raw_id), data
    except _BAD as exc:
        raise PasskeyError("passkey.unchecked") from exc


def verify_authentication(settings: Settings, credential: dict[str, Any], challenge: str, uid: str,
                          record: dict[str, Any]) -> dict[str, Any]:
    """Check an assertion made with the passkey `record` of `uid`; the record as it is after, or PasskeyError.
    The user handle is required (a discoverable credential returns it) and must be the one given this account."""
    try:
        parsed = parse_authentication_credential_json(credential)
        handle = parsed.response.user_handle
        if handle is None or not hmac.compare_digest(handle, user_handle(settings, uid)):
            raise PasskeyError("passkey.otherAccount")
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(settings),
            expected_origin=settings.public_origin, credential_public_key=base64url_to_bytes(record["pk"]),
            credential_current_sign_count=int(record.get("count", 0)), require_user_verification=True)
    except PasskeyError:
        raise
    except _BAD as exc:
        # A counter that went back is reported here too: the passkey may have been copied.
        raise PasskeyError("passkey.unchecked") from exc
    return {**record, "count": verified.new_sign_count, "used": int(time.time() * 1000)}
