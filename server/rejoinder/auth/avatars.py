"""Copying a signed-in reader's picture from their provider: through the address guard, size and type capped.

Hot-linked provider URLs expire and tell the provider who reads the blog, so the picture is copied.
The URL (and any redirect it answers with) is the provider's, or whoever controls the account's
picture: it goes through netguard like a webhook, so it cannot make this server fetch from its own
network or a cloud metadata address.
"""

from __future__ import annotations

import asyncio
import logging

import httpx2

from .. import netguard
from ..state import State

log = logging.getLogger("rejoinder.auth")

TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
# Provider pictures are tens of KB; 512 KiB leaves room and bounds what one sign-in can store.
MAX_BYTES = 512 * 1024
# The whole copy, redirects included: a slow picture must not hold up a sign-in for long.
TOTAL_SECONDS = 8.0
MAX_REDIRECTS = 3


async def copy_avatar(st: State, uid: str, url: str) -> str:
    """The copied picture's URL on this server, or "" when there is none to copy (refused, too
    big, not an image, unreachable): the sign-in goes on without a picture."""
    if not url.startswith(("https://", "http://")):
        return ""
    try:
        async with asyncio.timeout(TOTAL_SECONDS), httpx2.AsyncClient(timeout=5) as http:
            async with netguard.stream(http, url, policy=netguard.Policy.of(st.settings),
                                       max_redirects=MAX_REDIRECTS) as resp:
                kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                length = resp.headers.get("content-length", "")
                if resp.status_code != 200 or kind not in TYPES or (length.isdigit() and int(length) > MAX_BYTES):
                    return ""
                body = bytearray()
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        return ""
    except (netguard.Refused, httpx2.HTTPError, OSError, TimeoutError) as exc:
        log.info("avatar of %s not copied: %s (%s)", uid, netguard.category(exc), exc)
        return ""
    digest = await st.users.save_avatar(uid, kind, bytes(body))
    return f"/api/avatars/u/{digest}"
