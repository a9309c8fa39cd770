"""Writing one event to thousands of sockets: encode the websocket frame once, then
hand the same bytes to each socket's transport.

A server-to-client frame is not masked and we turn compression off, so the bytes
of a frame depend only on its text: every reader of a public event gets the very
same bytes. Sending through ASGI costs a chain of coroutines, a fresh encode and a
join per reader per event; writing the frame directly costs one transport.write.
At 10,000 readers on one thread that is the difference between a fan-out of a few
hundred milliseconds and a few tens (bench/RESULTS.md, Live updates).

This needs uvicorn's websockets-sansio protocol underneath (the one `rejoinder
serve` runs): its send() is handed to the app as a bound method, and the fast
path uses only what its own send() checks and does for a text frame. Under any
other server or protocol, or if a future uvicorn renames those attributes, the
probe finds nothing and every send goes through ASGI as usual.
"""

from __future__ import annotations

import socket
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - uvicorn is a dependency; another server may run us
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]
try:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
except ImportError:  # pragma: no cover
    RequestResponseCycle = None  # type: ignore[assignment,misc]

_NEEDED = ("transport", "conn", "writable", "close_sent", "disconnected", "initial_response", "handshake_complete")


def once(event: Any, message: str, form: str, make: Any) -> bytes:
    """The event's bytes for this audience in one wire form ("frame" or "chunk"; `make(event,
    message)` makes them), made once per event: every reader of the public form, and every tab of
    its author, share them."""
    if message is event.public:
        slot = form
    elif message is event.own:
        slot = "own_" + form
    else:
        return make(event, message)
    made = getattr(event, slot)
    if made is None:
        made = make(event, message)
        setattr(event, slot, made)
    return made


def encode(text: str) -> bytes:
    """One complete, unmasked, uncompressed text frame."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def server_protocol(scope: dict[str, Any]) -> Any | None:
    """The uvicorn protocol object behind this websocket, if the fast path can use it."""
    send = scope.get("rejoinder.server_send")
    proto = getattr(send, "__self__", None)
    if WebSocketsSansIOProtocol is None or not isinstance(proto, WebSocketsSansIOProtocol):
        return None
    if not all(hasattr(proto, name) for name in _NEEDED):
        return None
    conn = proto.conn
    # Compression would make the bytes differ per socket.
    if getattr(conn, "extensions", None):
        return None
    return proto


def forget_handshake(proto: Any) -> None:
    """Let go of the handshake's response object (~1 KiB of headers) that uvicorn keeps
    for the socket's life though it reads it only until the handshake is sent."""
    if proto is not None and proto.handshake_complete and hasattr(proto, "response"):
        proto.response = None


def write(proto: Any, frame: bytes) -> bool:
    """Write the frame now if the socket takes it as uvicorn's own send would; False
    if not (paused transport, closing, not open): then the caller sends through ASGI,
    which waits or raises as it should."""
    if (proto.disconnected or proto.close_sent or proto.initial_response is not None
            or not proto.handshake_complete or not proto.writable.is_set()
            or proto.conn.state is not State.OPEN or proto.transport.is_closing()):
        return False
    proto.transport.write(frame)
    return True


def bound_send_buffer(proto: Any, nbytes: int) -> None:
    """Cap what the kernel holds for this socket. Left alone, Linux grows a socket's send
    buffer up to 4 MiB for a peer that stopped reading; set, it stays at twice this
    (the kernel's bookkeeping doubles it), and the reader's queue takes the rest."""
    if proto is None or nbytes <= 0:
        return
    if proto.transport is None or proto.transport.is_closing():
        return  # the reader left during the handshake: nothing to bound
    sock = proto.transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, nbytes)
        except (OSError, ValueError):
            # OSError from the kernel; ValueError from uvloop's pseudo-socket once the descriptor is gone
            # (the reader closed it a moment ago): either way there is no buffer left to bound.
            pass


# --- the same for a Server-Sent Events answer (live/stream.py) -----------------------------

_NEEDED_HTTP = ("transport", "flow", "disconnected", "response_started", "response_complete", "chunked_encoding")


def http_cycle(scope: dict[str, Any]) -> Any | None:
    """uvicorn's request-response cycle behind this HTTP request, if chunks can be written to it directly."""
    send = scope.get("rejoinder.server_send")
    cycle = getattr(send, "__self__", None)
    if RequestResponseCycle is None or not isinstance(cycle, RequestResponseCycle):
        return None
    if not all(hasattr(cycle, name) for name in _NEEDED_HTTP) or not hasattr(cycle.flow, "write_paused"):
        return None
    return cycle


def chunk(data: bytes) -> bytes:
    """`data` as one chunk of a chunked HTTP/1.1 body, as uvicorn writes a body message."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def write_chunk(cycle: Any, framed: bytes) -> bool:
    """Write an already-framed chunk now if the answer takes it as uvicorn's own send would
    (head sent, chunked, not paused, not finished); False if not: the caller sends through ASGI."""
    if (cycle.disconnected or not cycle.response_started or cycle.response_complete
            or cycle.chunked_encoding is not True or cycle.flow.write_paused or cycle.transport.is_closing()):
        return False
    cycle.transport.write(framed)
    return True
