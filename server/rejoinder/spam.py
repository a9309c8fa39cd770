"""Rules run before a comment is stored: honeypot, timing, links, blocked words, the
site's moderation policy, and Akismet. Duplicate bodies are caught inside the write."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import httpx2

from .models import Identity
from .settings import Settings
from .store.sites import Site

log = logging.getLogger("rejoinder.spam")



@dataclass
class Verdict:
    status: str = "approved"  # approved | pending | spam
    reasons: list[str] = field(default_factory=list)

    def hold(self, reason: str) -> None:
        if self.status == "approved":
            self.status = "pending"
        self.reasons.append(reason)

    def spam(self, reason: str) -> None:
        self.status = "spam"
        self.reasons.append(reason)


def links_in(html: str) -> int:
    """The links a reader can click in rendered, sanitised HTML (render.py makes every one an <a>):
    counted there, not in the source, which writes "evil.com/x", "//evil.net" or "a@b.org" too."""
    return html.count("<a ")


def local_rules(site: Site, text: str, html: str, body: dict[str, Any], viewer: Identity, settings: Settings,
                now_ms: int, known_guest: bool) -> Verdict:
    """Defences that need no service, for a new comment or an edit (`body` then holds no form fields).
    A spammer is never told: their comment looks pending to them."""
    verdict = Verdict()
    # The widget's form has a field people never see: only a bot fills it in.
    if body.get("hp"):
        verdict.spam("honeypot")
    started = body.get("started")
    if isinstance(started, int) and not isinstance(started, bool) and started <= now_ms:
        if now_ms - started < settings.spam_min_seconds * 1000:
            verdict.spam("too_fast")
    links = links_in(html)
    if links > settings.spam_max_links:
        verdict.spam("too_many_links")
    lowered = text.lower()
    for word in site.blocklist:
        if word and re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered):
            verdict.spam("blocked_word")
            break
    if site.moderation == "hold_all":
        verdict.hold("policy_hold_all")
    elif site.moderation == "hold_links" and links:
        verdict.hold("policy_hold_links")
    elif site.moderation == "hold_first_guests" and viewer.kind == "guest" and not known_guest:
        verdict.hold("policy_first_guest")
    return verdict


async def akismet(settings: Settings, site: Site, text: str, author: dict[str, Any], email: str, ip: str,
                  user_agent: str, referrer: str, permalink: str) -> Verdict:
    """Akismet comment-check. A timeout or error never loses the comment: it is held."""
    verdict = Verdict()
    if not settings.akismet_key:
        return verdict
    data = {
        "api_key": settings.akismet_key,
        "blog": site.origins[0] if site.origins else settings.public_url,
        "user_ip": ip, "user_agent": user_agent, "referrer": referrer, "permalink": permalink,
        "comment_type": "comment", "comment_author": author.get("name", ""),
        "comment_author_email": email, "comment_author_url": author.get("website", ""),
        "comment_content": text, "blog_charset": "UTF-8",
    }
    try:
        async with httpx2.AsyncClient(timeout=settings.akismet_timeout_seconds) as client:
            resp = await client.post(f"{settings.akismet_endpoint.rstrip('/')}/1.1/comment-check", data=data)
        answer = resp.text.strip()
    except httpx2.HTTPError as exc:
        log.warning("akismet unreachable (%s): holding the comment", exc)
        verdict.hold("akismet_unavailable")
        return verdict
    if resp.status_code == 200 and answer == "true":
        verdict.spam("akismet")
    elif resp.status_code != 200 or answer != "false":
        log.warning("akismet answered %s %r: holding the comment", resp.status_code, answer[:100])
        verdict.hold("akismet_error")
    return verdict


def banned(verdict: Verdict) -> None:
    """The site banned this commenter (identity, email hash or IP hash): straight to spam,
    and like every spam verdict it looks pending to them, so a ban is never announced."""
    verdict.spam("banned")


def akismet_context(ip: str, user_agent: str, referrer: str) -> dict[str, str]:
    """What a later correction must send Akismet about the request that made a comment."""
    return {"ip": ip, "ua": user_agent[:512], "ref": referrer[:1024]}


async def akismet_submit(settings: Settings, site: Site, kind: str, doc: dict[str, Any],
                         context: dict[str, str] | None, permalink: str) -> str:
    """Tell Akismet an admin corrected it (kind "spam" or "ham"). Returns "sent", "failed"
    or "off". A failure is logged and never undoes the admin's action."""
    if not settings.akismet_key:
        return "off"
    ctx = context or {}
    author = doc.get("author") or {}
    text = doc.get("text") or (doc.get("trash") or {}).get("text", "")
    data = {
        "api_key": settings.akismet_key,
        "blog": site.origins[0] if site.origins else settings.public_url,
        "user_ip": ctx.get("ip", ""), "user_agent": ctx.get("ua", ""), "referrer": ctx.get("ref", ""),
        "permalink": permalink, "comment_type": "comment", "comment_author": author.get("name", ""),
        "comment_author_email": doc.get("email", ""), "comment_author_url": author.get("website", ""),
        "comment_content": text, "blog_charset": "UTF-8",
    }
    endpoint = "submit-spam" if kind == "spam" else "submit-ham"
    try:
        async with httpx2.AsyncClient(timeout=settings.akismet_timeout_seconds) as client:
            resp = await client.post(f"{settings.akismet_endpoint.rstrip('/')}/1.1/{endpoint}", data=data)
    except httpx2.HTTPError as exc:
        log.warning("akismet %s unreachable (%s): correction not sent", endpoint, exc)
        return "failed"
    if resp.status_code != 200:
        log.warning("akismet %s answered %s: correction not sent", endpoint, resp.status_code)
        return "failed"
    return "sent"


def combine(*verdicts: Verdict) -> Verdict:
    out = Verdict()
    for v in verdicts:
        out.reasons += v.reasons
        if v.status == "spam" or (v.status == "pending" and out.status == "approved"):
            out.status = v.status
    return out
