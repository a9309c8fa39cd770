"""What the widget may know about a site: its name and the features it has on."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..auth.providers import enabled
from ..state import state
from .common import JSON, site_for


async def get_site(request: Request) -> JSON:
    """GET /api/sites/{site}: public site settings. Errors: site_not_found, origin_not_allowed."""
    site = await site_for(request, request.path_params["site"])
    providers = [{"id": p.id, "name": p.label} for p in enabled(state(request).settings)]
    return JSON({"site": {"id": site.id, "name": site.name, "moderation": site.moderation, "providers": providers}})


routes = [Route("/api/sites/{site}", get_site, methods=["GET"], name="sites:get")]
