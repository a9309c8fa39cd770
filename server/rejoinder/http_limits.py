"""The request head's size and header count, capped while it is read: 431 before the process buffers it.

uvicorn's httptools protocol reads headers without a bound (one 16 MB header was read whole and
answered 200; 64 MB cost the process 58 MB). A cap in the app comes too late: by then the parser has
buffered everything. So this subclass counts the bytes of each request head as they arrive and
stops the connection once a head is too big. It is the one place that relies on uvicorn's internals:
tests/test_http_limits.py fails loudly if an upgrade changes what it overrides.
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# A request head (request line and headers) may be this big. The largest we send ourselves is a
# thread request with a page URL, title and url (~8 KB percent-encoded at worst); browsers add
# 1-2 KB of headers. 32 KiB is nginx's default for a whole head (4 x 8k buffers).
MAX_HEAD_BYTES = 32 * 1024
# More header lines than this is not a browser (they send 10-20).
MAX_HEADERS = 100

_BODY = orjson.dumps({"error": {"code": "headers_too_large", "message": "The request's headers are too large."}})
RESPONSE_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(_BODY)).encode() + b"\r\nconnection: close\r\n"
                b"x-content-type-options: nosniff\r\ncache-control: no-store\r\n\r\n" + _BODY)


class _HeadTooLarge(Exception):
    pass


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with each request head bounded in bytes and in header lines."""

    _in_head = False
    _head_bytes = 0
    _closed_431 = False

    def data_received(self, data: bytes) -> None:
        if self._closed_431:
            return
        super().data_received(data)  # the parser buffers at most MAX_HEAD_BYTES plus this one chunk
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._send_431()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADERS:
            self._stop()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        # A head that arrived whole in one read is measured here (the reads are not counted then).
        if len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers) > MAX_HEAD_BYTES:
            self._stop()
        super().on_headers_complete()

    def _stop(self) -> None:
        """Stop the parser from inside a callback; uvicorn answers "bad request", which becomes the 431."""
        self._closed_431 = True
        raise _HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if self._closed_431:
            self._closed_431 = False
            self._send_431()
            return
        super().send_400_response(msg)

    def _send_431(self) -> None:
        self._closed_431 = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE_431)
            self.transport.close()
