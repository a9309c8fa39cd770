"""The address guard of every server-side fetch whose address someone else chooses (webhooks, avatars):
resolve once, check every address, and connect to the address that was checked.

A site admin (the webhook URL) or a remote server (a provider's avatar URL, its redirects) must not
make this server reach what only it can reach: loopback, the private network, a cloud metadata
address. Checking a name and then letting the HTTP client resolve it again is not enough: a name
that answers a public address to the check and 127.0.0.1 to the connection (DNS rebinding) slips
through. So the request goes to the checked IP itself, with the name kept for the Host header and
for TLS (SNI and certificate verification).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from dataclasses import dataclass
from collections.abc import AsyncIterator
from typing import Any, Awaitable, Callable
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx2

log = logging.getLogger("rejoinder.fetch")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges that carry an IPv4 address inside (or lead to one through a translator):
# each is judged by the IPv4 address it embeds, or refused when that cannot be told.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
TEREDO = ipaddress.ip_network("2001::/32")

# What the delivery log may say about a failure: a category, never the error's own text, which can
# name internal hosts and ports (the log must not become a port scanner for a site admin).
CATEGORIES = ("refused_address", "dns_failed", "timeout", "connect_failed", "tls_failed", "http_error",
              "too_large", "bad_url")

Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True)
class Policy:
    """What a guarded fetch may reach besides public addresses: everything (private_ok, for a server
    whose receivers are all internal), or only the networks named (REJOINDER_FETCH_ALLOW)."""

    private_ok: bool = False
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def of(cls, settings: Any) -> "Policy":
        nets = tuple(ipaddress.ip_network(n.strip(), strict=False)
                     for n in settings.fetch_allow.split(",") if n.strip())
        return cls(settings.fetch_private_ok, nets)

    def permits(self, ip: IPAddress) -> bool:
        return self.private_ok or not refused_ip(ip) or any(ip in net for net in self.allow)


class Refused(Exception):
    """The fetch was not made, or failed: `category` is what a site admin may be told."""

    def __init__(self, category: str, detail: str = "") -> None:
        super().__init__(detail or category)
        self.category = category


def refused_ip(ip: IPAddress) -> bool:
    """Whether this address must not be reached on someone else's say-so."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return refused_ip(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return refused_ip(ip.sixtofour)
        if ip in NAT64 or ip in IPV4_COMPATIBLE:  # (also :: and ::1, whose "IPv4" is 0.0.0.x)
            return refused_ip(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in NAT64_LOCAL or ip in TEREDO:
            return True
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0].split("%", 1)[0] for info in infos]


@dataclass(frozen=True)
class Pinned:
    """A request aimed at a checked address: the URL with the IP in it, and what keeps the name."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]
    address: str


async def pin(url: str, *, policy: Policy = Policy(), resolver: Resolver = system_resolver) -> Pinned:
    """Resolve `url`'s host once, refuse it if any address is not permitted, and aim the request at the
    first address. Raises Refused("bad_url" | "dns_failed" | "refused_address")."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("bad_url") from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.username is not None or parts.password is not None:
        raise Refused("bad_url")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise Refused("dns_failed", f"{host}: {exc}") from None
        if not addresses:
            raise Refused("dns_failed", host)
    checked = [ipaddress.ip_address(a) for a in addresses]
    if not all(policy.permits(ip) for ip in checked):
        raise Refused("refused_address", f"{host} resolves to {', '.join(addresses)}")
    first = checked[0]
    shown = f"[{first}]" if first.version == 6 else str(first)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    host_header = f"{host}:{parts.port}" if parts.port else host
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Pinned(pinned, {"Host": host_header}, extensions, str(first))


def category(exc: BaseException) -> str:
    """The category of a failed fetch, for what a site admin sees."""
    if isinstance(exc, Refused):
        return exc.category
    if isinstance(exc, httpx2.TimeoutException | asyncio.TimeoutError):
        return "timeout"
    text = str(exc).lower()
    if isinstance(exc, httpx2.ConnectError):
        return "tls_failed" if "ssl" in text or "certificate" in text or "tls" in text else "connect_failed"
    return "http_error"


async def request(client: httpx2.AsyncClient, method: str, url: str, *, policy: Policy = Policy(),
                  resolver: Resolver = system_resolver, headers: dict[str, str] | None = None,
                  **kwargs: Any) -> httpx2.Response:
    """One request through the guard (no redirects followed: a redirect is the caller's to check)."""
    target = await pin(url, policy=policy, resolver=resolver)
    return await client.request(method, target.url, headers={**(headers or {}), **target.headers},
                                extensions=target.extensions, follow_redirects=False, **kwargs)


@contextlib.asynccontextmanager
async def stream(client: httpx2.AsyncClient, url: str, *, policy: Policy = Policy(), max_redirects: int = 3,
                 resolver: Resolver = system_resolver) -> AsyncIterator[httpx2.Response]:
    """GET `url` as a stream, following at most `max_redirects` redirects, each hop through the guard
    (a public address that redirects to a private one gets nowhere)."""
    for _ in range(max_redirects + 1):
        target = await pin(url, policy=policy, resolver=resolver)
        async with client.stream("GET", target.url, headers=target.headers, extensions=target.extensions,
                                 follow_redirects=False) as response:
            location = response.headers.get("location")
            if response.is_redirect and location:
                url = urljoin(url, location)
                continue
            yield response
            return
    raise Refused("http_error", "too many redirects")
