"""Put comments into the demo post's thread through the API, as other readers would."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from ..conftest import SITE
from ..support.api import post
from .conftest import DEMO_PAGE

TITLE = "The slow pleasure of mending things"


def demo_thread(api: httpx.Client, page: str = DEMO_PAGE) -> dict[str, Any]:
    r = api.get("/api/threads", params={"site": SITE, "page": page, "title": TITLE})
    assert r.status_code == 200, r.text
    return r.json()["thread"]


def someone(api: httpx.Client) -> httpx.Client:
    """Another reader: the same server, their own anonymous id."""
    return httpx.Client(base_url=str(api.base_url), timeout=10,
                        headers={"X-Rejoinder-Client": secrets.token_urlsafe(16)})


def comment(api: httpx.Client, tid: str, text: str, name: str = "Grace", **fields: Any) -> dict[str, Any]:
    return post(api, tid, text, name=name, **fields)["comment"]
