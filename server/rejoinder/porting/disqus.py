"""Disqus's XML export (<disqus xmlns="http://disqus.com">): read one into a Source."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from .source import DISQUS, DSQ, Source, SourceComment, SourceThread, parse_date, text_of

NS = {"d": DISQUS, "dsq": DSQ}
ID = f"{{{DSQ}}}id"


def _true(value: str) -> bool:
    return value.strip().lower() == "true"


def read(root: Element) -> Source:
    source = Source("disqus")
    threads: dict[str, SourceThread] = {}
    for number, el in enumerate(root.findall("d:thread", NS), 1):
        key = el.get(ID, "") or f"thread-{number}"
        if key in threads:
            continue  # the same thread twice: the first one counts
        thread = SourceThread(
            key=key, link=text_of(el, "d:link", NS), title=text_of(el, "d:title", NS), ident=text_of(el, "d:id", NS),
            created=parse_date(text_of(el, "d:createdAt", NS)), closed=_true(text_of(el, "d:isClosed", NS)),
            skip="thread_deleted" if _true(text_of(el, "d:isDeleted", NS)) else "")
        threads[key] = thread
        source.threads.append(thread)
    seen: set[str] = set()
    for el in root.findall("d:post", NS):
        key = el.get(ID, "")
        thread_el, parent_el = el.find("d:thread", NS), el.find("d:parent", NS)
        if _true(text_of(el, "d:isSpam", NS)):
            status = "spam"
        elif _true(text_of(el, "d:isDeleted", NS)):
            status = "deleted"
        elif text_of(el, "d:isApproved", NS).lower() == "false":
            status = "pending"
        else:
            status = "approved"
        comment = SourceComment(
            key=key, thread=thread_el.get(ID, "") if thread_el is not None else "",
            parent=parent_el.get(ID, "") if parent_el is not None else "",
            name=text_of(el, "d:author/d:name", NS) or text_of(el, "d:author/d:username", NS),
            email=text_of(el, "d:author/d:email", NS), ip=text_of(el, "d:ipAddress", NS),
            created=parse_date(text_of(el, "d:createdAt", NS)), status=status,
            html=(el.find("d:message", NS).text or "") if el.find("d:message", NS) is not None else "")
        if not key:
            comment.skip = "missing_id"
        elif key in seen:
            comment.skip = "duplicate_id"
        elif comment.thread not in threads:
            comment.skip = "unknown_thread"
        seen.add(key)
        source.comments.append(comment)
    return source
