"""The HTML documents the server renders: the widget's iframe with its CSP, and the demo post."""

from __future__ import annotations

import functools
import html
import logging
import zlib
from urllib.parse import urlsplit
from typing import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from .api.threads import open_thread_body
from .assets import static_dir, static_text
from .errors import ApiError
from .models import Identity
from .state import state
from .store import keys

log = logging.getLogger("rejoinder")

# Who the embedded first page is rendered for: nobody in particular. The frame is
# a navigation (no bearer token, no client id header), and the document must carry
# nothing personal; the widget fetches the reader's own view afterwards if needed.
NOBODY = Identity(kind="guest", key="")
# Where the thread goes in the built frame.html (widget/build.mjs writes it).
SLOT = "</body>"
# A 200-comment thread is about 90 KB of JSON, 5 KB gzipped; level 6 takes about 1 ms.
# Languages written right to left: their frame is dir="rtl" (the CSS uses logical properties).
RTL = {"ar", "he", "fa", "ur"}
GZIP_LEVEL = 6


@functools.lru_cache(maxsize=1)
def locales() -> dict[str, str]:
    """The widget's languages (static/locales/<lang>.json, built from widget/locales/): lang -> its messages."""
    folder = static_dir() / "locales"
    return {f.stem.lower(): f.read_text(encoding="utf-8") for f in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def pick_language(asked: str, accept_language: str) -> str:
    """The reader's language among ours: the page's (data-lang, else its <html lang>), else the browser's
    (Accept-Language, in its order of preference); a region falls back to its language (pt-BR -> pt); else
    English."""
    known = locales()
    tags = [asked]
    weighed = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighed.append((-q, i, tag.strip()))
    tags += [tag for _, _, tag in sorted(weighed)]
    for tag in tags:
        tag = tag.strip().lower().replace("_", "-")[:35]
        if not tag or tag == "*":
            continue
        if tag in known:
            return tag
        if tag.split("-")[0] in known:
            return tag.split("-")[0]
    return "en"


def frame_csp(public_url: str, origins: list[str], stylesheet: str = "") -> str:
    ws = public_url.replace("https://", "wss://").replace("http://", "ws://")
    # A site's own stylesheet (Site.stylesheet, on one of its origins): styles from there too, nothing else.
    styles = "'self'" + (" " + stylesheet_origin(stylesheet) if stylesheet else "")
    # frame-ancestors: only the site's own pages may frame its comments, which
    # stops clickjacking of the like and post buttons from any other page.
    ancestors = " ".join(origins) or "'none'"
    return (f"default-src 'none'; script-src 'self'; style-src {styles}; img-src 'self' data:; "
            f"connect-src 'self' {ws}; font-src {styles}; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {ancestors}")


async def get_frame(request: Request) -> Response:
    """GET /frame?site=ID[&page=&url=&title=]: the iframe document the loader inserts,
    with the page's thread as anyone sees it; 404 for an unknown site."""
    st = state(request)
    site_id = request.query_params.get("site", "")
    site = await st.sites.get(site_id) if keys.SITE_ID.match(site_id) else None
    if site is None:
        return HTMLResponse("<!doctype html><title>Unknown site</title><p>This site is not registered.</p>",
                            status_code=404)
    head, tail = static_text("frame.html").split(SLOT, 1)
    lang = pick_language(request.query_params.get("lang", ""), request.headers.get("accept-language", ""))
    head = head.replace('<html lang="en">', f'<html lang="{lang}" dir="{"rtl" if lang.split("-")[0] in RTL else "ltr"}">', 1)
    if site.stylesheet:
        # After ours, so the site's rules win; its variables are the documented --rj-* ones (README).
        head = head.replace("</head>", f'<link rel="stylesheet" href="{html.escape(site.stylesheet)}" '
                                       'referrerpolicy="no-referrer">\n</head>', 1)
    with_thread = bool(request.query_params.get("page") or request.query_params.get("url"))
    packed = "gzip" in request.headers.get("accept-encoding", "")
    headers = {
        "content-security-policy": frame_csp(st.settings.public_url, site.origins, site.stylesheet),
        # The document holds the thread as it is now: never reuse it, not even for the same reader.
        "cache-control": "no-store",
        "vary": "Accept-Encoding, Accept-Language",
    }
    if packed:
        # Safe to compress: the document carries no secret for a length side channel to reveal.
        headers["content-encoding"] = "gzip"

    async def document() -> AsyncIterator[bytes]:
        gz = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if packed else None  # 31: gzip framing

        def out(text: str, end: bool = False) -> bytes:
            if gz is None:
                return text.encode()
            return gz.compress(text.encode()) + gz.flush(zlib.Z_FINISH if end else zlib.Z_SYNC_FLUSH)

        # The head goes first: the browser commits the iframe's document and asks
        # for frame.css and frame.js while the thread is read.
        yield out(head)
        if lang != "en":
            # The reader's language's messages (English is built into frame.js).
            yield out(inert_json("rj-messages", orjson.Fragment(locales()[lang]), lang=lang))
        if with_thread:
            try:
                # The thread's first page as anyone sees it, so the widget can show it
                # without another round trip (bench/RESULTS.md, Widget).
                thread = await open_thread_body(request, site, NOBODY)
                yield out(inert_json("rj-thread", thread))
            except ApiError:
                pass  # the widget asks the API itself, and shows its error
            except Exception:  # Redis down, say: the status line is sent, so the widget asks the API
                log.warning("frame without its thread", exc_info=True)
        yield out(SLOT + tail, end=True)

    return StreamingResponse(document(), headers=headers, media_type="text/html")


def stylesheet_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def inert_json(element_id: str, data: object, lang: str = "") -> str:
    """Data for the page's script as a JSON script block: the browser never runs it
    (not a script type), so the CSP stays script-src 'self'. Every "<" is escaped,
    so no comment text can close the element ("</script>") or open markup."""
    raw = orjson.dumps(data).decode()
    raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    attrs = f' data-lang="{html.escape(lang)}"' if lang else ""
    return f'<script type="application/json" id="{element_id}"{attrs}>{raw}</script>\n'


async def get_demo_post(request: Request) -> Response:
    """GET /demo/: the demo blog post, embedding the widget from the public URL."""
    st = state(request)
    if not st.settings.demo_page:
        return HTMLResponse("<!doctype html><title>Not found</title><p>Not found.</p>", status_code=404)
    page = static_text("demo/index.html")
    return HTMLResponse(page.replace("{{REJOINDER_URL}}", html.escape(st.settings.public_url)))


routes = [
    Route("/frame", get_frame, methods=["GET"], name="frame:get"),
    Route("/demo/", get_demo_post, methods=["GET"], name="demo:get"),
]
