"""A real SMTP server for tests (aiosmtpd) that keeps every accepted message as a file.

Each message is written to FOLDER/<time>-<n>.json ({"from", "to", "data"}) before
the server answers 250, so what the test reads is exactly what was accepted.

Run: python -m tests.support.smtp_server --port P --folder DIR
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        record = {"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                  "data": envelope.original_content.decode("utf-8", "replace")}
        name = f"{time.time_ns()}-{os.getpid()}-{next(self.counter)}"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.rename(self.folder / f"{name}.json")
        return "250 Message accepted for delivery"


async def serve(port: int, folder: Path) -> None:
    loop = asyncio.get_running_loop()
    handler = Keep(folder)
    server = await loop.create_server(lambda: SMTP(handler, hostname="mail.test"), "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp on 127.0.0.1:{port}", flush=True)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.port, folder))


if __name__ == "__main__":
    main()
