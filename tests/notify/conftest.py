"""A real SMTP server, a real webhook receiver, and an app server that mails through the one and posts to the other."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from rejoinder.embedded import free_port

from ..conftest import SITE, new_client_id
from ..support import cli as support_cli
from ..support.api import post
from ..support.mailbox import SmtpServer, link
from ..support.oauth_provider import app_env as provider_env
from ..support.servers import AppServer, BlueskyServer, ProviderServer

# Short windows so a test waits seconds, not minutes: batches close after 1.5 s, the
# worker looks every 0.2 s, a dead node's lease passes on after 3 s, SMTP retries
# back off to at most 1 s, and webhooks retry after 1 s three times.
NOTIFY_ENV = {
    "REJOINDER_NOTIFY_BATCH_SECONDS": "1.5",
    "REJOINDER_WORKER_POLL_SECONDS": "0.2",
    "REJOINDER_WORKER_LEASE_SECONDS": "3",
    "REJOINDER_SMTP_RETRY_MAX_SECONDS": "1",
    "REJOINDER_SMTP_TIMEOUT_SECONDS": "5",
    "REJOINDER_WEBHOOK_RETRY_SECONDS": "1,1,1",
    "REJOINDER_WEBHOOK_TIMEOUT_SECONDS": "5",
}


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mail_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def mail_provider(mail_port: int) -> Iterator[ProviderServer]:
    """The local OAuth provider, registered with this app server's callback URLs (signed-in readers and mail)."""
    provider = ProviderServer(f"http://localhost:{mail_port}").start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def mail_server(redis_server, smtp_server: SmtpServer, mail_port: int, mail_provider: ProviderServer,
                bluesky_server: BlueskyServer) -> Iterator[AppServer]:
    # (With mail on, its worker takes part in every site: it follows remote posts as the others do.)
    server = AppServer(redis_server.url, port=mail_port,
                       env={**smtp_server.env(), **NOTIFY_ENV, **provider_env(mail_provider.base)}).start()
    yield server
    server.stop()


def reader_client(server: AppServer) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=10, headers={"X-Rejoinder-Client": new_client_id()})


@pytest.fixture
def reader(mail_server: AppServer) -> Iterator[httpx.Client]:
    with reader_client(mail_server) as client:
        yield client


@pytest.fixture
def another(mail_server: AppServer) -> Iterator[httpx.Client]:
    with reader_client(mail_server) as client:
        yield client


def open_thread(client: httpx.Client, page: str = "", title: str = "Post one") -> dict:
    """A thread of its own per test (a late delivery from another test can never match it)."""
    page = page or f"https://blog.example/post-{uuid.uuid4().hex[:8]}"
    r = client.get("/api/threads", params={"site": SITE, "page": page, "title": title})
    assert r.status_code == 200, r.text
    return r.json()["thread"]


@pytest.fixture
def mail_thread(reader: httpx.Client) -> dict:
    return open_thread(reader)


def address(who: str = "reader") -> str:
    """A fresh address per test, so mail from another test never counts."""
    return f"{who}-{uuid.uuid4().hex[:10]}@mail.example"


def words() -> str:
    """A comment text no other comment has (the same text twice in a thread is spam)."""
    return f"A thought numbered {uuid.uuid4().hex[:8]}."


def subscribe(client: httpx.Client, smtp: SmtpServer, tid: str, email: str, name: str = "Sub") -> dict:
    """Post with "notify me", follow the confirmation mail's link and press its button."""
    created = post(client, tid, words(), name=name, email=email, notify=True)
    [mail] = smtp.wait_for(email)
    url = link(mail, "/api/notify/confirm")
    page = httpx.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<form method="post">' in page.text
    done = httpx.post(url, headers={"Accept": "text/html"})
    assert done.status_code == 200, done.text
    return created


def cli(redis_url: str, *args: str) -> str:
    """The real `rejoinder` command against the test database (see support/cli.py)."""
    done = support_cli.cli(redis_url, *args, env={"REJOINDER_PUBLIC_URL": "http://localhost:1"})
    assert done.returncode == 0, done.stderr
    return done.stdout
