"""Request heads are bounded while they are read: 431, not a 16 MB header read whole and answered 200."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import orjson
import pytest

from rejoinder import http_limits, serving
from rejoinder.settings import Settings

from .conftest import SITE


def test_what_the_limit_relies_on_in_uvicorn_is_still_there() -> None:
    """http_limits.py overrides these parts of uvicorn's httptools protocol. If an upgrade renames or
    removes one, heads are no longer bounded: this test says so before any request does."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    for name in ("data_received", "on_message_begin", "on_header", "on_headers_complete", "send_400_response"):
        assert callable(getattr(HttpToolsProtocol, name, None)), name
    assert serving.uvicorn_options(Settings())["http"] is http_limits.BoundedHttpToolsProtocol


def raw_request(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Send a request as bytes; the answer's first line and body (or what came before the server closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before it had all of it: what it said is still to read
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and (b"connection: close" in answer.lower() or len(answer) > 4096):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return answer


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024])
def test_one_huge_header_gets_431(app_server, size: int) -> None:
    answer = raw_request(app_server.port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * size
                         + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert orjson.loads(body)["error"]["code"] == "headers_too_large"


def test_hundreds_of_small_headers_get_431(app_server) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(500))
    assert raw_request(app_server.port, head + b"\r\n").startswith(b"HTTP/1.1 431 ")


def test_a_32_mb_header_costs_the_server_no_memory(app_server) -> None:
    assert app_server.proc is not None
    before = rss_kb(app_server.proc.pid)
    answer = raw_request(app_server.port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (32 << 20)
                         + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert rss_kb(app_server.proc.pid) - before < 8 * 1024  # it used to keep the whole header: +32 MB


def test_ordinary_requests_and_big_bodies_still_pass(app_server, api, thread) -> None:
    assert api.get("/healthz", headers={"X-Fine": "b" * 8000}).status_code == 200
    # A body that arrives with its head in one read is not counted as head.
    r = api.post(f"/api/threads/{thread['id']}/comments", json={"text": "x" * 60_000, "name": "Ann"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "comment_too_long"
    r = httpx.get(f"{app_server.base}/api/threads", params={"site": SITE, "page": "p", "title": "é" * 300})
    assert r.status_code == 200
