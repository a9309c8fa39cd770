"""Comment writes: create, read one, edit, delete, and likes on comments and posts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .. import models, pow, spam
from ..auth import identity
from ..errors import ApiError
from ..models import Identity
from ..render import render
from ..state import state
from ..store.moderation import REPORT_REASONS
from ..store.sites import Site
from .common import JSON, comment_id, read_json, thread_site

EDIT_HEADER = "x-rejoinder-edit-token"
IDEMPOTENCY_HEADER = "idempotency-key"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _body_text(value: Any, max_chars: int) -> str:
    if value is None:
        raise ApiError("comment_empty", field="text")
    if not isinstance(value, str):
        raise ApiError("invalid_field", "text must be a string.", field="text")
    text = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise ApiError("comment_empty", field="text")
    if len(text) > max_chars:
        raise ApiError("comment_too_long", f"A comment can be at most {max_chars} characters.", field="text")
    return text


def _avatar(secret: str, seed: str) -> str:
    return f"/api/avatars/{identity.keyed_hash(secret, 'avatar:' + seed.lower(), 20)}.svg"


async def _limit(request: Request, site: str, viewer: Identity, kind: str, factor: int = 1,
                 ban_fields: Sequence[str] = ()) -> bool:
    """Count a write against the caller's limits on the site (429 when over); in the same step,
    whether any of `ban_fields` is banned there."""
    st = state(request)
    limits = [(kind + ":ip", identity.ip_hash(request), st.settings.rate_ip_writes * factor)]
    if viewer.key:
        limits.append((kind + ":id", _digest(viewer.key)[:24], st.settings.rate_identity_writes * factor))
    return await st.limiter.hit(site, limits, ban_fields)


def _draft(body: dict[str, Any], viewer: Identity, settings: Any) -> tuple[dict[str, Any], int | None]:
    """Whitelist the input into a comment document; unknown fields are dropped."""
    text = _body_text(body.get("text"), settings.max_comment_chars)
    parent = body.get("parent")
    if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int) or parent < 1):
        raise ApiError("invalid_field", "parent must be a comment id.", field="parent")
    if viewer.kind == "user":
        author = {"kind": "user", "name": viewer.name, "avatar": viewer.avatar, "provider": viewer.provider,
                  "profile": viewer.profile, "website": "", "user": viewer.user_id}
        email = viewer.email
    else:
        name = models.clean_line(body.get("name"), "name", max_len=80, required=True)
        email = models.clean_email(body.get("email"))
        website = models.clean_website(body.get("website"))
        # From the address and this browser (its per-site key): typing a regular's address does not
        # borrow their picture; without an address, from the name and the browser.
        author = {"kind": "guest", "name": name, "website": website,
                  "avatar": _avatar(settings.secret_key, f"{email or name}\n{viewer.key}")}
    return {"author": author, "email": email, "text": text, "html": render(text)}, parent


async def create_comment(request: Request) -> JSON:
    """POST /api/threads/{tid}/comments: post a comment or a reply.

    Body: {"text", "parent"?, "name", "email"?, "website"?, "notify"?, "pow"?} (guests) or {"text", "parent"?, "notify"?}
    (signed in). "notify": true asks for mail about the thread's new comments (after a confirmation mail).
    An Idempotency-Key header makes a retry return the first result.
    Errors: unsupported_media_type, malformed_json, body_too_large, comment_empty,
    comment_too_long, missing_field, invalid_field, invalid_email, invalid_url, notify_needs_email,
    thread_not_found, parent_not_found, comment_deleted, thread_locked,
    origin_not_allowed, idempotency_conflict, duplicate_comment, rate_limited, invalid_session,
    proof_of_work_required, proof_of_work_invalid, proof_of_work_used (guests, where the site asks for one).
    """
    st = state(request)
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    viewer = await identity.current(request, site.id)
    body = await read_json(request)
    doc, parent = _draft(body, viewer, st.settings)
    notify = body.get("notify", False)
    if not isinstance(notify, bool):
        raise ApiError("invalid_field", "notify must be true or false.", field="notify")
    mentions = await _mentions(request, tid, body.get("mentions"))
    if mentions:
        doc["mentions"] = mentions
    if notify and st.settings.mail_enabled:
        if not doc["email"]:
            raise ApiError("notify_needs_email", field="email" if viewer.kind == "guest" else "notify")
        # The mail worker reads this from the event log and asks the address to confirm.
        doc["notify"] = True
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if len(key) > 200:
        raise ApiError("invalid_field", "Idempotency-Key is at most 200 characters.", field="Idempotency-Key")
    if site.pow and viewer.kind == "guest":
        await _spend_pow(request, site, body.get("pow"))
    email_hash = identity.keyed_hash(st.settings.secret_key, "email:" + doc["email"].lower()) if doc["email"] else ""
    banned = await _limit(request, site.id, viewer, "write", 1,
                          st.bans.fields(viewer.key, email_hash, identity.ip_hash(request)))

    now = _now_ms()
    verdict = await _verdict(request, site, viewer, {**doc, "tid": tid}, doc["text"], doc["html"], banned, body)

    edit_token = secrets.token_urlsafe(24) if viewer.kind == "guest" else ""
    doc.update({
        "created": now,
        "status": verdict.status,
        "spam_reasons": ",".join(verdict.reasons),
        "owner": viewer.key,
        "edit_hash": _digest(edit_token) if edit_token else "",
        "ip": identity.ip_hash(request),
        "site": site.id,
    })
    # Without a key of the client's, each request still gets one of its own, so
    # a retry inside the Redis client after a dropped connection cannot store twice.
    scope_key = _digest(f"{viewer.key}\n{key}") if key else secrets.token_hex(16)
    fingerprint = _digest(f"{viewer.key}\n{parent}\n{doc['text']}\n{doc['author'].get('name')}")[:32]
    # Said before by the same author, known by their account or browser (by their address only when
    # they send neither: readers behind one office or phone network share it), or by their email: refused.
    said = " ".join(doc["text"].lower().split())
    authors = {viewer.key or identity.ip_hash(request), email_hash} - {""}
    written = await st.comments.create(tid, doc, parent, idempotency=scope_key, fingerprint=fingerprint,
                                       duplicate_keys=sorted(_digest(f"{who}\n{said}")[:32] for who in authors))
    stored = written.doc
    # Announced on a duplicate too: the first request may have stored the comment and
    # lost its answer (a dropped connection, a timeout) before announcing it. Announcing
    # twice changes nothing (the pointer is the same; a feed entry only says "look").
    await st.feed.announce(site.id, tid, "comment.created",
                           pointer=(stored["id"], stored["status"], stored["created"]),
                           reasons=stored.get("spam_reasons", ""))
    if st.settings.akismet_key:
        await st.moderation.keep_akismet_context(tid, stored["id"], spam.akismet_context(
            identity.client_ip(request), request.headers.get("user-agent", ""),
            request.headers.get("referer", "")))
    if stored.get("status") == "approved" and viewer.kind == "guest" and site.moderation == "hold_first_guests":
        await st.sites.mark_known(site.id, viewer.key, email_hash)
    out: dict[str, Any] = {
        "comment": models.owner(stored, 0, False, st.settings.edit_window_seconds * 1000),
        "thread": {"id": tid, "count": written.count},
    }
    # The edit token goes back only to the request that made the comment (a retry
    # inside the Redis client finds the comment it already stored, with this token's hash).
    first = not written.duplicate or (edit_token and stored.get("edit_hash") == _digest(edit_token))
    if edit_token and first:
        out["edit_token"] = edit_token
    return JSON(out, status_code=201 if first else 200)


async def _spend_pow(request: Request, site: Site, payload: Any) -> None:
    """A guest's comment on a site that asks for a proof of work pays with one, once (pow.py)."""
    st = state(request)
    if payload is None:
        raise ApiError("proof_of_work_required", field="pow")
    checked = pow.check(st.settings.secret_key, site.id, payload, time.time())
    if checked is None:
        raise ApiError("proof_of_work_invalid", field="pow")
    if not await st.sites.use_pow(site.id, checked.fingerprint, checked.seconds_left):
        raise ApiError("proof_of_work_used", field="pow")


