"""A software WebAuthn authenticator for the API tests: makes real passkeys (P-256, "none" attestation) and
real assertions over what a browser would hand it, so every check the server makes can be exercised, and
every lie an attacker's own authenticator could tell can be told (another origin, an old counter, a
stolen user handle). The browser tests use Chromium's virtual authenticator instead."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Passkey:
    rp_id: str
    user_handle: bytes
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    count: int = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    @property
    def public_key(self) -> str:
        """The public key as the server keeps it (COSE, base64url)."""
        return b64url(self._cose())

    def _cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, flags: int, attested: bool, rp_id: str | None = None) -> bytes:
        head = hashlib.sha256((rp_id or self.rp_id).encode()).digest() + bytes([flags]) + struct.pack(">I", self.count)
        if not attested:
            return head
        return head + bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose()


def client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()


def create(options: dict[str, Any], origin: str, *, rp_id: str | None = None,
           credential_id: bytes | None = None) -> tuple[Passkey, dict[str, Any]]:
    """navigator.credentials.create(): a new passkey for the options' user, and the browser's JSON of it
    (`credential_id`: an attacker's authenticator may claim any id)."""
    passkey = Passkey(rp_id=rp_id or options["rp"]["id"], user_handle=unb64url(options["user"]["id"]))
    if credential_id is not None:
        passkey.credential_id = credential_id
    data = client_data("webauthn.create", options["challenge"], origin)
    attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": passkey._auth_data(UP | UV | AT, True)})
    return passkey, {"id": passkey.id, "rawId": passkey.id, "type": "public-key", "authenticatorAttachment": "platform",
                     "clientExtensionResults": {},
                     "response": {"clientDataJSON": b64url(data), "attestationObject": b64url(attestation),
                                  "transports": ["internal"]}}


def get(passkey: Passkey, options: dict[str, Any], origin: str, *, count_step: int = 1,
        user_handle: bytes | None = None, rp_id: str | None = None) -> dict[str, Any]:
    """navigator.credentials.get() with this passkey: the browser's JSON of the assertion."""
    passkey.count += count_step
    data = client_data("webauthn.get", options["challenge"], origin)
    auth_data = passkey._auth_data(UP | UV, False, rp_id)
    signature = passkey.key.sign(auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256()))
    return {"id": passkey.id, "rawId": passkey.id, "type": "public-key", "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(passkey.user_handle if user_handle is None else user_handle)}}
