"""The widget's languages: one file per locale in widget/locales/, each with exactly English's keys, and the
frame document in the reader's language (the page's, else the browser's, a region falling back to its
language, else English), right to left where the language is."""

from __future__ import annotations

import json
import re
from html import escape as html_escape, unescape as html_unescape
from pathlib import Path

import httpx
import pytest

from rejoinder.frame import pick_language

from .conftest import SITE

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "widget" / "locales"
ENGLISH = json.loads((LOCALES / "en.json").read_text())
FILES = sorted(LOCALES.glob("*.json"))
MESSAGES = re.compile(r'<script type="application/json" id="rj-messages" data-lang="([^"]+)">(.*?)</script>', re.S)


def test_there_are_at_least_twenty_languages_with_right_to_left_and_cjk() -> None:
    langs = {f.stem for f in FILES}
    assert len(langs) >= 20, sorted(langs)
    assert {"ar", "he", "ja", "zh", "ko"} <= langs


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_locale_has_every_key_english_has_and_no_other(path: Path) -> None:
    messages = json.loads(path.read_text())
    assert sorted(set(ENGLISH) - set(messages)) == [], f"{path.name} lacks these"
    assert sorted(set(messages) - set(ENGLISH)) == [], f"{path.name} has keys English lacks"
    for key, text in messages.items():
        assert isinstance(text, (str, dict)) and (isinstance(text, str) == isinstance(ENGLISH[key], str)), key
        assert text, key


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_built_copy_is_the_source(path: Path) -> None:
    built = ROOT / "static" / "locales" / path.name
    assert json.loads(built.read_text()) == json.loads(path.read_text()), "run the widget build"


@pytest.mark.parametrize("asked, accept, chosen", [
    ("ar", "", "ar"),
    ("pt-BR", "", "pt"),                        # a region falls back to its language
    ("", "ja-JP,ja;q=0.9,en;q=0.8", "ja"),     # no page language: the browser's
    ("", "xx;q=1.0, he;q=0.5, de;q=0.7", "de"),  # in the browser's order of preference
    ("xx-YY", "", "en"),                        # nobody's language: English
    ("", "", "en"),
    ("zh-Hans-CN", "", "zh"),
])
def test_the_language_is_the_pages_then_the_browsers_then_english(asked: str, accept: str, chosen: str) -> None:
    assert pick_language(asked, accept) == chosen


def test_the_frame_document_is_in_the_readers_language(app_server) -> None:
    with httpx.Client(base_url=app_server.base, timeout=10) as client:
        r = client.get("/frame", params={"site": SITE, "page": "lang-doc", "title": "T", "lang": "ar"})
        assert r.status_code == 200 and '<html lang="ar" dir="rtl">' in r.text
        found = MESSAGES.findall(r.text)
        assert len(found) == 1 and found[0][0] == "ar"
        assert json.loads(found[0][1]) == json.loads((LOCALES / "ar.json").read_text())
        assert "accept-language" in r.headers["vary"].lower()

        r = client.get("/frame", params={"site": SITE, "page": "lang-doc", "title": "T"},
                       headers={"Accept-Language": "ko-KR,ko;q=0.9"})
        assert '<html lang="ko" dir="ltr">' in r.text and MESSAGES.findall(r.text)[0][0] == "ko"

        # English is built into frame.js: nothing to carry.
        r = client.get("/frame", params={"site": SITE, "page": "lang-doc", "title": "T", "lang": "en-GB"})
        assert '<html lang="en" dir="ltr">' in r.text and not MESSAGES.findall(r.text)


MAIL_LOCALES = ROOT / "server" / "rejoinder" / "notify" / "locales"
MAIL_ENGLISH = json.loads((MAIL_LOCALES / "en.json").read_text())
PLACEHOLDER = re.compile(r"\{\w+\}")


def test_the_mails_are_in_as_many_languages_as_the_widget() -> None:
    assert {f.stem for f in MAIL_LOCALES.glob("*.json")} == {f.stem for f in FILES}


@pytest.mark.parametrize("path", sorted(MAIL_LOCALES.glob("*.json")), ids=lambda p: p.stem)
def test_a_mail_locale_has_every_key_english_has_and_no_other(path: Path) -> None:
    texts = json.loads(path.read_text())
    assert sorted(set(MAIL_ENGLISH) - set(texts)) == [], f"{path.name} lacks these"
    assert sorted(set(texts) - set(MAIL_ENGLISH)) == [], f"{path.name} has keys English lacks"
    for key, text in texts.items():
        assert isinstance(text, str) and text.strip(), key
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(MAIL_ENGLISH[key])), key


