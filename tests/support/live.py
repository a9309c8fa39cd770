"""A websocket reader of a thread, as the widget is one: hello, replay, then live events."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import orjson
import websockets


class Reader:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self.presence: list[int] = []

    async def next(self, timeout: float = 5.0, presence: bool = False) -> dict[str, Any]:
        """The next message; "N reading now" notices (advisory, unnumbered) are kept aside in
        self.presence unless asked for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = orjson.loads(await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - loop.time())))
            if message.get("type") == "presence" and not presence:
                self.presence.append(message["readers"])
                continue
            self.seen.append(message)
            return message

    async def until(self, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.next(max(0.01, deadline - loop.time()))
            if predicate(message):
                return message

    async def close(self) -> None:
        await self.ws.close()

    @property
    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.seen if "seq" in m]


async def connect(base_ws: str, tid: str, *, origin: str, since: int = 0, epoch: str | None = None,
                  client: str = "reader-client-0001", token: str | None = None, rcvbuf: int | None = None,
                  hello: bool = True) -> Reader:
    url = f"{base_ws}/api/threads/{tid}/live?since={since}" + (f"&epoch={epoch}" if epoch else "")
    kwargs: dict[str, Any] = {"origin": origin, "compression": None, "max_queue": 4 if rcvbuf else 1024,
                              "open_timeout": 5}
    if rcvbuf:
        # A reader that stops reading: a tiny receive buffer makes the server notice soon.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        host, port = base_ws.split("//")[1].split(":")
        sock.connect(("127.0.0.1", int(port)))
        kwargs["sock"] = sock
    ws = await websockets.connect(url, **kwargs)
    if hello:
        await ws.send(orjson.dumps({"type": "hello", "client": client, "token": token}).decode())
    return Reader(ws)
