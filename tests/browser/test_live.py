"""Two readers in separate browsers see each other's comments, replies and likes arrive."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Route, WebSocketRoute, expect

from rejoinder.store import keys

from ..admin.conftest import make_admin, make_session
from ..conftest import SITE, register_site
from .conftest import ReaderFactory, see
from .seed import comment, demo_thread

pytestmark = pytest.mark.browser


def test_two_readers_see_each_others_comments_replies_and_likes(reader: ReaderFactory, live_endpoint: bool) -> None:
    ann = reader().open_demo()
    bob = reader().open_demo()

    ann.post("Hello from Ann", name="Ann")
    ann.comment("Hello from Ann").wait_for()
    see(bob, live_endpoint, lambda r: r.comment("Hello from Ann"))
    if live_endpoint:
        bob.frame.locator("h2.rj-title", has_text="1 thought").wait_for()

    bob.reply("Hello from Ann", "Hi Ann, Bob here", name="Bob")
    bob.comment("Hi Ann, Bob here").wait_for()
    see(ann, live_endpoint,
        lambda r: r.comment("Hello from Ann").locator(":scope > ol.rj-kids").get_by_text("Hi Ann, Bob here"))

    bob.comment("Hello from Ann").locator(":scope > article").get_by_role("button", name="Like", exact=True).click()
    see(ann, live_endpoint,
        lambda r: r.comment("Hello from Ann").locator(":scope > article .rj-likes", has_text="Liked by 1 person"))
    # Each reader sees one copy of each comment: live replay and the page never double up.
    assert ann.frame.locator("li.rj-item[data-id]").count() == 2
    assert bob.frame.locator("li.rj-item[data-id]").count() == 2


def test_new_comment_above_the_view_waits_behind_a_button(reader: ReaderFactory, live_endpoint: bool) -> None:
    ann = reader(height=500).open_demo()
    bob = reader().open_demo()
    ann.post("Ann's first", name="Ann")
    ann.comment("Ann's first").wait_for()
    see(bob, True, lambda r: r.comment("Ann's first"))
    # Ann reads the form at the very bottom; Bob replies to the first comment, above her view.
    ann.page.mouse.wheel(0, 5000)
    ann.page.wait_for_timeout(300)
    bob.reply("Ann's first", "A reply far above", name="Bob")
    bar = ann.frame.locator("button.rj-newbar", has_text="1 new comment")
    bar.wait_for()
    assert ann.comment("A reply far above").count() == 0
    bar.click()
    ann.comment("A reply far above").wait_for()


def test_offline_state_shows_quietly_and_the_widget_resumes(reader: ReaderFactory, live_endpoint: bool,
                                                            api: httpx.Client) -> None:
    """The socket drops and stays down: "offline, reconnecting" appears after a grace
    period; once the server is reachable again it goes away and events resume."""
    up = {"yes": True}
    routes: list[WebSocketRoute] = []

    def handle(ws: WebSocketRoute) -> None:
        if up["yes"]:
            ws.connect_to_server()
            routes.append(ws)
        else:
            ws.close(code=4001, reason="test: server unreachable")

    def handle_stream(route: Route) -> None:
        # The outage takes plain HTTP with it, so the widget's stream fallback finds nothing either.
        if up["yes"]:
            route.continue_()
        else:
            route.abort("connectionrefused")

    ann = reader()
    # The browser reports the stream refused during the outage, as it would in a real one.
    ann.tolerate.append(re.compile(r"^Failed to load resource: net::ERR_CONNECTION_REFUSED$"))
    ann.context.route_web_socket(re.compile(r"/live\?"), handle)
    ann.context.route(re.compile(r"/stream\?"), handle_stream)
    ann.open_demo()
    tid = demo_thread(api)["id"]
    comment(api, tid, "Before the outage")
    ann.comment("Before the outage").wait_for()  # live, so the socket is up

    up["yes"] = False
    routes[-1].close(code=4001, reason="test: connection lost")
    status = ann.frame.locator(".rj-status")
    status.wait_for(state="visible", timeout=10_000)
    assert status.text_content() == "Offline, reconnecting…"
    comment(api, tid, "During the outage")

    up["yes"] = True
    status.wait_for(state="hidden", timeout=30_000)
    ann.comment("During the outage").wait_for()  # replayed from where it left off
    assert ann.comment("Before the outage").count() == 1


def test_where_websockets_are_refused_comments_still_arrive_live(reader: ReaderFactory, api: httpx.Client) -> None:
    """A network that refuses websockets (some corporate proxies do): every socket of this reader's
    page is refused. After two refusals the widget reads the same events as Server-Sent Events:
    comments posted elsewhere appear without a reload, in order, once each."""
    refused: list[str] = []

    def refuse(ws: WebSocketRoute) -> None:
        refused.append(ws.url)
        ws.close(code=4003, reason="test: websockets refused on this network")

    streams: list[str] = []
    ann = reader()
    ann.context.route_web_socket(re.compile(r"/live\?"), refuse)
    ann.context.on("request", lambda req: streams.append(req.url) if "/stream?" in req.url else None)
    ann.open_demo()
    bob = reader().open_demo()  # an ordinary reader on an ordinary network
    tid = demo_thread(api)["id"]
    for i in range(3):
        comment(api, tid, f"Posted while Ann's websockets are refused {i}")
    for i in range(3):
        ann.comment(f"Posted while Ann's websockets are refused {i}").wait_for(timeout=10_000)
        bob.comment(f"Posted while Ann's websockets are refused {i}").wait_for()
    bob.post("Bob writes from his own browser", name="Bob")
    ann.comment("Bob writes from his own browser").wait_for(timeout=10_000)
    assert len(refused) >= 2 and streams, (refused, streams)
    texts = ann.frame.locator("li.rj-item[data-id] > article .rj-body").all_text_contents()
    ours = [t.strip() for t in texts if "refused" in t or "Bob writes" in t]
    assert ours == [f"Posted while Ann's websockets are refused {i}" for i in range(3)] + ["Bob writes from his own browser"]


def test_a_reader_of_a_thread_an_admin_moves_follows_it_live(reader: ReaderFactory, api: httpx.Client,
                                                              redis_client, app_server) -> None:
    """The blog renamed its post's page id: the open widget switches to the moved thread by itself,
    keeps showing what was said, and new comments on the new page reach it live."""
    ann = reader().open_demo()
    ann.post("Said before the move", name="Ann")
    ann.comment("Said before the move").wait_for()
    old_tid = demo_thread(api)["id"]
    make_admin(redis_client, SITE, "github:1001")
    token = make_session(redis_client, "github:1001", "Ada Admin")
    r = httpx.post(f"{app_server.base}/api/admin/sites/{SITE}/remap", timeout=15,
                   headers={"Authorization": f"Bearer {token}"},
                   json={"rules": [{"from": "demo-post", "to": "mending-things"}], "dry_run": False})
    assert r.status_code == 200 and r.json()["summary"]["move"] == 1, r.text
    new_tid = demo_thread(api, "mending-things")["id"]
    assert new_tid != old_tid
    # The frame opens the page again, which leads to the new thread: its live events now reach Ann.
    comment(api, new_tid, "Said on the new page after the move")
    ann.comment("Said on the new page after the move").wait_for(timeout=15_000)
    ann.comment("Said before the move").wait_for()
    assert ann.frame.locator("li.rj-item[data-id]").count() == 2


def test_two_readers_see_that_two_are_reading_and_one_when_the_other_leaves(reader: ReaderFactory,
                                                                            live_endpoint: bool) -> None:
    ann = reader().open_demo()
    bob = reader().open_demo()
    for r in (ann, bob):
        expect(r.frame.locator(".rj-readers")).to_have_text("2 reading now", timeout=10_000)
    bob.page.close()
    # Alone again: the count goes away (a reader does not need telling they are reading).
    expect(ann.frame.locator(".rj-readers")).to_be_hidden(timeout=10_000)


def test_reactions_are_given_taken_back_and_seen_live(reader: ReaderFactory, api: httpx.Client,
                                                      live_endpoint: bool) -> None:
    tid = demo_thread(api)["id"]
    comment(api, tid, "Something to react to")
    ann = reader().open_demo()
    bob = reader().open_demo()
    mine = ann.comment("Something to react to")
    mine.get_by_role("button", name="React", exact=True).click()
    mine.get_by_role("button", name="React with 😂").click()
    chip = mine.locator("button.rj-chip", has_text="😂 1")
    expect(chip).to_have_attribute("aria-pressed", "true")
    theirs = bob.comment("Something to react to").locator("button.rj-chip", has_text="😂 1")
    expect(theirs).to_have_attribute("aria-pressed", "false", timeout=10_000)
    theirs.click()  # Bob adds his
    expect(mine.locator("button.rj-chip", has_text="😂 2")).to_be_visible(timeout=10_000)
    mine.locator("button.rj-chip", has_text="😂 2").click()  # Ann takes hers back
    expect(bob.comment("Something to react to").locator("button.rj-chip", has_text="😂 1")).to_have_attribute(
        "aria-pressed", "true", timeout=10_000)
    # Still there after a reload, with Bob's own marked as his.
    bob.reload()
    expect(bob.comment("Something to react to").locator("button.rj-chip", has_text="😂 1")).to_have_attribute(
        "aria-pressed", "true", timeout=10_000)


def test_someone_is_replying_shows_while_another_reader_types_where_the_site_shows_it(
        reader: ReaderFactory, api: httpx.Client, redis_client, app_server, live_endpoint: bool) -> None:
    tid = demo_thread(api)["id"]
    # Off by default: nobody is told, and the server says the site does not show it.
    assert api.post(f"/api/threads/{tid}/typing").status_code == 404
    register_site(redis_client, SITE, [app_server.page_origin])
    redis_client.hset(keys.site(SITE), "typing", "1")
    ann = reader().open_demo()
    bob = reader().open_demo()
    bob.field("Comment").press_sequentially("I think that")
    expect(ann.frame.locator(".rj-typing")).to_have_text("Someone is replying…", timeout=10_000)
    # Bob is not told about himself.
    expect(bob.frame.locator(".rj-typing")).to_be_hidden()
    # It fades once Bob stops.
    expect(ann.frame.locator(".rj-typing")).to_be_hidden(timeout=15_000)
