"""One JSON GET to a remote server, as the worker makes them: through the address guard, with a time
limit and a size cap, reading the server's rate-limit headers so it is never asked faster than it allows."""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx2
import orjson

from .. import __version__, netguard
from ..settings import Settings

# Keep this many requests of a window unspent: other software on the same address may need them.
RESERVE = 2
# The longest a server's "wait" is taken at its word (a garbage reset must not stop us for a year).
MAX_WAIT_SECONDS = 6 * 3600
USER_AGENT = f"Rejoinder/{__version__} (comment replies)"


class RemoteError(Exception):
    """A remote answer we could not use. `category` is what an admin may be told (never the error's
    text, which can name internal hosts); `wait_until_ms` is when the server said we may ask again."""

    def __init__(self, category: str, wait_until_ms: int = 0, detail: str = "") -> None:
        super().__init__(detail or category)
        self.category = category
        self.wait_until_ms = wait_until_ms


class NotFound(RemoteError):
    def __init__(self) -> None:
        super().__init__("not_found")


@dataclass
class Answer:
    data: Any
    # When the server asked us to wait until (ms), from its rate-limit headers; 0: it did not.
    wait_until_ms: int = 0
    status: int = 200
    headers: httpx2.Headers | None = None


def _reset_ms(value: str, now: float) -> int:
    """A rate-limit reset: unix seconds (Bluesky), an ISO 8601 time (Mastodon), or seconds from now."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return 0
    # Small numbers are "seconds from now" (RFC 9331 drafts); large ones a unix time.
    return int((number if number > 10**9 else now + number) * 1000)


def _retry_after_ms(value: str, now: float) -> int:
    value = value.strip()
    if value.isdigit():
        return int((now + int(value)) * 1000)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0
    return int(parsed.timestamp() * 1000)


def wait_asked(headers: httpx2.Headers, status: int, now: float | None = None) -> int:
    """Until when (ms) the server asks not to be asked again: a 429's Retry-After, or a rate-limit
    window nearly spent (X-RateLimit-* from Mastodon, RateLimit-* from Bluesky). 0: ask freely."""
    now = time.time() if now is None else now
    until = 0
    if status in (429, 503) and headers.get("retry-after"):
        until = _retry_after_ms(headers["retry-after"], now)
    remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining", ""))
    reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset", ""))
    spent = status == 429 or (remaining.strip().isdigit() and int(remaining) <= RESERVE)
    if spent and reset:
        until = max(until, _reset_ms(reset, now))
    if status == 429 and not until:
        until = int((now + 60) * 1000)  # said "too many" and not until when: a minute
    cap = int((now + MAX_WAIT_SECONDS) * 1000)
    return min(until, cap) if until > now * 1000 else 0


async def _xrpc_not_found(response: httpx2.Response) -> bool:
    """An XRPC error answer naming NotFound: {"error": "NotFound", "message": …} (read at most 4 KiB)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > 4096:
            return False
    try:
        data = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("error") == "NotFound"


async def get_json(client: httpx2.AsyncClient, settings: Settings, url: str, params: dict[str, str] | None = None
                   ) -> Answer:
    """GET `url` and parse its JSON. Raises NotFound (404, 410) or RemoteError with a category:
    refused_address, bad_url, dns_failed, timeout, connect_failed, tls_failed, http_error, rate_limited,
    too_large, garbage."""
    if params:
        url = f"{url}?{urlencode(params)}"
    return await request_json(client, settings, "GET", url)


async def request_json(client: httpx2.AsyncClient, settings: Settings, method: str, url: str, *,
                       headers: dict[str, str] | None = None, statuses: tuple[int, ...] = (200,),
                       **body: Any) -> Answer:
    """One request whose answer is JSON (as get_json), with `body` as httpx takes it (data=, json=).
    `statuses`: the answers whose JSON is returned (with their status and headers) rather than refused."""
    policy = netguard.Policy.of(settings)
    limit = settings.remote_max_bytes
    try:
        async with asyncio.timeout(settings.remote_timeout_seconds):
            target = await netguard.pin(url, policy=policy)
            sent = {**(headers or {}), **target.headers, "Accept": "application/json", "User-Agent": USER_AGENT}
            async with client.stream(method, target.url, headers=sent, extensions=target.extensions,
                                     follow_redirects=False, **body) as response:
                wait = wait_asked(response.headers, response.status_code)
                if response.status_code in (404, 410):
                    raise NotFound()
                if response.status_code == 429:
                    raise RemoteError("rate_limited", wait)
                if response.status_code == 400 and 400 not in statuses and await _xrpc_not_found(response):
                    raise NotFound()  # how XRPC says "no such post" (Bluesky)
                if response.status_code not in statuses:
                    raise RemoteError("http_error", wait, f"status {response.status_code}")
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    raise RemoteError("too_large", wait)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise RemoteError("too_large", wait)
    except RemoteError:
        raise
    except (TimeoutError, asyncio.TimeoutError):
        raise RemoteError("timeout") from None
    except (netguard.Refused, httpx2.HTTPError, OSError) as exc:
        raise RemoteError(netguard.category(exc), detail=str(exc)) from None
    try:
        data = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        raise RemoteError("garbage", wait) from None
    return Answer(data, wait, response.status_code, response.headers)
