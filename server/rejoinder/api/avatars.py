"""Generated avatars for guests: an identicon from a keyed hash, served by us so no
third party learns who reads or writes (and no email hash is ever published)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError

_NAME = re.compile(r"^[0-9a-f]{20}\.svg$")


def identicon(digest: str) -> str:
    bits = int(digest, 16)
    hue = bits % 360
    cells = []
    # A 5x5 grid mirrored left to right: 15 bits decide the cells.
    for row in range(5):
        for col in range(3):
            if (bits >> (8 + row * 3 + col)) & 1:
                for x in {col, 4 - col}:
                    cells.append(f'<rect x="{x + 1}" y="{row + 1}" width="1" height="1"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 7 7" width="56" height="56">'
        f'<rect width="7" height="7" fill="hsl({hue},45%,92%)"/>'
        f'<g fill="hsl({hue},55%,42%)">{"".join(cells)}</g></svg>'
    )


async def get_avatar(request: Request) -> Response:
    """GET /api/avatars/{name}.svg: a guest's generated avatar. Errors: not_found."""
    name = request.path_params["name"]
    if not _NAME.match(name):
        raise ApiError("not_found")
    return Response(identicon(name[:20]), media_type="image/svg+xml", headers={
        "cache-control": "public, max-age=31536000, immutable",
        # An SVG opened directly must not run script: no script source at all.
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    })


routes = [Route("/api/avatars/{name}", get_avatar, methods=["GET"], name="avatars:get")]
