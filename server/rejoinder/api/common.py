"""Request helpers every API area shares: JSON bodies, origin checks, thread lookup, paging."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ApiError
from ..state import state
from ..store import keys
from ..store.sites import Site

JSON_TYPES = ("application/json", "application/merge-patch+json")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 415 for another type, 400 if it does not parse."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise ApiError("unsupported_media_type")
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError("malformed_json") from None
    if not isinstance(body, dict):
        raise ApiError("malformed_json", "The request body must be a JSON object.")
    return body


def check_origin(request: Request, site: Site) -> None:
    """A browser on a page the site did not register cannot read or write its
    comments: that stops other pages from using a reader's session and likes."""
    origin = request.headers.get("origin")
    if origin is None or origin == state(request).settings.public_origin:
        return
    if origin not in site.origins:
        raise ApiError("origin_not_allowed")


async def site_for(request: Request, site_id: Any) -> Site:
    if not isinstance(site_id, str) or not keys.SITE_ID.match(site_id):
        raise ApiError("site_not_found")
    site = await state(request).sites.get(site_id)
    if site is None:
        raise ApiError("site_not_found")
    check_origin(request, site)
    return site


_thread_sites: dict[str, str] = {}


async def thread_site(request: Request, tid: str) -> Site:
    """The site a thread belongs to, origin-checked. A thread never changes site,
    so the mapping is kept in memory (bounded)."""
    if not keys.THREAD_ID.match(tid):
        raise ApiError("thread_not_found")
    site_id = _thread_sites.get(tid)
    if site_id is None:
        site_id = await state(request).comments.site_of(tid)
        if site_id is None:
            raise ApiError("thread_not_found")
        if len(_thread_sites) > 100_000:
            _thread_sites.clear()
        _thread_sites[tid] = site_id
    return await site_for(request, site_id)


_DIGITS = re.compile(r"[0-9]{1,15}")


def ascii_int(raw: Any, max_digits: int = 15) -> int | None:
    """The whole number a request wrote in ASCII digits (ids, cursors, scores), else None.

    str.isdigit() is true for "¹²³" and "١٢٣" too, which int() then refuses or reads
    as something else: every id from a request goes through this one rule."""
    if not isinstance(raw, str) or len(raw) > max_digits or not _DIGITS.fullmatch(raw):
        return None
    return int(raw)


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    negative = raw.startswith("-")
    value = ascii_int(raw[1:] if negative else raw)
    if value is None:
        raise ApiError("invalid_field", f"{name} must be a whole number.", field=name)
    value = -value if negative else value
    if not lo <= value <= hi:
        raise ApiError("invalid_field", f"{name} must be between {lo} and {hi}.", field=name)
    return value


def enum_param(request: Request, name: str, choices: Sequence[str], default: str | None) -> str | None:
    """A query parameter that must be one of `choices`: `default` when it is absent, and 422 when it is
    given but empty or anything else ("?format=" is not "the default format")."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise ApiError("invalid_field", f"{name} must be one of {', '.join(choices)}.", field=name)
    return raw


# Top-level comments by time either way, or "best": most liked first (ties oldest first), replies
# under their parents in every order. A best page's cursor is how many came before it.
ORDERS = ("oldest", "newest", "best")


def order_param(request: Request) -> str:
    return enum_param(request, "order", ORDERS, "oldest") or "oldest"


def encode_cursor(order: str, cid: int) -> str:
    return f"{order[0]}{cid}"


def decode_cursor(raw: str | None, order: str) -> int | None:
    """Cursors are the id of the last comment seen: ids only grow, so a page
    boundary never moves when comments are added. For "best", the number seen."""
    if not raw:
        return None
    cid = ascii_int(raw[1:]) if raw[0] == order[0] else None
    if cid is None:
        raise ApiError("invalid_cursor")
    return cid


def comment_id(request: Request) -> int:
    cid = ascii_int(request.path_params["cid"])
    if cid is None:
        raise ApiError("comment_not_found")
    return cid