async def _named(request: Request) -> tuple[str, int, dict[str, Any] | None, Identity]:
    """The thread, comment id, stored comment (or None) and caller of a comment route."""
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    cid = comment_id(request)
    viewer = await identity.current(request, site.id)
    return tid, cid, await state(request).comments.get(tid, cid), viewer


async def _owned(request: Request, editing: bool) -> tuple[str, int, dict[str, Any], Identity]:
    """The comment named in the path, if the caller may change it: its author, within the edit
    window to edit (anyone), or to delete (a guest; a signed-in author may delete theirs at any time)."""
    st = state(request)
    tid, cid, doc, viewer = await _named(request)
    if doc is None:
        raise ApiError("comment_not_found")
    if doc.get("status") == "deleted":
        raise ApiError("comment_deleted")
    author = doc.get("author") or {}
    if author.get("kind") == "user":
        if viewer.kind != "user" or author.get("user") != viewer.user_id:
            raise ApiError("not_your_comment")
    else:
        token = request.headers.get(EDIT_HEADER, "")
        if not token or not hmac.compare_digest(_digest(token), doc.get("edit_hash") or "-"):
            raise ApiError("not_your_comment")
    if (editing or author.get("kind") != "user") and \
            _now_ms() > doc["created"] + st.settings.edit_window_seconds * 1000:
        raise ApiError("edit_window_closed")
    return tid, cid, doc, viewer


