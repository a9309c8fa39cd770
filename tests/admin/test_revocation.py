"""Taking admin rights away works at once, on the REST API and on open dashboard sockets; and
dashboard sockets cannot starve the server of Redis connections."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from ..conftest import SITE
from ..support.api import error_of
from ..support.servers import AppServer
from .conftest import ClientFactory, make_admin, make_session
from .test_signin import cli, issue_link

LIVE = f"/api/admin/sites/{SITE}/live"


async def open_dashboard_socket(server: AppServer, token: str, **kwargs) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{server.ws_base}{LIVE}", origin=server.base, open_timeout=5,
                                  subprotocols=["rejoinder.admin", "bearer." + token], **kwargs)
    assert orjson.loads(await ws.recv()) == {"type": "ready"}
    return ws


async def closed_with(ws: websockets.ClientConnection, within: float = 5.0) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_removing_an_admin_who_signed_in_by_link_ends_their_session_at_once(
        app_server, clients: ClientFactory) -> None:
    r = clients().post("/api/admin/session", json={"token": issue_link(app_server)})
    assert r.status_code == 200, r.text
    dashboard = clients(r.json()["token"])
    assert dashboard.get(f"/api/admin/sites/{SITE}").status_code == 200
    # The link's holder is listed like any admin, so the operator can see and remove them.
    listed = cli(app_server, "admin", "list", SITE).stdout.split()
    linked = [who for who in listed if who.startswith("u:link:")]
    assert len(linked) == 1 and r.json()["me"]["identity"] == linked[0]
    assert cli(app_server, "admin", "remove", SITE, linked[0]).returncode == 0
    r = dashboard.get(f"/api/admin/sites/{SITE}")
    assert r.status_code == 401 and error_of(r)["code"] == "invalid_session"
    assert cli(app_server, "admin", "list", SITE).stdout.split() == []


async def test_removing_an_admin_closes_their_open_dashboard_and_refuses_their_requests(
        app_server, redis_client) -> None:
    make_admin(redis_client, SITE, "github:4444")
    token = make_session(redis_client, "github:4444", "Rex Removed")
    ws = await open_dashboard_socket(app_server, token)
    async with httpx.AsyncClient(base_url=app_server.base, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as dashboard:
        assert (await dashboard.get(f"/api/admin/sites/{SITE}")).status_code == 200
        removed = await asyncio.to_thread(cli, app_server, "admin", "remove", SITE, "u:github:4444")
        assert removed.returncode == 0, removed.stderr
        r = await dashboard.get(f"/api/admin/sites/{SITE}")
        assert r.status_code == 403 and error_of(r)["code"] == "not_site_admin"
    # The open socket hears of the removal through the site's feed and closes, without waiting
    # for anything else to happen on the site.
    assert await closed_with(ws, within=5.0) == 4403


async def test_dashboard_sockets_per_session_are_capped(app_server, redis_client) -> None:
    make_admin(redis_client, SITE, "github:5555")
    token = make_session(redis_client, "github:5555", "Sam Sockets")
    sockets = [await open_dashboard_socket(app_server, token) for _ in range(8)]
    with pytest.raises(InvalidStatus) as refused:
        await open_dashboard_socket(app_server, token)
    assert refused.value.response.status_code == 429
    for ws in sockets:
        await ws.close()


@pytest.fixture
def small_pool_server(redis_server, redis_client) -> AppServer:
    """A server with a small Redis pool, so the test does not need hundreds of sockets."""
    server = AppServer(redis_server.url, env={"REJOINDER_REDIS_MAX_CONNECTIONS": "12"}).start()
    yield server
    server.stop()


async def test_many_dashboard_sockets_do_not_starve_other_requests(small_pool_server: AppServer, redis_client) -> None:
    """Each socket used to hold a pooled connection in a blocking read: a handful of dashboards
    (here 24 sockets from two addresses, twice the pool) made every other request wait 5 s, then 503."""
    server = small_pool_server
    sockets = []
    for i in range(3):
        make_admin(redis_client, SITE, f"github:6{i:03}")
        token = make_session(redis_client, f"github:6{i:03}", f"Mod {i}")
        for n in range(8):
            address = "127.0.0.1" if n % 2 else "127.0.0.2"
            sockets.append(await open_dashboard_socket(server, token, local_addr=(address, 0)))
    async with httpx.AsyncClient(base_url=server.base, timeout=15) as reader:
        for _ in range(5):
            r = await reader.get("/api/threads", params={"site": SITE, "page": "https://blog.example/busy"})
            assert r.status_code == 200, r.text
    for ws in sockets:
        await ws.close()
