"""The HTML documents the server renders: the widget's iframe with its CSP, and the demo post."""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .state import state
from .store import keys


@lru_cache(maxsize=8)
def _read(path: Path) -> str:
    return path.read_text()


def _static() -> Path:
    from .app import static_dir

    return static_dir()


def frame_csp(public_url: str, origins: list[str]) -> str:
    ws = public_url.replace("https://", "wss://").replace("http://", "ws://")
    # frame-ancestors: only the site's own pages may frame its comments, which
    # stops clickjacking of the like and post buttons from any other page.
    ancestors = " ".join(origins) or "'none'"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {ws}; font-src 'self'; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {ancestors}")


async def get_frame(request: Request) -> Response:
    """GET /frame?site=ID: the iframe document the loader inserts; 404 for an unknown site."""
    st = state(request)
    site_id = request.query_params.get("site", "")
    site = await st.sites.get(site_id) if keys.SITE_ID.match(site_id) else None
    if site is None:
        return HTMLResponse("<!doctype html><title>Unknown site</title><p>This site is not registered.</p>",
                            status_code=404)
    body = _read(_static() / "frame.html")
    return HTMLResponse(body, headers={
        "content-security-policy": frame_csp(st.settings.public_url, site.origins),
        "cache-control": "no-cache",
    })


async def get_demo_post(request: Request) -> Response:
    """GET /demo/: the demo blog post, embedding the widget from the public URL."""
    st = state(request)
    if not st.settings.demo_page:
        return HTMLResponse("<!doctype html><title>Not found</title><p>Not found.</p>", status_code=404)
    page = _read(_static() / "demo" / "index.html")
    return HTMLResponse(page.replace("{{REJOINDER_URL}}", html.escape(st.settings.public_url)))


routes = [
    Route("/frame", get_frame, methods=["GET"], name="frame:get"),
    Route("/demo/", get_demo_post, methods=["GET"], name="demo:get"),
]
