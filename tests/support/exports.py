"""Export files made to measure, as WordPress writes them."""

from __future__ import annotations


def wxr(comments: int, words: int = 30, posts: int = 1) -> bytes:
    """A WordPress export of `posts` posts with `comments` top-level comments each (as Tools > Export
    writes them)."""
    body = " ".join(["walking"] * words)

    def comment_items(first: int) -> str:  # comment ids are unique across the whole file, as WordPress's
        return "".join(
            f"<wp:comment><wp:comment_id>{i}</wp:comment_id><wp:comment_author><![CDATA[Walker {i}]]>"
            f"</wp:comment_author><wp:comment_author_email><![CDATA[w{i}@walkers.example]]></wp:comment_author_email>"
            f"<wp:comment_date_gmt><![CDATA[2024-03-01 10:{i % 60:02d}:00]]></wp:comment_date_gmt>"
            f"<wp:comment_content><![CDATA[Comment {i}: {body}]]></wp:comment_content>"
            "<wp:comment_approved><![CDATA[1]]></wp:comment_approved><wp:comment_type><![CDATA[comment]]>"
            "</wp:comment_type><wp:comment_parent>0</wp:comment_parent></wp:comment>\n"
            for i in range(first, first + comments))

    posts_xml = "".join(
        f"<item><title><![CDATA[A long walk{f' {n}' if n else ''}]]></title>"
        f"<link>https://blog.example/long-walk{f'-{n}' if n else ''}/</link>"
        f"<wp:post_id>{7 + n}</wp:post_id><wp:status><![CDATA[publish]]></wp:status>"
        "<wp:post_type><![CDATA[post]]></wp:post_type>"
        f"{comment_items(1 + n * comments)}</item>\n" for n in range(posts))
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">'
            "<channel><title>Big</title><link>https://blog.example</link><wp:wxr_version>1.2</wp:wxr_version>"
            f"{posts_xml}</channel></rss>\n").encode()
