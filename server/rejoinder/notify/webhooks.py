"""Webhooks: a site's public events as signed JSON POSTs, retried with backoff, each attempt logged.

Signature (Stripe's scheme): header `Rejoinder-Signature: t=<unix seconds>,v1=<hex>`
where hex = HMAC-SHA256(secret, f"{t}.{raw body}"). The timestamp is signed too,
so a captured request cannot be replayed later than the receiver's tolerance.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from typing import Any, Callable

import httpx2
import orjson

from .. import __version__, events, models, netguard
from ..settings import Settings
from ..store.notify import NotifyStore
from ..store.webhooks import HOOK_CONSUMER, WebhookStore

log = logging.getLogger("rejoinder.webhooks")

SIGNATURE_HEADER = "Rejoinder-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """What a receiver does (the README shows the same steps)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


async def point(hooks: WebhookStore, notify: NotifyStore, site: str, url: str) -> str:
    """Point the site's webhook at `url` with a new secret (returned once), and start
    following the site's feed now. Left to the worker, the consumer would start at the
    site's next write, when the thread written counts as new since the URL was set,
    and that thread's whole past would be sent to the new URL."""
    secret = await hooks.set(site, url)
    await notify.start_consumer(site, HOOK_CONSUMER, int(time.time() * 1000))
    return secret


def schedule(settings: Settings) -> list[float]:
    """Waits before each retry: "1,5,30,120,600" by default, then give up."""
    out = []
    for part in settings.webhook_retry_seconds.split(","):
        try:
            out.append(max(0.0, float(part)))
        except ValueError:
            continue
    return out


def queued_events(site: str, tid: str, meta: dict[str, str], entries: list[tuple[str, dict[str, str]]]
                  ) -> list[dict[str, str]]:
    """The hook queue entries for a run of the thread's log: public events only
    (approved or deleted comments as the API shows them to anyone, likes, counts,
    locks); a pending or spam comment, an email or an IP hash never leaves."""
    out = []
    for entry_id, fields in entries:
        event = events.parse(entry_id, fields)
        if event.public is None:
            continue
        body = {
            "id": f"{tid}-{event.seq}",
            "type": event.type,
            "site": site,
            "created": models.iso(time.time() * 1000),
            "thread": {"id": tid, "page": meta.get("page", ""), "url": meta.get("url") or None,
                       "title": meta.get("title", "")},
            "data": orjson.loads(event.public),
        }
        out.append({"event": orjson.dumps(body).decode(), "type": event.type, "id": body["id"]})
    return out


async def deliver(settings: Settings, store: WebhookStore, site: str, stopping: Callable[[], bool]) -> None:
    """Send the site's queued events in order until the queue is empty or the head must wait.
    A failing receiver holds later events until the head's retries are used up."""
    waits = schedule(settings)
    config = await store.get(site)
    if not config.get("url"):
        return
    async with httpx2.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
        while not stopping():
            queue = await store.queue(site, 20)
            if not queue:
                return
            for entry_id, fields in queue:
                made, due = await store.attempts(site, entry_id)
                if due > time.time() * 1000:
                    return
                ok = await _attempt(client, store, site, config, entry_id, fields, made + 1,
                                    netguard.Policy.of(settings))
                if ok:
                    await store.done(site, entry_id)
                    continue
                if made + 1 > len(waits):
                    log.warning("webhook for %s gave up on %s after %d attempts", site, fields.get("id"), made + 1)
                    await store.done(site, entry_id)
                    continue
                await store.failed_attempt(site, entry_id, made + 1, int((time.time() + waits[made]) * 1000))
                return  # later events wait for this one's retry


async def _attempt(client: httpx2.AsyncClient, store: WebhookStore, site: str, config: dict[str, str],
                   entry_id: str, fields: dict[str, str], attempt: int,
                   policy: netguard.Policy = netguard.Policy()) -> bool:
    body = fields["event"].encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Rejoinder-Webhook/{__version__}",
        "Rejoinder-Event": fields.get("type", ""),
        "Rejoinder-Delivery": fields.get("id", ""),
        SIGNATURE_HEADER: signature(config["secret"], int(time.time()), body),
    }
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        # Through the address guard: resolved once, every address checked, the checked one connected to.
        response = await netguard.request(client, "POST", config["url"], policy=policy, content=body,
                                          headers=headers)
        status = response.status_code
    except (netguard.Refused, httpx2.HTTPError, OSError, asyncio.TimeoutError) as exc:
        # The site admin sees a category only: the error's own text can name internal hosts and
        # ports, and would make the delivery log a port scanner. The detail stays in our log.
        error = netguard.category(exc)
        log.info("webhook for %s: %s (%s)", site, error, exc)
    entry: dict[str, Any] = {
        "time": models.iso(time.time() * 1000), "event": fields.get("type", ""), "id": fields.get("id", ""),
        "attempt": attempt, "status": status, "error": error,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
    }
    ok = status is not None and 200 <= status < 300
    await store.record(site, entry, ok)
    return ok
