"""The words of every mail in each site language (notify/locales/<lang>.json), rendered as plain text and
as HTML.

In the HTML part every user string (names, titles, site names, URLs) goes
through html.escape; the only HTML taken as is, is a comment body that render.py
sanitised when it was stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).with_name("locales")


def _load() -> dict[str, dict[str, str]]:
    """The mails' words, one file per language (notify/locales/<lang>.json, English the reference)."""
    return {f.stem: json.loads(f.read_text(encoding="utf-8")) for f in sorted(LOCALES.glob("*.json"))}


TEXTS: dict[str, dict[str, str]] = _load()
LANGUAGES = tuple(TEXTS)
RTL = {"ar", "he", "fa", "ur"}


def language(code: str) -> str:
    code = (code or "en").lower().replace("_", "-")
    return code if code in TEXTS else code.split("-")[0] if code.split("-")[0] in TEXTS else "en"


@dataclass
class Mail:
    subject: str
    text: str
    html: str


class Words:
    """The texts of one language, with user values filled in: as they are for the
    plain part, escaped for the HTML part."""

    def __init__(self, lang: str) -> None:
        self.lang = language(lang)
        self.texts = TEXTS[self.lang]
        # A quoted comment's rule on its start side (mail clients follow dir="rtl" but not logical properties).
        side = "right" if self.lang in RTL else "left"
        self.quote = f"margin:0 0 1em 0;padding-{side}:1em;border-{side}:3px solid #ccc"

    def text(self, key: str, **values: Any) -> str:
        return self.texts[key].format(**values)

    def html(self, key: str, **values: Any) -> str:
        return escape(self.texts[key]).format(**{k: escape(str(v)) for k, v in values.items()})


def _page(body: str, lang: str) -> str:
    return (f'<!doctype html><html lang="{lang}" dir="{"rtl" if lang in RTL else "ltr"}"><head><meta charset="utf-8"></head>'
            f'<body style="font-family:sans-serif;line-height:1.5;max-width:40em">{body}</body></html>')


def _link(url: str, label_html: str) -> str:
    return f'<a href="{escape(url)}">{label_html}</a>'


def _comment_text(w: Words, item: dict[str, Any]) -> str:
    return f"{w.text('wrote', name=item['name'])}\n\n{_indent(item['text'])}\n"


def _comment_html(w: Words, item: dict[str, Any]) -> str:
    # item["html"] is the comment as render.py sanitised it at write time.
    return (f"<p><strong>{w.html('wrote', name=item['name'])}</strong></p>"
            f'<blockquote style="{w.quote}">{item["html"]}</blockquote>')


