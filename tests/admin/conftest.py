"""Admin fixtures: sessions written the way SessionStore writes them, admins the way AdminStore does."""

from __future__ import annotations

import hashlib
import time
from typing import Callable, Iterator

import httpx
import pytest
import redis as redis_sync

from rejoinder.store import keys, sessions
from rejoinder.store.sessions import ADMIN, FRAME, READER

from ..conftest import SITE, new_client_id, register_site
from ..support.servers import AppServer

OTHER = "other-blog"


def make_session(client: redis_sync.Redis, user_id: str, name: str = "Moderator", *, audience: str = ADMIN,
                 site: str = "", kept: str = FRAME, email: str = "") -> str:
    """A session as SessionStore writes it: the dashboard's by default, or a reader's of `site`."""
    token = sessions.new_token(user_id)
    user = {"id": user_id, "provider": user_id.split(":")[0], "name": name, "avatar": "", "profile": "",
            "email": email}
    digest = sessions.user_digest(user_id)
    client.set(keys.user_session(digest, sessions.token_hash(token)),
               sessions.record(user, audience, site, kept, int(time.time() * 1000)), ex=3600)
    client.sadd(keys.user_sessions(digest), sessions.token_hash(token))
    return token


def end_session(client: redis_sync.Redis, token: str) -> None:
    """The session's record gone, as when it expires."""
    digest = token.split(".")[0]
    client.delete(keys.user_session(digest, sessions.token_hash(token)))


def make_admin(client: redis_sync.Redis, site: str, user_id: str) -> None:
    ident = f"u:{user_id}"
    client.sadd(keys.admins(site), ident)
    client.sadd(keys.admin_sites(hashlib.sha256(ident.encode()).hexdigest()[:32]), site)


ClientFactory = Callable[..., httpx.Client]


@pytest.fixture
def clients(app_server: AppServer) -> Iterator[ClientFactory]:
    made: list[httpx.Client] = []

    def make(token: str | None = None, **headers: str) -> httpx.Client:
        h = {"X-Rejoinder-Client": new_client_id(), **headers}
        if token:
            h["Authorization"] = f"Bearer {token}"
        c = httpx.Client(base_url=app_server.base, timeout=15, headers=h)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def other_site(redis_client: redis_sync.Redis) -> str:
    register_site(redis_client, OTHER, ["http://127.0.0.1:7"])
    return OTHER


@pytest.fixture
def admin_token(redis_client: redis_sync.Redis) -> str:
    make_admin(redis_client, SITE, "github:1001")
    return make_session(redis_client, "github:1001", "Ada Admin")


@pytest.fixture
def admin(clients: ClientFactory, admin_token: str) -> httpx.Client:
    """The demo site's admin, as the dashboard calls the API (same origin)."""
    return clients(admin_token)


@pytest.fixture
def other_admin(clients: ClientFactory, redis_client: redis_sync.Redis, other_site: str) -> httpx.Client:
    make_admin(redis_client, other_site, "github:2002")
    return clients(make_session(redis_client, "github:2002", "Otto Other"))


@pytest.fixture
def signed_in_reader(clients: ClientFactory, redis_client: redis_sync.Redis) -> httpx.Client:
    """A reader signed in on the demo site through the comments frame (not the dashboard)."""
    return clients(make_session(redis_client, "x:3003", "Rita Reader", audience=READER, site=SITE))


def policy(client: redis_sync.Redis, app_server: AppServer, moderation: str) -> None:
    register_site(client, SITE, [app_server.page_origin], moderation=moderation)
