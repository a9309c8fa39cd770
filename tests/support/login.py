"""Driving a social login over HTTP as the popup and the iframe would, step by step."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx


def secret_pair() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    digest = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).rstrip(b"=").decode()
    return secret, digest


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"] or ""] = a.get("value") or ""


@dataclass
class Flow:
    popup: httpx.Client  # the popup window: its own cookie jar on our origin
    secret: str
    h: str
    authorize_url: str


OPEN: list[httpx.Client] = []


def close_popups() -> None:
    while OPEN:
        OPEN.pop().close()


# What a browser sends with the popup's first navigation when our own frame (or the
# dashboard) opens it with window.open: a same-origin, top-level document navigation.
FROM_FRAME = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
              "Sec-Fetch-User": "?1"}


def start(app_base: str, provider: str, site: str = "demo", headers: dict[str, str] | None = None,
          **extra: str) -> Flow:
    secret, h = secret_pair()
    popup = httpx.Client(timeout=10)
    OPEN.append(popup)
    params = {"site": site, "h": h, **extra} if site else {"h": h, **extra}
    r = popup.get(f"{app_base}/auth/{provider}/start", params=params,
                  headers=FROM_FRAME if headers is None else headers)
    assert r.status_code == 302, r.text
    return Flow(popup, secret, h, r.headers["location"])


def consent(flow: Flow, decision: str = "allow") -> str:
    """At the provider: show the consent page and answer it. Returns the callback URL."""
    page = flow.popup.get(flow.authorize_url)
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(flow.authorize_url))
    r = flow.popup.post(base + form.action, data={**form.fields, "decision": decision})
    assert r.status_code == 302
    return r.headers["location"]


def callback(flow: Flow, url: str) -> httpx.Response:
    return flow.popup.get(url)


def confirm(flow: Flow, page: httpx.Response, app_base: str) -> httpx.Response:
    """Press "Continue" on the popup's last page, as a reader whose popup lost its opener does."""
    fields = {k: v for k, v in re.findall(r'name="(h|code)" value="([^"]*)"', page.text)}
    return flow.popup.post(f"{app_base}/auth/confirm", data=fields,
                           headers={"Origin": app_base, "Sec-Fetch-Site": "same-origin"})


def code_of(page: httpx.Response) -> str | None:
    found = re.search(r'data-code="([^"]+)"', page.text)
    return found.group(1) if found else None


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def login(api: httpx.Client, app_base: str, provider: str) -> str:
    """The whole flow; returns the bearer token the iframe ends up with."""
    flow = start(app_base, provider)
    page = callback(flow, consent(flow))
    assert page.status_code == 200, page.text
    r = api.post("/api/auth/handover", json={"secret": flow.secret, "code": code_of(page)})
    assert r.status_code == 200, r.text
    return r.json()["token"]
