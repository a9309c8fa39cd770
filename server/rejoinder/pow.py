"""The optional proof of work for guests (the ALTCHA scheme, through the `altcha` package): challenges signed
for one site, solutions checked and used once.

A site that turns it on asks each guest's browser to find a number n such that SHA-256(salt + n) is the
challenge, before its comment is taken. The widget does it in a Web Worker while the reader types, so a
person never waits; a bot pays for every comment with CPU instead of nothing. No third party is involved:
the server makes and checks the challenges itself.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import altcha
import orjson

# How hard: a browser tries numbers from 0 up; half of MAX_NUMBER on average. Measured in headless
# Chromium on this project's 2-core machine (bench/pow.py, bench/RESULTS.md): well under the time a
# reader takes to type a comment, while a bot pays for every comment it posts.
MAX_NUMBER = 100_000
# Time to solve and post: a reader may take a while to write.
LIFETIME = datetime.timedelta(minutes=30)


def key(secret_key: str) -> str:
    """The HMAC key that signs challenges: derived from the server's secret, used for nothing else."""
    return hmac.new(secret_key.encode(), b"rejoinder-pow", hashlib.sha256).hexdigest()


def challenge(secret_key: str, site_id: str) -> dict[str, Any]:
    made = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(
        hmac_key=key(secret_key), max_number=MAX_NUMBER, params={"site": site_id},
        expires=datetime.datetime.now(datetime.timezone.utc) + LIFETIME))
    return {"algorithm": made.algorithm, "challenge": made.challenge, "maxnumber": made.max_number,
            "salt": made.salt, "signature": made.signature}


@dataclass(frozen=True)
class Checked:
    """A solution that holds: its fingerprint (for its single use) and how long it could still be used."""

    fingerprint: str
    seconds_left: int


def check(secret_key: str, site_id: str, payload: Any, now: float) -> Checked | None:
    """The solution if it is right, signed by us, unexpired and for this site; else None."""
    if not isinstance(payload, str) or len(payload) > 2048:
        return None
    try:
        ok, _ = altcha.verify_solution_v1(payload, key(secret_key), True)
        data = orjson.loads(base64.b64decode(payload, validate=True))
        params = parse_qs(str(data.get("salt", "")).split("?", 1)[1]) if "?" in str(data.get("salt", "")) else {}
        expires = int((params.get("expires") or ["0"])[0])
    except (ValueError, TypeError, KeyError, AttributeError, orjson.JSONDecodeError):
        return None
    if not ok or (params.get("site") or [""])[0] != site_id or expires <= now:
        return None
    return Checked(hashlib.sha256(str(data["signature"]).encode()).hexdigest()[:32], int(expires - now) + 1)
