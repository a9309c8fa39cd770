"""Compose a mail (multipart/alternative, one-click unsubscribe, a stable Message-ID) and send one through SMTP."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

import aiosmtplib

from .. import links
from ..auth.identity import keyed_hash
from ..settings import Settings
from .templates import Mail

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"


def email_hash(settings: Settings, email: str) -> str:
    """How an address is named in keys and links: a keyed hash, so neither gives it away."""
    return keyed_hash(settings.secret_key, "notify:" + email.strip().lower())


def _base(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def confirm_url(settings: Settings, site: str, tid: str, ehash: str) -> str:
    token = links.sign(settings, CONFIRM, {"s": site, "t": tid, "e": ehash})
    return f"{_base(settings)}/api/notify/confirm?token={token}"


def unsubscribe_url(settings: Settings, site: str, ehash: str, tid: str = "") -> str:
    """Stop mail about thread `tid`, or (without a thread) held-comment mail to a site owner."""
    payload = {"s": site, "t": tid, "e": ehash} if tid else {"s": site, "o": ehash}
    return f"{_base(settings)}/api/notify/unsubscribe?token={links.sign(settings, UNSUBSCRIBE, payload)}"


def sender(settings: Settings) -> str:
    if settings.smtp_from:
        return settings.smtp_from
    host = urlsplit(settings.public_url).hostname or "localhost"
    return f"comments@{host}"


def compose(settings: Settings, *, to: str, site_name: str, mail: Mail, unsubscribe: str, kind: str) -> dict[str, str]:
    """An outbox entry: the whole message as it will go out, so every retry sends the same bytes."""
    name, address = parseaddr(sender(settings))
    domain = address.rpartition("@")[2] or "localhost"
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = formataddr((name or site_name, address))
    msg["To"] = to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    # One Message-ID per message, made once: a copy sent again after a crash
    # carries the same id, so mail clients and filters can tell it is the same mail.
    msg["Message-ID"] = make_msgid("rejoinder", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe:  # (a mail sent once at the address's own request, such as a sign-in link, has none)
        # RFC 8058 one-click unsubscribe: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return {"to": to, "from": address, "mid": msg["Message-ID"], "kind": kind,
            "at": str(int(time.time() * 1000)), "msg": msg.as_string()}


class Smtp:
    """One connection to the SMTP server, opened when there is mail to send."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, entry: dict[str, str]) -> None:
        """Returns once the server accepted the message. Raises aiosmtplib.SMTPResponseException
        (with .code) when it refuses, other SMTPException or OSError when it cannot be reached."""
        if self.client is None or not self.client.is_connected:
            s = self.settings
            client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, use_tls=s.smtp_tls,
                                     start_tls=s.smtp_starttls and not s.smtp_tls, timeout=s.smtp_timeout_seconds,
                                     username=s.smtp_username or None, password=s.smtp_password or None)
            await client.connect()
            self.client = client
        await self.client.sendmail(entry["from"], [entry["to"]], entry["msg"])

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
