"""WordPress's export format (WXR 1.0-1.2): read one into a Source, and write a site as one."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, TextIO
from xml.etree.ElementTree import Element

from ..models import xml_safe
from .source import (WP_NAMESPACE, ImportFailed, Source, SourceComment, SourceThread, count, namespaces_of,
                     parse_date, text_of)

# Comment meta keys that hold a like count, as popular WordPress like plugins
# write them ("Comments Like Dislike", "WP ULike"), and our own.
LIKE_KEYS = ("rejoinder_likes", "cld_like_count", "_commentliked", "likes", "like_count")
# Post meta written by our export: the page key and post likes, so a round trip keeps them.
PAGE_KEY = "rejoinder_page"
POST_LIKES = "rejoinder_likes"
APPROVAL = {"1": "approved", "approve": "approved", "0": "pending", "hold": "pending", "spam": "spam",
            "trash": "deleted", "post-trashed": "deleted"}
_BLOCK = re.compile(r"<(p|div|blockquote|ul|ol|pre|h[1-6]|table)[\s>/]", re.I)


def autop(html: str) -> str:
    """WordPress stores comments with bare line breaks and adds paragraphs when it shows
    them (wpautop); do the same, simply: blank lines make paragraphs, single ones <br>."""
    html = html.replace("\r\n", "\n").strip()
    if not html or _BLOCK.search(html):
        return html
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", html) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _meta(el: Element, tag: str, ns: dict[str, str]) -> dict[str, str]:
    out = {}
    for meta in el.findall(f"wp:{tag}", ns):
        key = text_of(meta, "wp:meta_key", ns)
        if key and key not in out:
            out[key] = text_of(meta, "wp:meta_value", ns)
    return out


def read(root: Element) -> Source:
    wp = next((ns for ns in sorted(namespaces_of(root)) if WP_NAMESPACE.match(ns)), "")
    ns = {"wp": wp, "content": "http://purl.org/rss/1.0/modules/content/"}
    channel = root.find("channel")
    if channel is None:
        raise ImportFailed("import_invalid", "The WordPress export has no <channel>.")
    source = Source("wxr")
    threads: dict[str, SourceThread] = {}
    seen: set[str] = set()
    for number, item in enumerate(channel.findall("item"), 1):
        key = text_of(item, "wp:post_id", ns) or f"item-{number}"
        thread = threads.get(key)
        if thread is None:
            meta = _meta(item, "postmeta", ns)
            thread = SourceThread(
                key=key, link=text_of(item, "link"), title=text_of(item, "title"), ident=text_of(item, "wp:post_id", ns),
                page=meta.get(PAGE_KEY, ""), created=parse_date(text_of(item, "wp:post_date_gmt", ns))
                or parse_date(text_of(item, "wp:post_date", ns)),
                closed=text_of(item, "wp:comment_status", ns) == "closed", likes=count(meta.get(POST_LIKES, 0)) or 0,
                skip="post_in_trash" if text_of(item, "wp:status", ns) == "trash" else "")
            threads[key] = thread
            source.threads.append(thread)
        for el in item.findall("wp:comment", ns):
            source.comments.append(_comment(el, ns, key, seen))
    return source


def _comment(el: Element, ns: dict[str, str], thread: str, seen: set[str]) -> SourceComment:
    def get(name: str) -> str:
        return text_of(el, f"wp:{name}", ns)

    key = get("comment_id")
    parent = get("comment_parent")
    content = el.find("wp:comment_content", ns)
    comment = SourceComment(
        key=key, thread=thread, parent="" if parent in ("", "0") else parent,
        name=get("comment_author"), email=get("comment_author_email"), website=get("comment_author_url"),
        ip=get("comment_author_IP"),
        created=parse_date(get("comment_date_gmt")) or parse_date(get("comment_date")),
        status=APPROVAL.get(get("comment_approved"), "pending"),
        html=autop(content.text or "" if content is not None else ""),
    )
    meta = _meta(el, "commentmeta", ns)
    for like_key in LIKE_KEYS:
        if like_key in meta and count(meta[like_key]) is not None:
            comment.likes = count(meta[like_key]) or 0
            break
    kind = get("comment_type")
    if not key:
        comment.skip = "missing_id"
    elif key in seen:
        comment.skip = "duplicate_id"
    elif kind not in ("", "comment"):
        comment.skip = "not_a_comment"  # pingbacks, trackbacks, shop order notes...
    seen.add(key)
    return comment


# --- writing -----------------------------------------------------------------

def _x(value: Any) -> str:
    text = xml_safe(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _cdata(value: str) -> str:
    text = xml_safe(value or "")
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _wpdate(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


WXR_STATUS = {"approved": "1", "pending": "0", "spam": "spam", "deleted": "trash"}


class Writer:
    """Streams a WXR 1.2 file that WordPress's importer takes. WordPress matches an
    existing post by title (the post date is left empty on purpose), so comments land
    on the owner's posts; comment ids are numbered across the file and parents follow."""

    def __init__(self, out: TextIO, *, title: str, base_url: str, include_emails: bool) -> None:
        self.out = out
        self.include_emails = include_emails
        self.next_post = 0
        self.next_comment = 0
        now = datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
        out.write('<?xml version="1.0" encoding="UTF-8" ?>\n'
                  '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
                  'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                  'xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                  'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
                  f"\t<title>{_x(title)}</title>\n\t<link>{_x(base_url)}</link>\n"
                  "\t<description>Comments exported from Rejoinder</description>\n"
                  f"\t<pubDate>{now}</pubDate>\n\t<language>en</language>\n\t<wp:wxr_version>1.2</wp:wxr_version>\n"
                  f"\t<wp:base_site_url>{_x(base_url)}</wp:base_site_url>\n"
                  f"\t<wp:base_blog_url>{_x(base_url)}</wp:base_blog_url>\n"
                  "\t<generator>Rejoinder</generator>\n")

    def thread(self, thread: dict[str, Any]) -> None:
        """One thread (as exporter.thread_record makes it) as one <item> with its comments."""
        self.next_post += 1
        ids: dict[int, int] = {}
        for comment in thread["comments"]:
            self.next_comment += 1
            ids[comment["id"]] = self.next_comment
        w = self.out.write
        link = thread.get("url") or ""
        w("\t<item>\n"
          f"\t\t<title>{_cdata(thread.get('title') or '')}</title>\n"
          f"\t\t<link>{_x(link)}</link>\n"
          f"\t\t<dc:creator>{_cdata('')}</dc:creator>\n"
          f"\t\t<guid isPermaLink=\"false\">{_x(thread['page'])}</guid>\n"
          "\t\t<description></description>\n"
          f"\t\t<content:encoded>{_cdata('')}</content:encoded>\n"
          f"\t\t<excerpt:encoded>{_cdata('')}</excerpt:encoded>\n"
          f"\t\t<wp:post_id>{self.next_post}</wp:post_id>\n"
          "\t\t<wp:post_date></wp:post_date>\n\t\t<wp:post_date_gmt></wp:post_date_gmt>\n"
          f"\t\t<wp:comment_status>{'closed' if thread.get('locked') else 'open'}</wp:comment_status>\n"
          "\t\t<wp:ping_status>closed</wp:ping_status>\n"
          "\t\t<wp:post_name></wp:post_name>\n\t\t<wp:status>publish</wp:status>\n"
          "\t\t<wp:post_parent>0</wp:post_parent>\n\t\t<wp:menu_order>0</wp:menu_order>\n"
          "\t\t<wp:post_type>post</wp:post_type>\n\t\t<wp:post_password></wp:post_password>\n"
          "\t\t<wp:is_sticky>0</wp:is_sticky>\n"
          f"\t\t<wp:postmeta>\n\t\t\t<wp:meta_key>{PAGE_KEY}</wp:meta_key>\n"
          f"\t\t\t<wp:meta_value>{_cdata(thread['page'])}</wp:meta_value>\n\t\t</wp:postmeta>\n")
        if thread.get("likes"):
            w(f"\t\t<wp:postmeta>\n\t\t\t<wp:meta_key>{POST_LIKES}</wp:meta_key>\n"
              f"\t\t\t<wp:meta_value>{int(thread['likes'])}</wp:meta_value>\n\t\t</wp:postmeta>\n")
        for comment in thread["comments"]:
            self._comment(comment, ids)
        w("\t</item>\n")

    def _comment(self, c: dict[str, Any], ids: dict[int, int]) -> None:
        author = c.get("author") or {}
        # The true parent: a reply past the depth cap is stored under an ancestor, and
        # remembers whom it answered in reply_to.
        parent = c.get("reply_to") or c.get("parent")
        email = (c.get("email") or "") if self.include_emails else ""
        date = _wpdate(c.get("created"))
        self.out.write(
            "\t\t<wp:comment>\n"
            f"\t\t\t<wp:comment_id>{ids[c['id']]}</wp:comment_id>\n"
            f"\t\t\t<wp:comment_author>{_cdata(author.get('name') or '')}</wp:comment_author>\n"
            f"\t\t\t<wp:comment_author_email>{_x(email)}</wp:comment_author_email>\n"
            f"\t\t\t<wp:comment_author_url>{_x(author.get('website') or '')}</wp:comment_author_url>\n"
            "\t\t\t<wp:comment_author_IP></wp:comment_author_IP>\n"
            f"\t\t\t<wp:comment_date>{date}</wp:comment_date>\n"
            f"\t\t\t<wp:comment_date_gmt>{date}</wp:comment_date_gmt>\n"
            f"\t\t\t<wp:comment_content>{_cdata(c.get('html') or '')}</wp:comment_content>\n"
            f"\t\t\t<wp:comment_approved>{WXR_STATUS.get(c.get('status', ''), '0')}</wp:comment_approved>\n"
            "\t\t\t<wp:comment_type>comment</wp:comment_type>\n"
            f"\t\t\t<wp:comment_parent>{ids.get(parent, 0) if parent else 0}</wp:comment_parent>\n"
            "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n")
        if c.get("likes"):
            self.out.write(f"\t\t\t<wp:commentmeta>\n\t\t\t\t<wp:meta_key>rejoinder_likes</wp:meta_key>\n"
                           f"\t\t\t\t<wp:meta_value>{int(c['likes'])}</wp:meta_value>\n\t\t\t</wp:commentmeta>\n")
        self.out.write("\t\t</wp:comment>\n")

    def close(self) -> None:
        self.out.write("</channel>\n</rss>\n")
