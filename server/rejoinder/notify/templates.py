"""The words of every mail in each site language, rendered as plain text and as HTML.

In the HTML part every user string (names, titles, site names, URLs) goes
through html.escape; the only HTML taken as is, is a comment body that render.py
sanitised when it was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

LANGUAGES = ("en", "fr", "de")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "signin_subject": "Your sign-in link for the comments on {site}",
        "signin_intro": "Someone (we hope you) asked to sign in to the comments on {site} with this address.",
        "signin_action": "Sign in",
        "signin_rules": "The link works once, for {minutes} minutes, in the browser where you asked for it.",
        "why_signin": "You get this mail because this address was typed into the sign-in window of {site}'s comments. If that was not you, ignore it: nobody can sign in without this link.",
        "page_signin": "Sign in to the comments on {site}?",
        "page_signin_wrong_browser": "Open this link in the browser where you asked for it (or ask for a new link there).",
        "page_signin_expired": "This sign-in link expired or was already used. Ask for a new one.",
        "this_post": "this post",
        "confirm_subject": "Confirm: mail about new comments on {site}",
        "confirm_intro": "You (or someone who typed your address) asked {site} to email you about new comments on one of its posts.",
        "why_confirm": "You get this mail because your address was typed into the comment form of {site}. Without your confirmation nothing more is sent.",
        "confirm_action": "Confirm",
        "confirm_ignore": "If that was not you, ignore this mail: nothing more will be sent.",
        "new_subject_one": "New comment on “{title}”",
        "new_subject_other": "{n} new comments on “{title}”",
        "wrote": "{name} wrote:",
        "read": "Read the conversation",
        "reply_subject": "{name} replied to your comment on “{title}”",
        "mention_subject": "{name} mentioned you on “{title}”",
        "mention_intro": "{name} mentioned you in a comment on “{title}”:",
        "reply_intro": "{name} replied to your comment on “{title}”:",
        "held_subject": "[{site}] A comment awaits moderation on “{title}”",
        "held_intro": "{name} left a comment on “{title}” that is held for moderation ({reason}):",
        "approve": "Approve",
        "delete": "Delete",
        "held_links": "These links need no sign-in and work for {hours} hours.",
        "why_subscriber": "You get this mail because you asked to be told of new comments on “{title}”.",
        "why_owner": "You get this mail because you are listed as an owner of {site}.",
        "unsubscribe": "Unsubscribe",
        "page_confirm": "Send me a mail when someone comments on “{title}”.",
        "page_confirmed": "Done: you will get a mail when someone comments on “{title}”.",
        "page_unsubscribe": "Stop the mails about new comments on “{title}”?",
        "page_unsubscribe_owner": "Stop the mails about comments held for moderation on {site}?",
        "page_unsubscribed": "Done: you will get no more of these mails.",
    },
    "fr": {
        "signin_subject": "Votre lien de connexion aux commentaires de {site}",
        "signin_intro": "Quelqu’un (vous, nous l’espérons) a demandé à se connecter aux commentaires de {site} avec cette adresse.",
        "signin_action": "Se connecter",
        "signin_rules": "Le lien ne sert qu’une fois, pendant {minutes} minutes, dans le navigateur où vous l’avez demandé.",
        "why_signin": "Vous recevez ce message parce que cette adresse a été saisie dans la fenêtre de connexion des commentaires de {site}. Si ce n’était pas vous, ignorez-le : personne ne peut se connecter sans ce lien.",
        "page_signin": "Se connecter aux commentaires de {site} ?",
        "page_signin_wrong_browser": "Ouvrez ce lien dans le navigateur où vous l’avez demandé (ou demandez-y un nouveau lien).",
        "page_signin_expired": "Ce lien de connexion a expiré ou a déjà servi. Demandez-en un nouveau.",
        "this_post": "cet article",
        "confirm_subject": "Confirmez : messages sur les nouveaux commentaires de {site}",
        "confirm_intro": "Vous (ou quelqu’un qui a saisi votre adresse) avez demandé à {site} de vous écrire au sujet des nouveaux commentaires d’un de ses articles.",
        "why_confirm": "Vous recevez ce message parce que votre adresse a été saisie dans le formulaire de commentaire de {site}. Sans votre confirmation, rien d’autre n’est envoyé.",
        "confirm_action": "Confirmer",
        "confirm_ignore": "Si ce n’était pas vous, ignorez ce message : rien d’autre ne sera envoyé.",
        "new_subject_one": "Nouveau commentaire sur « {title} »",
        "new_subject_other": "{n} nouveaux commentaires sur « {title} »",
        "wrote": "{name} a écrit :",
        "read": "Lire la conversation",
        "reply_subject": "{name} a répondu à votre commentaire sur « {title} »",
        "mention_subject": "{name} vous a mentionné sur « {title} »",
        "mention_intro": "{name} vous a mentionné dans un commentaire sur « {title} » :",
        "reply_intro": "{name} a répondu à votre commentaire sur « {title} » :",
        "held_subject": "[{site}] Un commentaire attend la modération sur « {title} »",
        "held_intro": "{name} a laissé sur « {title} » un commentaire retenu pour modération ({reason}) :",
        "approve": "Approuver",
        "delete": "Supprimer",
        "held_links": "Ces liens ne demandent pas de connexion et restent valables {hours} heures.",
        "why_subscriber": "Vous recevez ce message parce que vous avez demandé à être averti des nouveaux commentaires sur « {title} ».",
        "why_owner": "Vous recevez ce message parce que vous êtes indiqué comme responsable de {site}.",
        "unsubscribe": "Se désabonner",
        "page_confirm": "M’écrire quand quelqu’un commente « {title} ».",
        "page_confirmed": "C’est fait : vous recevrez un message quand quelqu’un commentera « {title} ».",
        "page_unsubscribe": "Ne plus recevoir de messages sur les nouveaux commentaires de « {title} » ?",
        "page_unsubscribe_owner": "Ne plus recevoir de messages sur les commentaires retenus de {site} ?",
        "page_unsubscribed": "C’est fait : vous ne recevrez plus ces messages.",
    },
    "de": {
        "signin_subject": "Ihr Anmeldelink für die Kommentare auf {site}",
        "signin_intro": "Jemand (hoffentlich Sie) möchte sich mit dieser Adresse bei den Kommentaren auf {site} anmelden.",
        "signin_action": "Anmelden",
        "signin_rules": "Der Link gilt einmal, {minutes} Minuten lang, in dem Browser, in dem Sie ihn angefordert haben.",
        "why_signin": "Sie erhalten diese Mail, weil diese Adresse im Anmeldefenster der Kommentare von {site} eingegeben wurde. Wenn Sie das nicht waren, ignorieren Sie sie: Ohne diesen Link kann sich niemand anmelden.",
        "page_signin": "Bei den Kommentaren auf {site} anmelden?",
        "page_signin_wrong_browser": "Öffnen Sie diesen Link in dem Browser, in dem Sie ihn angefordert haben (oder fordern Sie dort einen neuen an).",
        "page_signin_expired": "Dieser Anmeldelink ist abgelaufen oder wurde schon benutzt. Fordern Sie einen neuen an.",
        "this_post": "diesen Beitrag",
        "confirm_subject": "Bestätigen: Mails zu neuen Kommentaren auf {site}",
        "confirm_intro": "Sie (oder jemand, der Ihre Adresse eingegeben hat) haben {site} gebeten, Ihnen bei neuen Kommentaren zu einem seiner Beiträge zu schreiben.",
        "why_confirm": "Sie erhalten diese Mail, weil Ihre Adresse in das Kommentarformular von {site} eingegeben wurde. Ohne Ihre Bestätigung wird nichts weiter gesendet.",
        "confirm_action": "Bestätigen",
        "confirm_ignore": "Wenn Sie das nicht waren, ignorieren Sie diese Mail: Es wird nichts weiter gesendet.",
        "new_subject_one": "Neuer Kommentar zu „{title}“",
        "new_subject_other": "{n} neue Kommentare zu „{title}“",
        "wrote": "{name} schrieb:",
        "read": "Zur Unterhaltung",
        "reply_subject": "{name} hat auf Ihren Kommentar zu „{title}“ geantwortet",
        "mention_subject": "{name} hat Sie bei „{title}“ erwähnt",
        "mention_intro": "{name} hat Sie in einem Kommentar zu „{title}“ erwähnt:",
        "reply_intro": "{name} hat auf Ihren Kommentar zu „{title}“ geantwortet:",
        "held_subject": "[{site}] Ein Kommentar zu „{title}“ wartet auf Freigabe",
        "held_intro": "{name} hat zu „{title}“ einen Kommentar geschrieben, der auf Freigabe wartet ({reason}):",
        "approve": "Freigeben",
        "delete": "Löschen",
        "held_links": "Diese Links brauchen keine Anmeldung und gelten {hours} Stunden.",
        "why_subscriber": "Sie erhalten diese Mail, weil Sie über neue Kommentare zu „{title}“ informiert werden wollten.",
        "why_owner": "Sie erhalten diese Mail, weil Sie als Betreiber von {site} eingetragen sind.",
        "unsubscribe": "Abbestellen",
        "page_confirm": "Mir schreiben, wenn jemand „{title}“ kommentiert.",
        "page_confirmed": "Erledigt: Sie erhalten eine Mail, wenn jemand „{title}“ kommentiert.",
        "page_unsubscribe": "Keine Mails mehr über neue Kommentare zu „{title}“?",
        "page_unsubscribe_owner": "Keine Mails mehr über zurückgehaltene Kommentare auf {site}?",
        "page_unsubscribed": "Erledigt: Sie erhalten diese Mails nicht mehr.",
    },
}


def language(code: str) -> str:
    code = (code or "en").lower()[:2]
    return code if code in TEXTS else "en"


@dataclass
class Mail:
    subject: str
    text: str
    html: str


class Words:
    """The texts of one language, with user values filled in: as they are for the
    plain part, escaped for the HTML part."""

    def __init__(self, lang: str) -> None:
        self.texts = TEXTS[language(lang)]

    def text(self, key: str, **values: Any) -> str:
        return self.texts[key].format(**values)

    def html(self, key: str, **values: Any) -> str:
        return escape(self.texts[key]).format(**{k: escape(str(v)) for k, v in values.items()})


def _page(body: str, lang: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head>'
            f'<body style="font-family:sans-serif;line-height:1.5;max-width:40em">{body}</body></html>')


def _link(url: str, label_html: str) -> str:
    return f'<a href="{escape(url)}">{label_html}</a>'


def _comment_text(w: Words, item: dict[str, Any]) -> str:
    return f"{w.text('wrote', name=item['name'])}\n\n{_indent(item['text'])}\n"


def _comment_html(w: Words, item: dict[str, Any]) -> str:
    # item["html"] is the comment as render.py sanitised it at write time.
    return (f"<p><strong>{w.html('wrote', name=item['name'])}</strong></p>"
            f'<blockquote style="margin:0 0 1em 0;padding-left:1em;border-left:3px solid #ccc">{item["html"]}</blockquote>')


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
            f'<blockquote style="margin:0 0 1em 0;padding-left:1em;border-left:3px solid #ccc">{item["html"]}</blockquote>')
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
            f'<blockquote style="margin:0 0 1em 0;padding-left:1em;border-left:3px solid #ccc">{item["html"]}</blockquote>'
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