def _indent(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def _footer(w: Words, why: str, unsubscribe_url: str) -> tuple[str, str]:
    text = f"\n-- \n{why}\n{w.text('unsubscribe')}: {unsubscribe_url}\n"
    html = (f'<hr><p style="color:#666;font-size:small">{escape(why)}<br>'
            f'{_link(unsubscribe_url, w.html("unsubscribe"))}</p>')
    return text, html


def confirm(lang: str, *, site: str, confirm_url: str, unsubscribe_url: str) -> Mail:
    """Asking an address to confirm: a fixed text naming only the site. Whoever typed the address chose
    nothing in it (no post title, no name, no comment text), so the mail cannot carry their message."""
    w = Words(lang)
    text = (f"{w.text('confirm_intro', site=site)}\n\n"
            f"{w.text('confirm_action')}: {confirm_url}\n\n{w.text('confirm_ignore')}\n")
    html = (f"<p>{w.html('confirm_intro', site=site)}</p>"
            f"<p>{_link(confirm_url, w.html('confirm_action'))}</p><p>{w.html('confirm_ignore')}</p>")
    ft, fh = _footer(w, w.text("why_confirm", site=site), unsubscribe_url)
    return Mail(w.text("confirm_subject", site=site), text + ft, _page(html + fh, language(lang)))


def signin(lang: str, *, site: str, url: str, minutes: int) -> Mail:
    """An email sign-in link: a fixed text naming only the site (whoever typed the address chose nothing in
    it), and no unsubscribe: it is sent once, to the address's own request."""
    w = Words(lang)
    text = (f"{w.text('signin_intro', site=site)}\n\n{w.text('signin_action')}: {url}\n\n"
            f"{w.text('signin_rules', minutes=minutes)}\n\n-- \n{w.text('why_signin', site=site)}\n")
    html = (f"<p>{w.html('signin_intro', site=site)}</p><p>{_link(url, w.html('signin_action'))}</p>"
            f"<p>{w.html('signin_rules', minutes=minutes)}</p>"
            f'<hr><p style="color:#666;font-size:small">{w.html("why_signin", site=site)}</p>')
    return Mail(w.text("signin_subject", site=site), text, _page(html, language(lang)))


def new_comments(lang: str, *, title: str, url: str, items: list[dict[str, Any]], unsubscribe_url: str) -> Mail:
    w = Words(lang)
    title = title or w.text("this_post")
    n = len(items)
    subject = w.text("new_subject_one", title=title) if n == 1 else w.text("new_subject_other", n=n, title=title)
    text = "\n".join(_comment_text(w, item) for item in items)
    html = "".join(_comment_html(w, item) for item in items)
    if url:
        text += f"\n{w.text('read')}: {url}\n"
        html += f"<p>{_link(url, w.html('read'))}</p>"
    ft, fh = _footer(w, w.text("why_subscriber", title=title), unsubscribe_url)
    return Mail(subject, text + ft, _page(html + fh, language(lang)))


def reply(lang: str, *, title: str, url: str, item: dict[str, Any], unsubscribe_url: str,
          kind: str = "reply") -> Mail:
    """A reply to the reader's comment, or (kind "mention") a comment that mentions them."""
    w = Words(lang)
    title = title or w.text("this_post")
    text = f"{w.text(kind + '_intro', name=item['name'], title=title)}\n\n{_indent(item['text'])}\n"
    html = (f"<p>{w.html(kind + '_intro', name=item['name'], title=title)}</p>"
            f'<blockquote style="{w.quote}">{item["html"]}</blockquote>')
    if url:
        text += f"\n{w.text('read')}: {url}\n"
        html += f"<p>{_link(url, w.html('read'))}</p>"
    ft, fh = _footer(w, w.text("why_subscriber", title=title), unsubscribe_url)
    return Mail(w.text(kind + "_subject", name=item["name"], title=title), text + ft, _page(html + fh, language(lang)))


def held(lang: str, *, site: str, title: str, url: str, item: dict[str, Any], reason: str, approve_url: str,
         delete_url: str, hours: int, unsubscribe_url: str) -> Mail:
    w = Words(lang)
    title = title or w.text("this_post")
    text = (f"{w.text('held_intro', name=item['name'], title=title, reason=reason)}\n\n{_indent(item['text'])}\n\n"
            f"{w.text('approve')}: {approve_url}\n{w.text('delete')}: {delete_url}\n"
            f"{w.text('held_links', hours=hours)}\n")
    html = (f"<p>{w.html('held_intro', name=item['name'], title=title, reason=reason)}</p>"
            f'<blockquote style="{w.quote}">{item["html"]}</blockquote>'
            f"<p>{_link(approve_url, w.html('approve'))} · {_link(delete_url, w.html('delete'))}</p>"
            f"<p>{w.html('held_links', hours=hours)}</p>")
    if url:
        text += f"\n{w.text('read')}: {url}\n"
        html += f"<p>{_link(url, w.html('read'))}</p>"
    ft, fh = _footer(w, w.text("why_owner", site=site), unsubscribe_url)
    return Mail(w.text("held_subject", site=site, title=title), text + ft, _page(html + fh, language(lang)))


def page(lang: str, title_key: str, *, button: str = "", **values: Any) -> str:
    """A small page for a link from a mail: a sentence, and a button that POSTs to the same URL
    (a mail scanner that follows links acts on nothing)."""
    w = Words(lang)
    form = (f'<form method="post"><button type="submit">{w.html(button)}</button></form>' if button else "")
    return (f'<!doctype html><html lang="{language(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{w.html(title_key, **values)}</title>'
            f'</head><body><p>{w.html(title_key, **values)}</p>{form}</body></html>')