def test_a_mail_in_arabic_reads_right_to_left_and_a_region_falls_back() -> None:
    from rejoinder.notify import templates

    item = {"name": "ليلى", "text": "تعليق", "html": "<p>تعليق</p>"}
    mail = templates.reply("ar", title="عنوان", url="https://blog.example/p", item=item,
                           unsubscribe_url="https://c.example/u")
    assert '<html lang="ar" dir="rtl">' in mail.html and "border-right:3px" in mail.html
    assert mail.subject == json.loads((MAIL_LOCALES / "ar.json").read_text())["reply_subject"].format(
        name="ليلى", title="عنوان")
    assert templates.language("pt-BR") == "pt" and templates.language("xx") == "en"


ADMIN = ROOT / "static" / "admin"
ADMIN_LOCALES = ADMIN / "locales"
ADMIN_ENGLISH = json.loads((ADMIN_LOCALES / "en.json").read_text())


def _placeholders(entry: object) -> set[str]:
    texts = [entry] if isinstance(entry, str) else list(entry.values()) if isinstance(entry, dict) else []
    return {p for text in texts for p in PLACEHOLDER.findall(text) if p != "{n}"}


def test_the_dashboard_is_in_as_many_languages_as_the_widget() -> None:
    assert {f.stem for f in ADMIN_LOCALES.glob("*.json")} == {f.stem for f in FILES}


@pytest.mark.parametrize("path", sorted(ADMIN_LOCALES.glob("*.json")), ids=lambda p: p.stem)
def test_a_dashboard_locale_has_every_key_english_has_and_no_other(path: Path) -> None:
    texts = json.loads(path.read_text())
    assert sorted(set(ADMIN_ENGLISH) - set(texts)) == [], f"{path.name} lacks these"
    assert sorted(set(texts) - set(ADMIN_ENGLISH)) == [], f"{path.name} has keys English lacks"
    for key, text in texts.items():
        english = ADMIN_ENGLISH[key]
        assert isinstance(text, str) == isinstance(english, str), key
        if isinstance(text, dict):
            assert "other" in text and all(isinstance(v, str) and v for v in text.values()), key
        assert _placeholders(text) == _placeholders(english), key


def test_every_word_the_dashboard_names_is_in_english() -> None:
    """The page's data-i18n keys and the script's literal t("...") keys all have an English text."""
    html = (ADMIN / "index.html").read_text()
    named = set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', html))
    for script in ("admin.js", "charts.js"):
        named |= set(re.findall(r'\bt(?:Nodes)?\("([A-Za-z]+\.[A-Za-z.]+)"', (ADMIN / script).read_text()))
    assert sorted(named - set(ADMIN_ENGLISH)) == []


# --- the sign-in popup's pages (server/rejoinder/api/locales/) -----------------------------------------

SERVER = ROOT / "server" / "rejoinder"
POPUP_LOCALES = SERVER / "api" / "locales"
POPUP_ENGLISH = json.loads((POPUP_LOCALES / "en.json").read_text())


def test_the_popup_is_in_as_many_languages_as_the_widget() -> None:
    assert {f.stem for f in POPUP_LOCALES.glob("*.json")} == {f.stem for f in FILES}


@pytest.mark.parametrize("path", sorted(POPUP_LOCALES.glob("*.json")), ids=lambda p: p.stem)
def test_a_popup_locale_has_every_key_english_has_and_no_other(path: Path) -> None:
    texts = json.loads(path.read_text())
    assert list(texts) == list(POPUP_ENGLISH), f"{path.name}: not English's keys in English's order"
    for key, text in texts.items():
        assert isinstance(text, str) and text.strip(), key
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(POPUP_ENGLISH[key])), key


def test_every_word_the_popup_names_is_in_english() -> None:
    """The keys the popup's code names (pages, refusals, the errors its sign-ins raise, the passkey
    script's words) all have an English text."""
    from rejoinder.api import popup
    from rejoinder.api.passkeys import SCRIPT_WORDS

    named: set[str] = {"passkey." + key for key in SCRIPT_WORDS}
    calls = re.compile(r'\b(?:t|t_html|ended|provider_said_no|SignInError|PasskeyError|_server_page|_handle_page'
                       r'|_email_page)\(([^()]*)\)', re.S)
    for path in [*(SERVER / "api").glob("*.py"), *(SERVER / "auth").glob("*.py")]:
        for args in calls.findall(path.read_text()):
            named |= {key for key in re.findall(r'"([a-z]+(?:\.[A-Za-z]+)+)"', args) if "." in key}
    named |= {f"{words}.{part}" for words in ("mastodon", "bluesky") for part in ("title", "label", "hint")}
    named |= {*popup.UNAVAILABLE, *popup.REFUSED, *popup.REFUSED_POST, *popup.EXPIRED}
    assert len(named) > 60
    assert sorted(named - set(POPUP_ENGLISH)) == []


