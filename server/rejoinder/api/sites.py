"""What the widget may know about a site: its name and the features it has on."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .. import pow
from ..auth.providers import choices
from ..errors import ApiError
from ..state import state
from ..store.sites import Site
from .common import JSON, site_for


def public_site(request: Request, site: Site) -> dict[str, Any]:
    settings = state(request).settings
    return {"id": site.id, "name": site.name, "moderation": site.moderation,
            "providers": choices(settings),
            "akismet": bool(settings.akismet_key),
            # The widget offers "Notify me of new comments via email" only when mail can be sent.
            "notifications": settings.mail_enabled,
            # Guests' comments need a proof of work (pow.py): the widget solves one while the reader types.
            "pow": site.pow,
            # The emoji readers may react with, in the order the widget offers them.
            "reactions": site.reactions,
            # "Someone is replying…": the widget says when its reader types (POST .../typing).
            "typing": site.typing}


async def get_site(request: Request) -> JSON:
    """GET /api/sites/{site}: public site settings. Errors: site_not_found, origin_not_allowed."""
    site = await site_for(request, request.path_params["site"])
    return JSON({"site": public_site(request, site)})


async def get_challenge(request: Request) -> JSON:
    """GET /api/sites/{site}/challenge: a proof-of-work challenge for a guest's next comment (ALTCHA),
    signed for this site, good for 30 minutes and for one comment. Errors: site_not_found,
    origin_not_allowed, not_found (the site asks for none)."""
    site = await site_for(request, request.path_params["site"])
    if not site.pow:
        raise ApiError("not_found", "This site asks for no proof of work.")
    return JSON({"challenge": pow.challenge(state(request).settings.secret_key, site.id)})


routes = [Route("/api/sites/{site}", get_site, methods=["GET"], name="sites:get"),
          Route("/api/sites/{site}/challenge", get_challenge, methods=["GET"], name="sites:challenge")]
