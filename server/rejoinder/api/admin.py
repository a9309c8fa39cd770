"""The moderation API for a site's admins: sign-in by one-time link, lists, actions, bans, thread flags, policy.

Every route under /api/admin/sites/{site} first checks that the caller
administers that site (require_admin), and every comment or thread it names is
checked to belong to that site: an admin of site A can never read or change B.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.routing import Route

from .. import models, spam
from ..auth import identity
from ..auth.providers import choices
from ..errors import ApiError
from ..social import refs
from ..state import state
from ..store import keys
from ..store.bans import KINDS as BAN_KINDS
from ..store.moderation import ACTIONS, Moderated
from ..store.queue import LISTS, parse_member
from ..store.remote import SOURCES
from ..store.sessions import ADMIN, Session
from ..store.sites import POLICIES, Site, clean_reactions, clean_stylesheet
from .common import JSON, ascii_int, enum_param, int_param, read_json

MAX_BULK = 100
MAX_BLOCKED_WORDS = 200
# Search reads at most this many comments per request and hands back a cursor
# to go on: one request never costs more than a few milliseconds of Redis.
SEARCH_SCAN = 2000
HASH = re.compile(r"^[0-9a-f]{24}$")
IDENTITY = re.compile(r"^(u:[a-z]+:[^\s]{1,200}|g:[0-9a-f]{24}|r:(?:mastodon|bluesky):[0-9a-f]{24})$")


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- who is asking ---------------------------------------------------------------


async def admin_session(conn: HTTPConnection, token: str | None = None) -> Session:
    """The caller's dashboard session (401 without one). The dashboard runs on our own origin:
    a bearer token sent from any other page is refused (a leaked token cannot be used from a
    blog page's scripts through the browser), and a reader's session, which a blog page may
    hold, never opens the admin API."""
    st = state(conn)
    origin = conn.headers.get("origin")
    if origin is not None and origin != st.settings.public_origin:
        raise ApiError("origin_not_allowed")
    if token is None:
        token = identity.bearer(conn)
        if token is None:
            raise ApiError("auth_required")
    session = await st.sessions.get(token.strip())
    if session is None or session.audience != ADMIN:
        raise ApiError("invalid_session")
    return session


async def administers(conn: HTTPConnection, session: Session, site_id: str) -> bool:
    """Asked of the site's admins set on every request, so `rejoinder admin remove` takes effect at once."""
    return await state(conn).admins.is_admin(site_id, identity.user_key(session.user))


async def require_admin(conn: HTTPConnection, token: str | None = None) -> tuple[Site, Session]:
    """The site in the path, if the caller administers it: 401 without a session,
    403 for anyone else (an unknown site is 403 too: a stranger learns nothing)."""
    session = await admin_session(conn, token)
    site_id = conn.path_params.get("site", "")
    if not keys.SITE_ID.match(site_id) or not await administers(conn, session, site_id):
        raise ApiError("not_site_admin")
    site = await state(conn).sites.get(site_id)
    if site is None:
        raise ApiError("site_not_found")
    return site, session


async def site_thread(conn: HTTPConnection, site: Site, tid: Any) -> str:
    """A thread id of this site; any other is not found (never another site's)."""
    if not isinstance(tid, str) or not keys.THREAD_ID.match(tid):
        raise ApiError("thread_not_found")
    if await state(conn).comments.site_of(tid) != site.id:
        raise ApiError("thread_not_found")
    return tid


def _cid(value: Any) -> int:
    if isinstance(value, str):
        value = ascii_int(value, 11)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 10 ** 15:
        raise ApiError("comment_not_found")
    return value


# --- views -----------------------------------------------------------------------


def _email_hash(conn: HTTPConnection, doc: dict[str, Any]) -> str:
    email = doc.get("email") or ""
    return identity.keyed_hash(state(conn).settings.secret_key, "email:" + email.lower()) if email else ""


def _thread_summary(tid: str, meta: dict[str, str]) -> dict[str, Any]:
    return {"id": tid, "title": meta.get("title", ""), "url": meta.get("url") or None,
            "locked": meta.get("locked") == "1",
            "pinned": ascii_int(meta.get("pinned"))}


def admin_view(conn: HTTPConnection, tid: str, doc: dict[str, Any], meta: dict[str, str]) -> dict[str, Any]:
    """What an admin sees of a comment. Never the email address: a keyed hash of it
    is enough to recognise and ban a commenter, and a site admin on a shared host
    is not the operator, so the address stays with its owner."""
    author = doc.get("author") or {}
    trash = doc.get("trash") or {}
    thread = _thread_summary(tid, meta)
    return {
        "tid": tid, "id": doc["id"], "parent": doc.get("parent"), "status": doc.get("status"),
        "created": models.iso(doc.get("created")), "edited": models.iso(doc.get("edited")),
        "author": {**(models.public_author(doc) or {}), "kind": author.get("kind", "")},
        "html": doc.get("html") or trash.get("html", ""),
        "identity": doc.get("owner") or None, "email_hash": _email_hash(conn, doc) or None,
        "ip_hash": doc.get("ip") or None,
        "reasons": [r for r in (doc.get("spam_reasons") or "").split(",") if r],
        "reports": {"count": int(doc.get("flags") or 0), "reasons": doc.get("flag_reasons") or {}},
        "restorable": doc.get("status") == "deleted" and bool(trash),
        "pinned": thread["pinned"] == doc["id"], "thread": thread,
    }


def site_view(site: Site) -> dict[str, Any]:
    return {"id": site.id, "name": site.name, "origins": site.origins, "moderation": site.moderation,
            "blocklist": site.blocklist, "policies": list(POLICIES), "pow": site.pow,
            "hold_reports": site.hold_reports, "reactions": site.reactions, "typing": site.typing,
            "stylesheet": site.stylesheet or None, "remote_authors": site.remote_authors}


# --- sign-in ---------------------------------------------------------------------


async def open_session(request: Request) -> JSON:
    """POST /api/admin/session {"token"}: exchange a one-time admin link for a session, once.

    The link carries the token in its fragment, so it never reaches a server log;
    the dashboard sends it here and keeps the session it gets back.
    Errors: link_invalid 401, missing_field 422, origin_not_allowed 403,
    malformed_json 400, unsupported_media_type 415.
    """
    st = state(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != st.settings.public_origin:
        raise ApiError("origin_not_allowed")
    body = await read_json(request)
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise ApiError("missing_field", "token is required.", field="token")
    if len(token) > 200:
        raise ApiError("link_invalid")
    site_id = await st.admins.take_link(token)
    if site_id is None:
        raise ApiError("link_invalid")
    # The link's holder becomes an admin identity of its own, listed by `rejoinder admin list`
    # and removed (with its sessions) by `rejoinder admin remove`, like any other admin.
    user = {"id": "link:" + secrets.token_hex(8), "provider": "link", "name": f"Admin of {site_id}",
            "avatar": "", "profile": "", "email": ""}
    await st.users.save(user)
    await st.admins.add(site_id, identity.user_key(user))
    session = await st.sessions.create(user, audience=ADMIN)
    return JSON({"token": session, **await _me_body(request, user)})


async def _me_body(conn: HTTPConnection, user: dict[str, Any]) -> dict[str, Any]:
    st = state(conn)
    key = identity.user_key(user)
    ids = await st.admins.sites_of(key)
    sites = []
    for site_id in ids:
        site = await st.sites.get(site_id)
        if site is not None:
            sites.append({"id": site.id, "name": site.name})
    return {"me": {"name": user.get("name", ""), "provider": user.get("provider", ""), "identity": key},
            "sites": sites}


async def list_admin_providers(request: Request) -> JSON:
    """GET /api/admin/providers: the sign-in providers the dashboard offers (no session needed)."""
    # The dashboard signs in with an account of a provider; a mailed link and passkeys are for readers.
    return JSON({"providers": [c for c in choices(state(request).settings) if c["id"] not in ("email", "passkey")]})


async def get_admin_me(request: Request) -> JSON:
    """GET /api/admin/me: the signed-in caller and the sites they administer (maybe none).

    Errors: auth_required 401, invalid_session 401, origin_not_allowed 403.
    """
    return JSON(await _me_body(request, (await admin_session(request)).user))


# --- site settings -----------------------------------------------------------------


async def get_site_settings(request: Request) -> JSON:
    """GET /api/admin/sites/{site}: the site's moderation settings and queue sizes.

    Errors: auth_required 401, invalid_session 401, not_site_admin 403, origin_not_allowed 403.
    """
    st = state(request)
    site, _ = await require_admin(request)
    counts = {name: await st.queue.size(site.id, name) for name in ("pending", "spam", "reported")}
    return JSON({"site": site_view(site), "counts": counts})


def _blocklist(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_BLOCKED_WORDS:
        raise ApiError("invalid_field", f"blocklist must be a list of at most {MAX_BLOCKED_WORDS} words.",
                       field="blocklist")
    words = [models.clean_line(w, "blocklist", max_len=100) for w in value]
    return list(dict.fromkeys(w for w in words if w))


MAX_REMOTE_AUTHORS = 10


def _remote_authors(value: Any) -> list[str]:
    """The site's own Mastodon and Bluesky accounts, whose posts a page may name (social/refs.py)."""
    if not isinstance(value, list) or len(value) > MAX_REMOTE_AUTHORS:
        raise ApiError("invalid_field", f"remote_authors is a list of at most {MAX_REMOTE_AUTHORS} accounts.",
                       field="remote_authors")
    out = []
    for item in value:
        account = refs.author(item)
        if account is None:
            raise ApiError("invalid_field", "Each of remote_authors is a Mastodon profile URL (https://server/@name),"
                           " a Bluesky handle or a DID.", field="remote_authors")
        out.append(account)
    return list(dict.fromkeys(out))


async def update_site_settings(request: Request) -> JSON:
    """PATCH /api/admin/sites/{site} {"moderation"?, "blocklist"?, "pow"?, "hold_reports"?}: the moderation
    policy, blocked words, whether guests' comments need a proof of work, and how many readers' reports
    hold a comment (0: never).

    Errors: auth_required 401, invalid_session 401, not_site_admin 403, invalid_field 422,
    unknown_field 422, malformed_json 400, unsupported_media_type 415.
    """
    st = state(request)
    site, _ = await require_admin(request)
    body = await read_json(request)
    unknown = set(body) - {"moderation", "blocklist", "pow", "hold_reports", "reactions", "typing", "stylesheet",
                           "remote_authors"}
    if unknown:
        raise ApiError("unknown_field", field=sorted(unknown)[0])
    if "moderation" in body:
        if body["moderation"] not in POLICIES:
            raise ApiError("invalid_field", f"moderation must be one of {', '.join(POLICIES)}.", field="moderation")
        site.moderation = body["moderation"]
    if "blocklist" in body:
        site.blocklist = _blocklist(body["blocklist"])
    if "pow" in body:
        if not isinstance(body["pow"], bool):
            raise ApiError("invalid_field", "pow must be true or false.", field="pow")
        site.pow = body["pow"]
    if "hold_reports" in body:
        value = body["hold_reports"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise ApiError("invalid_field", "hold_reports is a number from 0 (never) to 1000.", field="hold_reports")
        site.hold_reports = value
    if "stylesheet" in body:
        try:
            site.stylesheet = clean_stylesheet(body["stylesheet"], site.origins)
        except ValueError as exc:
            raise ApiError("invalid_field", f"{exc}.", field="stylesheet") from None
    if "typing" in body:
        if not isinstance(body["typing"], bool):
            raise ApiError("invalid_field", "typing must be true or false.", field="typing")
        site.typing = body["typing"]
    if "remote_authors" in body:
        site.remote_authors = _remote_authors(body["remote_authors"])
    if "reactions" in body:
        try:
            site.reactions = clean_reactions(body["reactions"])
        except ValueError as exc:
            raise ApiError("invalid_field", f"{exc}.", field="reactions") from None
    await st.sites.update(site)
    return JSON({"site": site_view(site)})


# --- lists and search --------------------------------------------------------------


def _cursor(raw: str | None) -> tuple[int, str] | None:
    if not raw:
        return None
    score, _, m = raw.partition("~")
    value = ascii_int(score)
    if value is None or parse_member(m) is None:
        raise ApiError("invalid_cursor")
    return value, m


def _on_list(name: str, doc: dict[str, Any]) -> bool:
    """Whether a comment still belongs on a list: its status, or for "reported", reports not yet answered."""
    if name == "recent":
        return True
    if name == "reported":
        return bool(doc.get("flags")) and doc.get("status") in ("approved", "pending")
    return doc.get("status") == name


def _matches(doc: dict[str, Any], text: str, author: str, email_hash: str) -> bool:
    if text:
        body = (doc.get("text") or (doc.get("trash") or {}).get("text") or "").lower()
        if text not in body:
            return False
    if author:
        name = ((doc.get("author") or {}).get("name") or "").lower()
        exact = {(doc.get("owner") or "").lower(), doc.get("ip") or "", email_hash} - {""}
        if author not in name and author not in exact:
            return False
    return True


async def list_comments(request: Request) -> JSON:
    """GET /api/admin/sites/{site}/comments?list=pending|spam|recent&q=&author=&cursor=&limit=

    Newest first. `q` searches the text, `author` the name (or an exact identity,
    email hash or IP hash), over the site's most recent comments.
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, invalid_field 422, invalid_cursor 400.
    """
    st = state(request)
    site, _ = await require_admin(request)
    q = request.query_params
    name = enum_param(request, "list", tuple(LISTS), "pending") or "pending"
    text = models.clean_line(q.get("q"), "q", max_len=200).lower()
    author = models.clean_line(q.get("author"), "author", max_len=200).lower()
    limit = int_param(request, "limit", 50, 1, 200)
    cursor = _cursor(q.get("cursor"))
    searching = bool(text or author)
    found: list[tuple[str, dict[str, Any]]] = []
    stale: list[str] = []
    scanned = 0
    more = False
    while len(found) < limit and scanned < SEARCH_SCAN:
        want = 200 if searching else limit - len(found)
        batch = await st.queue.page(site.id, name, cursor, want)
        pointers = [(m, score, parse_member(m)) for m, score in batch]
        docs = await st.moderation.docs([p for _, _, p in pointers if p])
        left_in_batch = False
        for i, (m, score, p) in enumerate(pointers):
            cursor = (score, m)
            scanned += 1
            doc = docs.get(p) if p else None
            # A pointer whose comment moved on since it was written is dropped now.
            if doc is None or not _on_list(name, doc):
                stale.append(m)
                continue
            if searching and not _matches(doc, text, author, _email_hash(request, doc)):
                continue
            found.append((p[0], doc))
            if len(found) == limit:
                left_in_batch = i < len(pointers) - 1
                break
        # A short batch is the end of the list; a full one may have more after it.
        more = left_in_batch or len(batch) == want
        if len(batch) < want:
            break
    if stale and name != "recent":
        await st.queue.drop(site.id, name, stale)
    metas = await st.moderation.metas([tid for tid, _ in found])
    out = [admin_view(request, tid, doc, metas.get(tid, {})) for tid, doc in found]
    nxt = f"{cursor[0]}~{cursor[1]}" if more and cursor else None
    return JSON({"comments": out, "next": nxt, "scanned": scanned})


# --- actions -----------------------------------------------------------------------


async def moderate(conn: HTTPConnection, site: Site, tid: str, cid: int, action: str) -> tuple[Moderated, str]:
    """One status change: the thread's atomic step, then the site's feed and lists,
    then (for spam / not spam) the correction to Akismet. Returns the result and
    what became of the correction ("sent", "failed", "off", or "" if none was due)."""
    st = state(conn)
    done = await st.moderation.act(tid, cid, action, _now_ms())
    doc = done.doc
    # The pointer always, even when nothing changed: this also repairs one a crash left behind.
    await st.feed.announce(site.id, tid, done.event if done.changed else "",
                           pointer=(cid, doc.get("status", ""), doc.get("created", 0)))
    if done.changed and doc.get("status") == "approved" and (doc.get("author") or {}).get("kind") == "guest" \
            and site.moderation == "hold_first_guests":
        await st.sites.mark_known(site.id, doc.get("owner", ""), _email_hash(conn, doc))
    akismet = ""
    if done.changed and action in ("spam", "ham"):
        meta = await st.comments.meta(tid)
        akismet = await spam.akismet_submit(st.settings, site, action, doc,
                                            await st.moderation.akismet_context(tid, cid), meta.get("url", ""))
    return done, akismet


async def act_on_comment(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/comments/{tid}/{cid}/{action}: approve, reject, spam, ham, delete or restore.

    Repeating an action that already holds changes nothing. spam and ham also
    tell Akismet (when it is on); if Akismet is down the action still succeeds.
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, not_found 404,
    thread_not_found 404, comment_not_found 404, comment_deleted 409, not_deleted 409,
    nothing_to_restore 409.
    """
    st = state(request)
    site, _ = await require_admin(request)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise ApiError("not_found")
    tid = await site_thread(request, site, request.path_params["tid"])
    done, akismet = await moderate(request, site, tid, _cid(request.path_params["cid"]), action)
    metas = await st.moderation.metas([tid])
    return JSON({"comment": admin_view(request, tid, done.doc, metas[tid]), "changed": done.changed,
                 "akismet": akismet or None})


async def bulk_action(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/bulk {"action", "items": [{"tid", "cid"}]}: one action on up to 100 comments.

    Each item succeeds or fails on its own (each is its own atomic step); the
    answer lists every item's outcome in order.
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, invalid_field 422,
    missing_field 422, malformed_json 400, unsupported_media_type 415.
    """
    site, _ = await require_admin(request)
    body = await read_json(request)
    action, items = body.get("action"), body.get("items")
    if action not in ACTIONS:
        raise ApiError("invalid_field", f"action must be one of {', '.join(ACTIONS)}.", field="action")
    if not isinstance(items, list) or not items:
        raise ApiError("missing_field", "items must list the comments to act on.", field="items")
    if len(items) > MAX_BULK:
        raise ApiError("invalid_field", f"At most {MAX_BULK} items at once.", field="items")
    if not all(isinstance(i, dict) and set(i) <= {"tid", "cid"} for i in items):
        raise ApiError("invalid_field", "Each item is {\"tid\", \"cid\"}.", field="items")

    async def one(item: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"tid": item.get("tid"), "cid": item.get("cid")}
        try:
            tid = await site_thread(request, site, item.get("tid"))
            done, akismet = await moderate(request, site, tid, _cid(item.get("cid")), action)
        except ApiError as exc:
            return {**out, "ok": False, "error": exc.body()["error"]}
        return {**out, "ok": True, "status": done.doc.get("status"), "changed": done.changed,
                "akismet": akismet or None}

    # Concurrently: with Akismet slow, 100 corrections wait one timeout, not a hundred.
    results = await asyncio.gather(*(one(i) for i in items))
    return JSON({"results": results})


async def update_thread(request: Request) -> JSON:
    """PATCH /api/admin/sites/{site}/threads/{tid} {"locked"?: bool, "pinned"?: cid | null, "mastodon"?: status
    URL | null, "bluesky"?: post | null}: lock, pin, follow a post's replies.

    A locked thread refuses new comments (thread_locked); the pinned comment leads
    the thread's first page. The replies of the thread's Mastodon status or Bluesky post (at:// URI or its
    page) come into the thread (an admin may name anyone's post; null stops following it). Errors: auth_required 401, invalid_session 401,
    not_site_admin 403, thread_not_found 404, comment_not_found 404, pin_not_allowed 409,
    invalid_field 422, unknown_field 422.
    """
    st = state(request)
    site, _ = await require_admin(request)
    tid = await site_thread(request, site, request.path_params["tid"])
    body = await read_json(request)
    unknown = set(body) - {"locked", "pinned", "mastodon", "bluesky"}
    if unknown:
        raise ApiError("unknown_field", field=sorted(unknown)[0])
    for source, parse in (("mastodon", refs.mastodon_status), ("bluesky", refs.bluesky_post)):
        if source in body:
            value = body[source]
            if value is not None and parse(value) is None:
                raise ApiError("invalid_field", f"{source} must name a post on {source.capitalize()}, or be null.",
                               field=source)
            await st.remote.link(site.id, tid, source, value or "", by_admin=True)
    if "locked" in body:
        if not isinstance(body["locked"], bool):
            raise ApiError("invalid_field", "locked must be true or false.", field="locked")
        if await st.moderation.set_flag(tid, "locked", "1" if body["locked"] else "0"):
            await st.feed.announce(site.id, tid, "thread.locked")
    if "pinned" in body:
        pinned = body["pinned"]
        value = "" if pinned is None else str(_cid(pinned))
        if await st.moderation.set_flag(tid, "pinned", value):
            await st.feed.announce(site.id, tid, "thread.pinned")
    metas = await st.moderation.metas([tid])
    return JSON({"thread": {**_thread_summary(tid, metas[tid]), "remote": await _remote_view(request, tid)}})


async def _remote_view(request: Request, tid: str) -> dict[str, Any]:
    """The thread's followed posts, and how following each goes (the last look, the last error's category)."""
    st = state(request)
    meta = await st.comments.meta(tid)
    notes = await st.remote.state(tid)
    out: dict[str, Any] = {}
    for source in SOURCES:
        if meta.get(source):
            checked = ascii_int(notes.get(f"{source}:checked"))
            out[source] = {"post": meta[source], "by": meta.get(source + "_by") or None,
                           "checked": models.iso(checked) if checked else None,
                           "error": notes.get(f"{source}:error") or None}
    return out


# --- bans ------------------------------------------------------------------------


def _ban_value(conn: HTTPConnection, kind: Any, body: dict[str, Any]) -> str:
    if kind not in BAN_KINDS:
        raise ApiError("invalid_field", f"kind must be one of {', '.join(BAN_KINDS)}.", field="kind")
    if kind == "email" and "email" in body:
        # An admin who knows an address may ban it; only its keyed hash is kept.
        email = models.clean_email(body["email"])
        if not email:
            raise ApiError("missing_field", "email is required.", field="email")
        return identity.keyed_hash(state(conn).settings.secret_key, "email:" + email.lower())
    value = body.get("value")
    pattern = IDENTITY if kind == "identity" else HASH
    if not isinstance(value, str) or not pattern.match(value):
        raise ApiError("invalid_field", "value is not an identity key or hash from a comment.", field="value")
    return value


async def list_bans(request: Request) -> JSON:
    """GET /api/admin/sites/{site}/bans: the site's bans, newest first.

    Errors: auth_required 401, invalid_session 401, not_site_admin 403.
    """
    site, _ = await require_admin(request)
    return JSON({"bans": await state(request).bans.list(site.id)})


async def add_ban(request: Request) -> JSON:
    """POST /api/admin/sites/{site}/bans {"kind": identity|email|ip, "value" | "email", "note"?}: ban.

    Their new comments go straight to spam, silently: to them it looks pending.
    Errors: auth_required 401, invalid_session 401, not_site_admin 403, invalid_field 422,
    invalid_email 422, missing_field 422, malformed_json 400, unsupported_media_type 415.
    """
    site, _ = await require_admin(request)
    body = await read_json(request)
    value = _ban_value(request, body.get("kind"), body)
    note = models.clean_line(body.get("note"), "note", max_len=200)
    ban = await state(request).bans.add(site.id, body["kind"], value, note, _now_ms())
    return JSON({"ban": ban}, status_code=201)


async def remove_ban(request: Request) -> JSON:
    """DELETE /api/admin/sites/{site}/bans/{kind}/{value}: lift a ban.

    Errors: auth_required 401, invalid_session 401, not_site_admin 403, not_found 404.
    """
    site, _ = await require_admin(request)
    kind, value = request.path_params["kind"], request.path_params["value"]
    if kind not in BAN_KINDS or not await state(request).bans.remove(site.id, kind, value):
        raise ApiError("not_found")
    return JSON({"removed": {"kind": kind, "value": value}})


SITE = "/api/admin/sites/{site}"
routes = [
    Route("/api/admin/session", open_session, methods=["POST"], name="admin:session"),
    Route("/api/admin/me", get_admin_me, methods=["GET"], name="admin:me"),
    Route("/api/admin/providers", list_admin_providers, methods=["GET"], name="admin:providers"),
    Route(SITE, get_site_settings, methods=["GET"], name="admin:site"),
    Route(SITE, update_site_settings, methods=["PATCH"], name="admin:site_update"),
    Route(SITE + "/comments", list_comments, methods=["GET"], name="admin:comments"),
    Route(SITE + "/comments/{tid}/{cid}/{action}", act_on_comment, methods=["POST"], name="admin:act"),
    Route(SITE + "/bulk", bulk_action, methods=["POST"], name="admin:bulk"),
    Route(SITE + "/threads/{tid}", update_thread, methods=["PATCH"], name="admin:thread"),
    Route(SITE + "/bans", list_bans, methods=["GET"], name="admin:bans"),
    Route(SITE + "/bans", add_ban, methods=["POST"], name="admin:ban"),
    Route(SITE + "/bans/{kind}/{value}", remove_ban, methods=["DELETE"], name="admin:unban"),
]