def test_the_popup_speaks_the_readers_language(app_server) -> None:
    """Its pages in the browser's language, right to left in Arabic, the passkey script's words with them;
    English where the browser asks for none of ours."""
    from .support.login import FROM_FRAME, secret_pair

    japanese = json.loads((POPUP_LOCALES / "ja.json").read_text())
    arabic = json.loads((POPUP_LOCALES / "ar.json").read_text())
    with httpx.Client(base_url=app_server.base, timeout=10) as popup:
        page = popup.get("/auth/mastodon/start", params={"site": SITE, "h": secret_pair()[1]},
                         headers={**FROM_FRAME, "Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
        assert page.status_code == 200 and '<html lang="ja" dir="ltr">' in page.text
        for key in ("mastodon.title", "mastodon.label", "continue"):
            assert japanese[key] in page.text and POPUP_ENGLISH[key] not in page.text, key
        refused = popup.get("/auth/mastodon/start", params={"site": SITE, "h": secret_pair()[1]},
                            headers={"Accept-Language": "ar"})  # not from our own page: refused, in Arabic
        assert refused.status_code == 403 and '<html lang="ar" dir="rtl">' in refused.text
        assert html_escape(arabic["refused.text"]) in refused.text
        passkey = popup.get("/auth/passkey/add", headers={**FROM_FRAME, "Accept-Language": "ja"})
        words = json.loads(html_unescape(re.search(r'data-words="([^"]*)"', passkey.text).group(1)))
        assert words["added"] == japanese["passkey.added"]
        english = popup.get("/auth/mastodon/start", params={"site": SITE, "h": secret_pair()[1]},
                            headers={**FROM_FRAME, "Accept-Language": "xx-YY"})
        assert '<html lang="en" dir="ltr">' in english.text and POPUP_ENGLISH["mastodon.title"] in english.text


def test_the_popup_speaks_the_language_of_the_comments_that_opened_it(app_server) -> None:
    """The widget opens the window with its language (a German blog read in a Japanese browser): that language
    on the first page, and on the later pages of the same sign-in, which come back without it. A language
    that is not one of ours, in the address or the cookie, counts for nothing."""
    from rejoinder.api import popup

    from .support.login import FROM_FRAME, secret_pair

    german = json.loads((POPUP_LOCALES / "de.json").read_text())
    japanese = json.loads((POPUP_LOCALES / "ja.json").read_text())
    browser = {**FROM_FRAME, "Accept-Language": "ja-JP,ja;q=0.9"}
    with httpx.Client(base_url=app_server.base, timeout=10) as window:
        first = window.get("/auth/mastodon/start", params={"site": SITE, "h": secret_pair()[1], "lang": "de"},
                          headers=browser)
        assert first.status_code == 200 and '<html lang="de" dir="ltr">' in first.text
        assert german["mastodon.title"] in first.text
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("rj_lang=de;") and "Path=/auth" in cookie and "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
        # Back from the reader's server, no language in the address: still German (here, a refusal).
        later = window.get("/auth/mastodon/callback", params={"state": "not-ours", "code": "x"}, headers=browser)
        assert later.status_code == 400 and '<html lang="de" dir="ltr">' in later.text
        assert html_escape(german[popup.EXPIRED[1]]) in later.text
        # Not ours: the browser's language.
        window.cookies.clear()
        bogus = window.get("/auth/mastodon/start", params={"site": SITE, "h": secret_pair()[1], "lang": "<x>"},
                          headers=browser)
        assert '<html lang="ja" dir="ltr">' in bogus.text and japanese["mastodon.title"] in bogus.text
        window.cookies.clear()
        forged = window.get("/auth/mastodon/callback", params={"state": "not-ours", "code": "x"},
                           headers={**browser, "Cookie": 'rj_lang="><script>alert(1)</script>'})
        assert '<html lang="ja" dir="ltr">' in forged.text and "<script>alert" not in forged.text

