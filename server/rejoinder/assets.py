"""The static files (built widget, demo): served from memory, gzipped once, with cache headers."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

# Worth compressing: text. Images and fonts are compressed already.
TEXT = {".js", ".css", ".html", ".svg", ".json", ".txt", ".map"}
# Below this, gzip's framing eats the gain.
MIN_GZIP = 1024
# Bigger files go through Starlette's own streaming FileResponse.
MAX_CACHED = 1 << 20
# A name the widget's build fingerprints (frame.html asks for frame.js?v=<hash>):
# the URL changes whenever the bytes do, so a browser may keep it for good.
IMMUTABLE = "public, max-age=31536000, immutable"
# The loaders sit in blog pages under a fixed URL: a short lifetime lets a new
# version reach readers within minutes, and spares a request on every page view.
LOADERS = {"embed.js", "count.js"}
LOADER_CACHE = "public, max-age=300"
# Anything else may change under the same URL: the browser revalidates (304).
DEFAULT_CACHE = "no-cache"
# What every page view asks for, on the way to showing the comments.
HOT = {"embed.js", "count.js", "frame.js", "frame.css"}


def static_dir() -> Path:
    """The built widget and pages: inside the installed package, or the repo's static/."""
    packaged = Path(__file__).parent / "static"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "static"


@lru_cache(maxsize=8)
def static_text(name: str) -> str:
    """A page of static/ that the server fills in or serves with headers of its own (read once)."""
    return (static_dir() / name).read_text()


@dataclass(frozen=True)
class _Cached:
    body: bytes
    gzipped: bytes | None
    fingerprint: str  # sha256 of the bytes, first 12 hex digits, as widget/build.mjs names them
    etag: str


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


class Assets(StaticFiles):
    """StaticFiles that keeps small files in memory (each read and gzipped once per
    version on disk), answers gzip to browsers that take it, and sets Cache-Control:
    immutable for fingerprinted URLs, short for the loaders, revalidate otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: dict[tuple[str, int, int], _Cached] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        # The widget's files are looked up here, not in a worker thread as
        # StaticFiles does for every file: a stat of a small local folder takes
        # microseconds, the thread hop took milliseconds on a busy machine, on
        # the way to showing the comments.
        if path in HOT and scope["method"] in ("GET", "HEAD"):
            full_path, stat_result = self.lookup_path(path)
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return self.file_response(full_path, stat_result, scope)
        return await super().get_response(path, scope)

    def _load(self, full_path: str, stat_result: os.stat_result) -> _Cached:
        key = (full_path, stat_result.st_mtime_ns, stat_result.st_size)
        hit = self._cache.get(key)
        if hit is None:
            with open(full_path, "rb") as f:
                body = f.read()
            packed = None
            if os.path.splitext(full_path)[1] in TEXT and len(body) >= MIN_GZIP:
                packed = gzip.compress(body, compresslevel=9, mtime=0)
            digest = fingerprint(body)
            hit = _Cached(body, packed, digest, f'"{digest}"')
            # One entry per file: a rebuilt file replaces its old version.
            for old in [k for k in self._cache if k[0] == full_path]:
                del self._cache[old]
            self._cache[key] = hit
        return hit

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        if stat_result.st_size > MAX_CACHED:
            return super().file_response(full_path, stat_result, scope, status_code)
        path = str(full_path)
        cached = self._load(path, stat_result)
        request = Headers(scope=scope)
        name = os.path.basename(path)
        version = _query_param(scope, "v")
        if version and version == cached.fingerprint:
            cache_control = IMMUTABLE
        elif name in LOADERS:
            cache_control = LOADER_CACHE
        else:
            cache_control = DEFAULT_CACHE
        use_gzip = cached.gzipped is not None and "gzip" in request.get("accept-encoding", "")
        etag = cached.etag[:-1] + '-gz"' if use_gzip else cached.etag
        headers = {"cache-control": cache_control, "etag": etag}
        if cached.gzipped is not None:
            headers["vary"] = "Accept-Encoding"
        if use_gzip:
            headers["content-encoding"] = "gzip"
        response = Response(cached.gzipped if use_gzip else cached.body, status_code=status_code, headers=headers,
                            media_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
        if status_code == 200 and self.is_not_modified(response.headers, request):
            return NotModifiedResponse(response.headers)
        return response


def _query_param(scope: Scope, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else ""
