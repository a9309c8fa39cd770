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
    """A ceremony that did not verify; the message is for the reader."""


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
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing])
    return orjson.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def verify_registration(settings: Settings, credential: str, challenge: str) -> tuple[str, dict[str, Any]]:
    """The new passkey's credential id and the record to keep, or PasskeyError."""
    if not isinstance(credential, str) or not 0 < len(credential) <= MAX_CREDENTIAL:
        raise PasskeyError("The browser did not send a passkey.")
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(settings),
            expected_origin=settings.public_origin)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError("The passkey could not be checked. Please try again.") from exc
    now = int(time.time() * 1000)
    transports = [t.value for t in (parsed.response.transports or [])]
    return bytes_to_base64url(verified.credential_id), {
        "pk": bytes_to_base64url(verified.credential_public_key), "count": verified.sign_count,
        "created": now, "used": 0, "synced": verified.credential_backed_up, "transports": transports}


def authentication(settings: Settings) -> tuple[dict[str, Any], str]:
    """The options for signing in with any passkey of this host, and their challenge."""
    options = generate_authentication_options(rp_id=rp_id(settings), timeout=TIMEOUT_MS,
                                              user_verification=UserVerificationRequirement.PREFERRED)
    return orjson.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def credential_of(credential: str) -> str:
    """The credential id an assertion names (to find its owner), or PasskeyError."""
    if not isinstance(credential, str) or not 0 < len(credential) <= MAX_CREDENTIAL:
        raise PasskeyError("The browser did not send a passkey.")
    try:
        return bytes_to_base64url(parse_authentication_credential_json(credential).raw_id)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError("The passkey could not be checked. Please try again.") from exc


def verify_authentication(settings: Settings, credential: str, challenge: str, uid: str,
                          record: dict[str, Any]) -> dict[str, Any]:
    """Check an assertion made with the passkey `record` of `uid`; the record as it is after, or PasskeyError."""
    try:
        parsed = parse_authentication_credential_json(credential)
        handle = parsed.response.user_handle
        if handle is not None and not hmac.compare_digest(handle, user_handle(settings, uid)):
            raise PasskeyError("This passkey belongs to another account.")
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(settings),
            expected_origin=settings.public_origin, credential_public_key=base64url_to_bytes(record["pk"]),
            credential_current_sign_count=int(record.get("count", 0)))
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        # A counter that went back is reported here too: the passkey may have been copied.
        raise PasskeyError("The passkey could not be checked. Please try again.") from exc
    return {**record, "count": verified.new_sign_count, "used": int(time.time() * 1000)}
