"""Links from mail: confirm a subscription, and unsubscribe (one-click POST, or a page with a button)."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .. import links
from ..errors import ApiError, error_response
from ..notify import templates
from ..notify.mail import CONFIRM, UNSUBSCRIBE
from ..state import state
from ..store import keys
from ..store.sites import Site

_HASH = re.compile(r"^[0-9a-f]{24}$")
# An unsubscribe link must keep working in an old mail: five years.
UNSUBSCRIBE_MAX_AGE = 5 * 365 * 24 * 3600
# Pages carry no script and post only to themselves.
PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"content-security-policy": PAGE_CSP,
                                                           "cache-control": "no-store"})


def _refuse(request: Request, error: ApiError) -> Response:
    """A JSON error for programs; a readable page for a person who clicked a link in a mail."""
    if "text/html" in request.headers.get("accept", ""):
        return _page(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(error.message)}</title>'
                     f'</head><body><p data-code="{error.code}">{escape(error.message)}</p></body></html>', error.status)
    return error_response(error)


def _token(request: Request, purpose: str, max_age: int) -> dict[str, Any]:
    """The link's payload. A forged or mangled link is invalid_link; a genuine old one link_expired."""
    settings = state(request).settings
    token = request.query_params.get("token", "")
    if not token or len(token) > 1000:
        raise ApiError("invalid_link")
    payload = links.verify(settings, purpose, token, max_age)
    if payload is None:
        if links.verify(settings, purpose, token, 100 * 365 * 24 * 3600) is not None:
            raise ApiError("link_expired")
        raise ApiError("invalid_link")
    site, tid, ehash = payload.get("s"), payload.get("t", ""), payload.get("e") or payload.get("o")
    if not (isinstance(site, str) and keys.SITE_ID.match(site) and isinstance(ehash, str) and _HASH.match(ehash)
            and isinstance(tid, str) and (tid == "" or keys.THREAD_ID.match(tid))):
        raise ApiError("invalid_link")
    return payload


async def _site(request: Request, site_id: str) -> Site:
    site = await state(request).sites.get(site_id)
    if site is None:
        raise ApiError("site_not_found")
    return site


async def confirm_subscription(request: Request) -> Response:
    """GET (a page with a button) or POST /api/notify/confirm?token=: confirm a subscription to a thread's new comments.

    Errors: invalid_link, link_expired, site_not_found, subscription_not_found.
    """
    st = state(request)
    try:
        payload = _token(request, CONFIRM, st.settings.confirm_link_hours * 3600)
        site = await _site(request, payload["s"])
        tid = payload["t"]
        if not tid:
            raise ApiError("invalid_link")
        title = (await st.comments.meta(tid)).get("title", "")
        if request.method == "GET":
            if await st.subscriptions.state(tid, payload["e"]) is None:
                raise ApiError("subscription_not_found")
            return _page(templates.page(site.language, "page_confirm", button="confirm_action",
                                        title=title or templates.Words(site.language).text("this_post")))
        if not await st.subscriptions.confirm(tid, payload["e"]):
            raise ApiError("subscription_not_found")
        await st.sites.confirm_email(site.id, payload["e"])
    except ApiError as error:
        return _refuse(request, error)
    return _page(templates.page(site.language, "page_confirmed",
                                title=title or templates.Words(site.language).text("this_post")))


async def unsubscribe(request: Request) -> Response:
    """GET (a page with a button) or POST /api/notify/unsubscribe?token=: stop a kind of mail.

    POST is RFC 8058 one-click unsubscribe (mail clients send List-Unsubscribe=One-Click);
    it succeeds again if already unsubscribed. Errors: invalid_link, link_expired, site_not_found.
    """
    st = state(request)
    try:
        payload = _token(request, UNSUBSCRIBE, UNSUBSCRIBE_MAX_AGE)
        site = await _site(request, payload["s"])
        tid = payload.get("t", "")
        words = templates.Words(site.language)
        title = ((await st.comments.meta(tid)).get("title", "") if tid else "") or words.text("this_post")
        if request.method == "GET":
            key = "page_unsubscribe" if tid else "page_unsubscribe_owner"
            return _page(templates.page(site.language, key, button="unsubscribe", title=title,
                                        site=site.name or site.id))
        if tid:
            await st.subscriptions.remove(tid, payload["e"])
        else:
            await st.notify.opt_out_owner(site.id, payload["o"])
    except ApiError as error:
        return _refuse(request, error)
    return _page(templates.page(site.language, "page_unsubscribed"))


routes = [
    Route("/api/notify/confirm", confirm_subscription, methods=["GET", "POST"], name="notify:confirm"),
    Route("/api/notify/unsubscribe", unsubscribe, methods=["GET", "POST"], name="notify:unsubscribe"),
]
