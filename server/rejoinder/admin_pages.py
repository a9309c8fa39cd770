"""The admin's HTML pages: the dashboard document with its CSP, and the approve/delete links from mail."""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import links
from .api.admin import moderate
from .api.common import JSON
from .errors import ApiError
from .assets import static_text
from .state import state
from .store import keys

# Our own script and style only, nothing inline, no framing (clickjacking of the
# action buttons), and fetches and the live socket back to this origin only.
ADMIN_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self' {ws}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
LINK_ACTIONS = {"approve": "Approve", "delete": "Delete"}
MAX_TOKEN = 1000


def _headers(request: Request) -> dict[str, str]:
    public = state(request).settings.public_url
    ws = public.replace("https://", "wss://").replace("http://", "ws://")
    return {"content-security-policy": ADMIN_CSP.format(ws=ws), "cache-control": "no-store",
            # Referrers only to our own origin: the sign-in popup's start checks one in browsers
            # without Fetch Metadata (api/popup.py started_here); no other site learns a dashboard URL.
            "referrer-policy": "same-origin"}


async def get_dashboard(request: Request) -> Response:
    """GET /admin/: the moderation dashboard (static/admin/index.html)."""
    return HTMLResponse(static_text("admin/index.html"), headers=_headers(request))


def _page(request: Request, title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1">'
           f'<title>{html.escape(title)} · Rejoinder</title><link rel="icon" href="data:,">'
           '<link rel="stylesheet" href="/admin/admin.css"></head>'
           f'<body class="act"><main><h1>{html.escape(title)}</h1>{body}</main></body></html>')
    return HTMLResponse(doc, status_code=status, headers=_headers(request))


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _refusal(request: Request, error: ApiError) -> Response:
    if _wants_json(request):
        return JSON(error.body(), status_code=error.status)
    return _page(request, "This link did not work", f"<p>{html.escape(error.message)}</p>"
                 '<p><a href="/admin/">Open the dashboard</a></p>', error.status)


async def act_by_link(request: Request) -> Response:
    """GET /admin/act?token=: confirm an approve/delete link from a held-comment mail; POST (form
    field token): do it. Needs no login; the link is signed for one comment and action and expires
    after REJOINDER_MODERATION_LINK_HOURS. GET never acts, so mail scanners that follow links change nothing.

    Errors (HTML page, or JSON with Accept: application/json): link_invalid 401,
    thread_not_found 404, comment_not_found 404, comment_deleted 409.
    """
    st = state(request)
    if request.method == "POST":
        raw = (await request.body())[:MAX_TOKEN * 2].decode("latin-1")
        token = (parse_qs(raw).get("token") or [""])[0]
    else:
        token = request.query_params.get("token", "")
    payload = links.verify(st.settings, "moderate", token[:MAX_TOKEN], st.settings.moderation_link_hours * 3600) \
        if token and len(token) <= MAX_TOKEN else None
    try:
        if payload is None or payload.get("a") not in LINK_ACTIONS or not isinstance(payload.get("c"), int) \
                or not keys.SITE_ID.match(str(payload.get("s", ""))) or not keys.THREAD_ID.match(str(payload.get("t", ""))):
            raise ApiError("link_invalid")
        site_id, tid, cid, action = payload["s"], payload["t"], payload["c"], payload["a"]
        site = await st.sites.get(site_id)
        if site is None or await st.comments.site_of(tid) != site_id:
            raise ApiError("thread_not_found")
        doc = await st.comments.get(tid, cid)
        if doc is None:
            raise ApiError("comment_not_found")
        if request.method == "POST":
            done, _ = await moderate(request, site, tid, cid, action)
            doc = done.doc
        elif action == "approve" and doc.get("status") == "deleted":
            # The same answer as pressing the button would give, in HTML and in JSON alike.
            raise ApiError("comment_deleted")
    except ApiError as error:
        return _refusal(request, error)
    verb = LINK_ACTIONS[action]
    if _wants_json(request):
        return JSON({"action": action, "status": doc.get("status"), "done": request.method == "POST"})
    meta = await st.comments.meta(tid)
    author = html.escape((doc.get("author") or {}).get("name", ""))
    where = html.escape(meta.get("title") or meta.get("page") or "")
    shown = f'<p class="meta">{author} on “{where}”</p><div class="body">{doc.get("html", "")}</div>'
    if request.method == "POST" or doc.get("status") == ("approved" if action == "approve" else "deleted"):
        state_word = "approved" if doc.get("status") == "approved" else doc.get("status", "")
        return _page(request, f"Comment {html.escape(state_word)}", f"<p>Done: the comment is {html.escape(state_word)}.</p>"
                     + shown + '<p><a href="/admin/">Open the dashboard</a></p>')
    form = ('<form method="post" action="/admin/act">'
            f'<input type="hidden" name="token" value="{html.escape(token)}">'
            f'<button type="submit" class="primary">{verb} this comment</button></form>')
    return _page(request, f"{verb} this comment?", shown + form)


routes = [
    Route("/admin", lambda request: RedirectResponse("/admin/", status_code=308), methods=["GET"], name="admin:home"),
    Route("/admin/", get_dashboard, methods=["GET"], name="admin:dashboard"),
    Route("/admin/index.html", lambda request: RedirectResponse("/admin/", status_code=308), name="admin:index"),
    Route("/admin/act", act_by_link, methods=["GET", "POST"], name="admin:link"),
]
