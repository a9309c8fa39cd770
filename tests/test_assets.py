"""Static files: fingerprinted widget files cached for good, loaders briefly, gzip for browsers that take it."""

from __future__ import annotations

import re

import httpx
import pytest

from rejoinder.assets import static_dir
from rejoinder.assets import fingerprint

from .support.servers import AppServer


@pytest.fixture
def raw(app_server: AppServer) -> httpx.Client:
    # Asks for no encoding unless a test says otherwise.
    with httpx.Client(base_url=app_server.base, timeout=10, headers={"Accept-Encoding": "identity"}) as client:
        yield client


def test_fingerprinted_widget_files_are_immutable(raw: httpx.Client) -> None:
    html = (static_dir() / "frame.html").read_text()
    for name in ("frame.js", "frame.css"):
        version = re.search(rf"/{re.escape(name)}\?v=([0-9a-f]+)", html).group(1)  # type: ignore[union-attr]
        assert version == fingerprint((static_dir() / name).read_bytes())
        r = raw.get(f"/{name}", params={"v": version})
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        # Another version's URL is not promised to stay: revalidated.
        assert raw.get(f"/{name}", params={"v": "0" * 12}).headers["cache-control"] == "no-cache"


def test_loaders_are_cached_briefly_and_the_rest_revalidated(raw: httpx.Client) -> None:
    assert raw.get("/embed.js").headers["cache-control"] == "public, max-age=300"
    assert raw.get("/count.js").headers["cache-control"] == "public, max-age=300"
    assert raw.get("/login.css").headers["cache-control"] == "no-cache"


def test_gzip_when_accepted_and_304_when_unchanged(raw: httpx.Client) -> None:
    plain = raw.get("/frame.js")
    assert "content-encoding" not in plain.headers
    assert plain.content == (static_dir() / "frame.js").read_bytes()
    packed = raw.get("/frame.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # httpx decoded it
    assert packed.num_bytes_downloaded < len(plain.content) / 2
    # Each encoding has its own validator, so a cache never mixes them up.
    assert packed.headers["etag"] != plain.headers["etag"]
    again = raw.get("/frame.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    tiny = raw.get("/login.css", headers={"Accept-Encoding": "gzip"})  # too small to gain
    assert "content-encoding" not in tiny.headers
