"""A site's webhook from the dashboard: its URL, a new signing secret, turning it off, and the delivery log.

Every route checks that the caller administers the site (admin.require_admin),
exactly as the moderation routes do.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.routing import Route

from .. import models, netguard
from ..errors import ApiError
from ..notify import webhooks
from ..state import state
from ..store.webhooks import LOG_SIZE
from .admin import SITE, require_admin
from .common import JSON, int_param, read_json

# Long enough for any real endpoint with a path and a query token; short enough to show in a log line.
MAX_URL = 2000


def webhook_url(value: Any, policy: netguard.Policy = netguard.Policy()) -> str:
    """An absolute http:// or https:// URL with a host, as the worker will POST to it.
    A loopback or private address given literally is refused here already (the worker
    checks every delivery's resolved addresses too, through netguard)."""
    url = models.clean_http_url(value, "url", max_len=MAX_URL, required=True)
    parts = urlsplit(url)
    assert parts.hostname is not None  # clean_http_url checked it
    if _local(parts.hostname, policy):
        raise ApiError("invalid_url", "The webhook URL must be a public address, not this server's own network.",
                       field="url")
    return url


def _local(host: str, policy: netguard.Policy) -> bool:
    if policy.private_ok:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not policy.permits(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return False  # a name: the worker checks what it resolves to


async def _view(conn: HTTPConnection, site_id: str, limit: int = LOG_SIZE) -> dict[str, Any]:
    """The webhook as the dashboard shows it: never its secret (that is shown once, when made)."""
    st = state(conn)
    config = await st.webhooks.get(site_id)
    since = int(config["since"]) if (config.get("since") or "").isdigit() else None
    return {"url": config.get("url") or None, "enabled": bool(config.get("url")),
            "since": models.iso(since) if since else None, "log": await st.webhooks.log(site_id, limit)}


async def get_webhook(request: Request) -> JSON:
    """GET /api/admin/sites/{site}/webhook?limit=: the webhook's URL and its delivery log, newest first.

    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403,
    invalid_field 422.
    """
    site, _ = await require_admin(request)
    return JSON({"webhook": await _view(request, site.id, int_param(request, "limit", LOG_SIZE, 1, LOG_SIZE))})


async def set_webhook(request: Request) -> JSON:
    """PUT /api/admin/sites/{site}/webhook {"url"}: send the site's public events there, signed
    with a new secret. The secret is in this answer only. Setting it again (even to the same URL)
    rotates the secret and drops deliveries still waiting for the old endpoint.

    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403,
    invalid_url 422, missing_field 422, unknown_field 422, invalid_field 422, malformed_json 400,
    unsupported_media_type 415.
    """
    site, _ = await require_admin(request)
    body = await read_json(request)
    unknown = set(body) - {"url"}
    if unknown:
        raise ApiError("unknown_field", field=sorted(unknown)[0])
    url = webhook_url(body.get("url"), netguard.Policy.of(state(request).settings))
    st = state(request)
    secret = await webhooks.point(st.webhooks, st.notify, site.id, url)
    return JSON({"webhook": {**await _view(request, site.id), "secret": secret}})


async def delete_webhook(request: Request) -> JSON:
    """DELETE /api/admin/sites/{site}/webhook: stop sending events (the delivery log stays). Repeatable.

    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403.
    """
    site, _ = await require_admin(request)
    await state(request).webhooks.remove(site.id)
    return JSON({"webhook": await _view(request, site.id)})


routes = [
    Route(SITE + "/webhook", get_webhook, methods=["GET"], name="admin:webhook"),
    Route(SITE + "/webhook", set_webhook, methods=["PUT"], name="admin:webhook_set"),
    Route(SITE + "/webhook", delete_webhook, methods=["DELETE"], name="admin:webhook_off"),
]