async def _verdict(request: Request, site: Site, viewer: Identity, doc: dict[str, Any], text: str, html: str,
                   banned: bool, form: dict[str, Any]) -> spam.Verdict:
    """What the spam rules, the site's policy, the site's bans and Akismet say of a text: the same
    for a new comment and for an edit, so an edit cannot slip past what a new comment could not."""
    st = state(request)
    email = doc.get("email") or ""
    known = False
    if site.moderation == "hold_first_guests" and viewer.kind == "guest":
        email_hash = identity.keyed_hash(st.settings.secret_key, "email:" + email.lower()) if email else ""
        known = await st.sites.is_known(site.id, viewer.key, email_hash)
    verdict = spam.local_rules(site, text, html, form, viewer, st.settings, _now_ms(), known)
    if banned:
        spam.banned(verdict)
    if verdict.status != "spam":
        verdict = spam.combine(verdict, await spam.akismet(
            st.settings, site, text, doc["author"], email, identity.client_ip(request),
            request.headers.get("user-agent", ""), request.headers.get("referer", ""),
            (await st.comments.meta(doc["tid"])).get("url", "") if st.settings.akismet_key else ""))
    return verdict


async def get_comment(request: Request) -> JSON:
    """GET /api/threads/{tid}/comments/{cid}: one comment.

    Errors: thread_not_found, comment_not_found, origin_not_allowed, invalid_session.
    """
    st = state(request)
    tid, cid, doc, viewer = await _named(request)
    if doc is None or not models.visible_to(doc, viewer):
        raise ApiError("comment_not_found")
    likes, liked = await st.comments.like_state(tid, cid, viewer.key)
    return JSON({"comment": models.view(doc, viewer, likes, liked, st.settings.edit_window_seconds * 1000)})


async def edit_comment(request: Request) -> JSON:
    """PATCH /api/threads/{tid}/comments/{cid}: change your comment's text, within the edit window.

    Guests send the edit token from creation in X-Rejoinder-Edit-Token. The new text goes through the
    same spam rules, bans, Akismet and site policy as a new comment: held, an approved comment goes back
    to pending (its author sees it so; it leaves everyone else's thread, live).
    Errors: not_your_comment, edit_window_closed, comment_not_found, comment_deleted, thread_not_found,
    comment_empty, comment_too_long, invalid_field, unsupported_media_type, malformed_json, rate_limited,
    origin_not_allowed, invalid_session.
    """
    st = state(request)
    tid, cid, owned, viewer = await _owned(request, editing=True)
    site = await thread_site(request, tid)
    body = await read_json(request)
    text = _body_text(body.get("text"), st.settings.max_comment_chars)
    html = render(text)
    email = owned.get("email") or ""
    email_hash = identity.keyed_hash(st.settings.secret_key, "email:" + email.lower()) if email else ""
    ban_fields = st.bans.fields(viewer.key, email_hash, identity.ip_hash(request))
    banned = await _limit(request, site.id, viewer, "write", 1, ban_fields)
    verdict = await _verdict(request, site, viewer, {**owned, "tid": tid}, text, html, banned, {})
    written = await st.comments.edit(tid, cid, html, text, _now_ms(), verdict.status, verdict.reasons)
    doc = written.doc
    await st.feed.announce(site.id, tid, written.extra["event"],
                           pointer=(cid, doc.get("status", ""), doc.get("created", 0)))
    likes, liked = await st.comments.like_state(tid, cid, viewer.key)
    return JSON({"comment": models.owner(doc, likes, liked, st.settings.edit_window_seconds * 1000),
                 "thread": {"id": tid, "count": written.count}})


