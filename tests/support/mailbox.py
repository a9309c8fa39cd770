"""The test SMTP server as a child process, and its mailbox as a reader sees it."""

from __future__ import annotations

import email
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from rejoinder.embedded import free_port

from .servers import ROOT, ModuleServer


class SmtpServer:
    """python -m tests.support.smtp_server on a free port; can be stopped and started again on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="rejoinder-mail-"))
        self.log_path = Path(tempfile.mkstemp(prefix="rejoinder-smtp-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> "SmtpServer":
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.smtp_server", "--port", str(self.port),
                                          "--folder", str(self.folder)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"smtp server exited:\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"220"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"smtp server did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def env(self) -> dict[str, str]:
        return {"REJOINDER_SMTP_HOST": "127.0.0.1", "REJOINDER_SMTP_PORT": str(self.port),
                "REJOINDER_SMTP_STARTTLS": "0", "REJOINDER_SMTP_FROM": "Comments <comments@blog.test>"}

    # --- the mailbox -------------------------------------------------------------

    def messages(self, to: str) -> list[EmailMessage]:
        """Every message accepted for `to`, in the order the server accepted them."""
        out = []
        for path in sorted(self.folder.glob("*.json"), key=lambda p: int(p.name.split("-")[0])):
            record = json.loads(path.read_text())
            if to in record["to"]:
                out.append(email.message_from_string(record["data"], policy=default))  # type: ignore[arg-type]
        return out

    def wait_for(self, to: str, count: int = 1, timeout: float = 20.0) -> list[EmailMessage]:
        """At least `count` messages for `to` (bounded wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages(to)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{len(self.messages(to))} of {count} mails for {to} arrived within {timeout}s")


class WebhookReceiver(ModuleServer):
    module = "tests.support.webhook_receiver"
    ready_path = "/_calls"

    @property
    def url(self) -> str:
        return f"{self.base}/hook"


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return part.get_content()


def links_in(msg: EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+", text_part(msg))


def link(msg: EmailMessage, path: str) -> str:
    found = [u for u in links_in(msg) if path in u]
    assert found, (path, text_part(msg))
    return found[0]
