"""Session fixtures: a real Valkey server and a real app server, an empty database per test."""

from __future__ import annotations

import gc
import os
import secrets
import tempfile
from pathlib import Path
from typing import Iterator

import httpx
import orjson
import pytest
import redis as redis_sync
from redis.cluster import RedisCluster

from rejoinder.embedded import EmbeddedRedis, free_port
from rejoinder.store import keys

from .support.oauth_provider import app_env as provider_env
from .support.cluster import ValkeyCluster
from .support.mailbox import WebhookReceiver
from .support.servers import AppServer, AtprotoPds, BlueskyServer, MastodonServer, ProviderServer

SITE = "demo"
BLOG = "https://blog.example"


@pytest.fixture(scope="session", params=["single", "cluster"])
def redis_server(request: pytest.FixtureRequest) -> Iterator[EmbeddedRedis | ValkeyCluster]:
    """Every test that uses the database runs against a single Valkey and against a
    3-master Valkey Cluster: the same code must hold on both."""
    if request.param == "cluster":
        cluster = ValkeyCluster().start()
        yield cluster
        cluster.stop()
        return
    folder = tempfile.mkdtemp(prefix="rejoinder-valkey-")
    server = EmbeddedRedis(Path(folder), password="test-password").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def oauth_provider(app_port: int) -> Iterator[ProviderServer]:
    """The strict local OAuth/OIDC provider, registered with the app server's callback URLs."""
    provider = ProviderServer(f"http://localhost:{app_port}").start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def bluesky_server() -> Iterator[BlueskyServer]:
    """The local Bluesky AppView every app server of the run asks (REJOINDER_BLUESKY_APPVIEW, in the
    environment each one starts with: the worker of any node on the database may follow a site's posts)."""
    server = BlueskyServer().start()
    os.environ["REJOINDER_BLUESKY_APPVIEW"] = server.base
    yield server
    os.environ.pop("REJOINDER_BLUESKY_APPVIEW", None)
    server.stop()


@pytest.fixture(scope="session")
def atproto_pds(bluesky_server: BlueskyServer) -> Iterator[AtprotoPds]:
    """The local atproto world of Bluesky sign-in (tests/support/atproto_pds.py): PLC directory, PDS and its
    OAuth server in one. Accounts added to it are registered with the AppView too. REJOINDER_BLUESKY_PLC is
    set for the app servers started after it (app_server depends on it)."""
    server = AtprotoPds(appview=bluesky_server.base)
    server.start()
    os.environ["REJOINDER_BLUESKY_PLC"] = server.plc
    yield server
    os.environ.pop("REJOINDER_BLUESKY_PLC", None)
    server.stop()


@pytest.fixture(scope="session")
def mastodon_server() -> Iterator[MastodonServer]:
    """A local Mastodon server: a status's own server is named by its URL, so nothing is configured."""
    server = MastodonServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_server(redis_server: EmbeddedRedis, oauth_provider: ProviderServer, bluesky_server: BlueskyServer,
               atproto_pds: AtprotoPds, app_port: int) -> Iterator[AppServer]:
    server = AppServer(redis_server.url, port=app_port, env=provider_env(oauth_provider.base)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A real HTTP receiver of webhooks (tests/support/webhook_receiver.py): records each call."""
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def sync_client(url: str) -> redis_sync.Redis:
    if url.startswith("redis+cluster://"):
        return RedisCluster.from_url(url.replace("+cluster", ""), decode_responses=True)  # type: ignore[return-value]
    return redis_sync.Redis.from_url(url, decode_responses=True)


@pytest.fixture(scope="session")
def redis_client(redis_server: EmbeddedRedis) -> Iterator[redis_sync.Redis]:
    client = sync_client(redis_server.url)
    yield client
    client.close()
    if isinstance(client, RedisCluster):
        client.disconnect_connection_pools()  # close() leaves the per-node pools open


def register_site(client: redis_sync.Redis, site_id: str, origins: list[str], moderation: str = "publish",
                  blocklist: list[str] | None = None) -> None:
    """Write a site the way SiteStore does (the test process has no event loop to spare)."""
    client.hset(keys.site(site_id), mapping={
        "id": site_id, "name": site_id.title(), "origins": orjson.dumps(origins).decode(),
        "moderation": moderation, "created": 1, "blocklist": orjson.dumps(blocklist or []).decode(),
    })
    client.sadd(keys.site_index(), site_id)
    client.sadd(keys.origin_index(), *origins)


@pytest.fixture(autouse=True)
def collect_what_the_test_left() -> Iterator[None]:
    """Collect garbage as each test ends, so an unclosed socket or connection is reported against the
    test that left it (warnings are errors here), not against whichever test later triggers a collection."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def empty_database(request: pytest.FixtureRequest) -> None:
    """Each test starts from an empty database with the demo site registered."""
    if "redis_server" not in request.fixturenames and "app_server" not in request.fixturenames:
        return
    client = request.getfixturevalue("redis_client")
    if isinstance(client, RedisCluster):
        client.flushdb(target_nodes=RedisCluster.PRIMARIES)
    else:
        client.flushdb()
    app = request.getfixturevalue("app_server") if "app_server" in request.fixturenames else None
    # The pages the tests name live on https://blog.example: a thread keeps a URL only on its site's origins.
    origins = [app.page_origin, BLOG] if app else ["http://127.0.0.1:9", BLOG]
    register_site(client, SITE, origins)


def new_client_id() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture
def api(app_server: AppServer) -> Iterator[httpx.Client]:
    """An HTTP client that behaves like one reader's widget (its own anonymous id)."""
    with httpx.Client(base_url=app_server.base, timeout=10,
                      headers={"X-Rejoinder-Client": new_client_id()}) as client:
        yield client


@pytest.fixture
def other_reader(app_server: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_server.base, timeout=10,
                      headers={"X-Rejoinder-Client": new_client_id()}) as client:
        yield client


@pytest.fixture
def thread(api: httpx.Client) -> dict:
    """The demo site's thread for one page, as the widget first loads it."""
    r = api.get("/api/threads", params={"site": SITE, "page": "https://blog.example/post-1", "title": "Post one"})
    assert r.status_code == 200, r.text
    return r.json()["thread"]


# These check the HTTP contract, not the database: one kind of database is enough.
SINGLE_ONLY = ("tests/api/test_fuzz.py", "tests/notify/test_email_login_browser.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests exercise the widget, not the database: they run on the single server only (and so do
    the SINGLE_ONLY files, and tests marked single_only: what they test is on the network side, a mail's
    words or a remote server's misbehaviour, while the database steps they take run on the cluster in
    other tests)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        path = str(item.fspath).replace("\\", "/")
        single_only = "tests/browser/" in path or path.endswith(SINGLE_ONLY) \
            or item.get_closest_marker("single_only") is not None
        if single_only and callspec is not None and callspec.params.get("redis_server") == "cluster":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
