"""Page identity: an explicit page id, or the page URL normalised."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ApiError

# Query parameters that name a campaign or a click, never a different page.
TRACKING = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "_ga", "yclid"}
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_PAGE = 1024


def page_key(page: str) -> str:
    """The key of a page: URLs are normalised, explicit ids kept as given."""
    page = page.strip()
    if not page or len(page) > MAX_PAGE or any(ord(ch) < 32 for ch in page):
        raise ApiError("invalid_field", "page must be a page id or URL of at most 1024 characters.", field="page")
    if "://" not in page:
        return page
    try:
        parts = urlsplit(page)
        port = parts.port
    except ValueError:
        raise ApiError("invalid_field", "page is not a valid URL.", field="page") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ApiError("invalid_field", "page URLs must be http or https.", field="page")
    host = parts.hostname.lower()
    if port and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING and not k.lower().startswith("utm_")]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))