async def delete_comment(request: Request) -> JSON:
    """DELETE /api/threads/{tid}/comments/{cid}: delete your comment (a placeholder stays if it has replies).

    Errors: not_your_comment, edit_window_closed, comment_not_found, comment_deleted, thread_not_found,
    rate_limited, origin_not_allowed, invalid_session.
    """
    st = state(request)
    tid, cid, owned, viewer = await _owned(request, editing=False)
    await _limit(request, owned["site"], viewer, "write")
    written = await st.comments.delete(tid, cid, _now_ms())
    await st.feed.announce(written.doc["site"], tid, "comment.deleted")
    return JSON({"comment": models.public(written.doc), "thread": {"id": tid, "count": written.count}})


async def _like(request: Request, target: str) -> JSON:
    st = state(request)
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    viewer = await identity.current(request, site.id)
    if not viewer.key:
        raise ApiError("missing_field", "Likes need the widget's anonymous id or a session.",
                       field="X-Rejoinder-Client")
    await _limit(request, site.id, viewer, "like", factor=5)
    count, liked = await st.comments.set_like(tid, target, viewer.key, request.method == "PUT")
    await st.feed.announce(site.id, tid, "like.changed")
    return JSON({"target": target, "likes": count, "liked": liked})


async def like_comment(request: Request) -> JSON:
    """PUT (like) or DELETE (unlike) /api/threads/{tid}/comments/{cid}/like. One like per identity.

    Errors: comment_not_found, comment_deleted, thread_not_found, missing_field, rate_limited,
    origin_not_allowed, invalid_session.
    """
    return await _like(request, str(comment_id(request)))


async def like_post(request: Request) -> JSON:
    """PUT (like) or DELETE (unlike) /api/threads/{tid}/like: like the post itself.

    Errors: thread_not_found, missing_field, rate_limited, origin_not_allowed, invalid_session.
    """
    return await _like(request, "post")


async def react(request: Request) -> JSON:
    """PUT (react) or DELETE (take back) /api/threads/{tid}/comments/{cid}/reactions?emoji=👍: one of the
    site's emoji, once per reader. Answers {"target", "emoji", "count", "reacted"}.

    Errors: comment_not_found, comment_deleted, thread_not_found, invalid_field (emoji not in the site's set),
    missing_field, rate_limited, origin_not_allowed, invalid_session.
    """
    st = state(request)
    tid = request.path_params["tid"]
    cid = comment_id(request)
    site = await thread_site(request, tid)
    emoji = request.query_params.get("emoji", "")
    if emoji not in site.reactions:
        raise ApiError("invalid_field", "emoji must be one of the site's reactions.", field="emoji")
    viewer = await identity.current(request, site.id)
    if not viewer.key:
        raise ApiError("missing_field", "Reactions need the widget's anonymous id or a session.",
                       field="X-Rejoinder-Client")
    await _limit(request, site.id, viewer, "like", factor=5)
    count, reacted = await st.comments.react(tid, cid, emoji, viewer.key, request.method == "PUT")
    await st.feed.announce(site.id, tid, "reaction.changed")
    return JSON({"target": cid, "emoji": emoji, "count": count, "reacted": reacted})


async def typing(request: Request) -> JSON:
    """POST /api/threads/{tid}/typing: the caller is typing a comment in the thread; on sites that show it,
    the thread's readers are told "someone is replying" (a count, never who). Noted at most every 2 s
    per reader. Errors: not_found 404 (the site does not show it), thread_not_found, missing_field,
    origin_not_allowed, invalid_session."""
    st = state(request)
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    if not site.typing:
        raise ApiError("not_found", "This site does not show who is replying.")
    viewer = await identity.current(request, site.id)
    if not viewer.key:
        raise ApiError("missing_field", "Typing needs the widget's anonymous id or a session.",
                       field="X-Rejoinder-Client")
    await st.comments.typing(tid, _digest(viewer.key)[:24])
    return JSON({"ok": True})


