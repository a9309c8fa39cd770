"""Reading an HTML form post (application/x-www-form-urlencoded) without python-multipart.

The local OAuth provider also runs in `rejoinder demo`, whose environment has only
Rejoinder's own dependencies: Starlette's Request.form() needs python-multipart."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_FORM_BYTES = 64 * 1024


async def form_fields(request: Request) -> dict[str, str]:
    """The posted fields (the first value of each); empty for another content type or a body too large."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields
