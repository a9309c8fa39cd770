"""A site's single sign-on secret from the dashboard: whether it is on, a new one (shown once), off."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.routing import Route

from ..state import state
from ..store import keys
from .admin import SITE, require_admin
from .common import JSON


async def get_sso(request: Request) -> JSON:
    """GET /api/admin/sites/{site}/sso: whether the site signs its members in (never the secret).

    Errors: auth_required 401, invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    return JSON({"sso": {"enabled": bool(await state(request).redis.exists(keys.sso_secret(site.id)))}})


async def new_sso_secret(request: Request) -> JSON:
    """PUT /api/admin/sites/{site}/sso: a new signing secret, returned this once (the old one stops working).

    Errors: auth_required 401, invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    secret = secrets.token_urlsafe(32)
    await state(request).redis.set(keys.sso_secret(site.id), secret)
    return JSON({"sso": {"enabled": True, "secret": secret}})


async def sso_off(request: Request) -> JSON:
    """DELETE /api/admin/sites/{site}/sso: no more single sign-on (sessions already given keep going).

    Errors: auth_required 401, invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    await state(request).redis.delete(keys.sso_secret(site.id))
    return JSON({"sso": {"enabled": False}})


routes = [
    Route(SITE + "/sso", get_sso, methods=["GET"], name="admin:sso"),
    Route(SITE + "/sso", new_sso_secret, methods=["PUT"], name="admin:sso_new"),
    Route(SITE + "/sso", sso_off, methods=["DELETE"], name="admin:sso_off"),
]