async def list_reactions(request: Request) -> JSON:
    """GET /api/threads/{tid}/reactions: every comment's reaction counts {cid: {emoji: n}}, and the
    caller's own ["cid|emoji", ...]. Errors: thread_not_found, origin_not_allowed, invalid_session."""
    st = state(request)
    tid = request.path_params["tid"]
    site = await thread_site(request, tid)
    viewer = await identity.current(request, site.id)
    counts, mine = await st.comments.reactions(tid, viewer.key)
    return JSON({"reactions": counts, "mine": mine})


MAX_MENTIONS = 10


async def _mentions(request: Request, tid: str, value: Any) -> list[int]:
    """The comments whose authors a new comment mentions (@name): published comments of this thread.
    Their authors who asked for mail about the thread are told (notify/notifications.py)."""
    if value is None:
        return []
    if (not isinstance(value, list) or len(value) > MAX_MENTIONS
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in value)):
        raise ApiError("invalid_field", f"mentions is a list of at most {MAX_MENTIONS} comment ids.",
                       field="mentions")
    wanted = sorted(set(value))
    for cid in wanted:
        doc = await state(request).comments.get(tid, cid)
        if doc is None or doc.get("status") != "approved":
            raise ApiError("invalid_field", f"Comment {cid} cannot be mentioned.", field="mentions")
    return wanted


async def report_comment(request: Request) -> JSON:
    """POST /api/threads/{tid}/comments/{cid}/report {"reason": "spam"|"abuse"|"off_topic"|"other"}: a reader
    reports a published comment to the site's admins. One report per reader (and per address) and comment;
    at the site's hold_reports, the comment is held for an admin. Answers {"reported": true} either way:
    a reader is not told how many others reported it.

    Errors: comment_not_found, comment_deleted, thread_not_found, cannot_report_own 403, invalid_field,
    missing_field, rate_limited, origin_not_allowed, invalid_session, malformed_json, unsupported_media_type.
    """
    st = state(request)
    tid = request.path_params["tid"]
    cid = comment_id(request)
    site = await thread_site(request, tid)
    viewer = await identity.current(request, site.id)
    if not viewer.key:
        raise ApiError("missing_field", "Reports need the widget's anonymous id or a session.",
                       field="X-Rejoinder-Client")
    body = await read_json(request)
    reason = body.get("reason")
    if reason not in REPORT_REASONS:
        raise ApiError("invalid_field", f"reason must be one of {', '.join(REPORT_REASONS)}.", field="reason")
    await _limit(request, site.id, viewer, "report")
    _, counted, held, created = await st.moderation.report(tid, cid, viewer.key, identity.ip_hash(request), reason,
                                                             site.hold_reports, _now_ms())
    if counted:
        # The dashboard's "Reported" list, live; a held comment joins "Pending" too.
        await st.feed.announce(site.id, tid, "comment.reported",
                               pointer=(cid, "pending" if held else "approved", created))
    return JSON({"reported": True})


routes = [
    Route("/api/threads/{tid}/comments", create_comment, methods=["POST"], name="comments:create"),
    Route("/api/threads/{tid}/comments/{cid}", get_comment, methods=["GET"], name="comments:get"),
    Route("/api/threads/{tid}/comments/{cid}", edit_comment, methods=["PATCH"], name="comments:edit"),
    Route("/api/threads/{tid}/comments/{cid}", delete_comment, methods=["DELETE"], name="comments:delete"),
    Route("/api/threads/{tid}/comments/{cid}/like", like_comment, methods=["PUT", "DELETE"], name="comments:like"),
    Route("/api/threads/{tid}/like", like_post, methods=["PUT", "DELETE"], name="threads:like"),
    Route("/api/threads/{tid}/comments/{cid}/report", report_comment, methods=["POST"], name="comments:report"),
    Route("/api/threads/{tid}/comments/{cid}/reactions", react, methods=["PUT", "DELETE"], name="comments:react"),
    Route("/api/threads/{tid}/reactions", list_reactions, methods=["GET"], name="threads:reactions"),
    Route("/api/threads/{tid}/typing", typing, methods=["POST"], name="threads:typing"),
]
