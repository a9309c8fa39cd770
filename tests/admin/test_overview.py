"""The overview's figures through real HTTP: comments counted as they are written, what caught them,
the busiest threads, readers connected now, deliveries, and a year of days."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import httpx

from rejoinder.store import keys, stats

from ..conftest import SITE
from ..support.api import error_of, post
from ..support.live import connect
from .conftest import policy
from .test_webhook import log_for

BASE = f"/api/admin/sites/{SITE}/overview"


def overview(admin: httpx.Client, days: int = 30) -> dict:
    r = admin.get(BASE, params={"days": days})
    assert r.status_code == 200, r.text
    return r.json()


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def test_new_comments_are_counted_by_how_they_arrived_and_what_caught_them(
        redis_client, app_server, admin, api, thread) -> None:
    policy(redis_client, app_server, "hold_links")
    post(api, thread["id"], "First, and plain.")
    post(api, thread["id"], "Second, and plain.", headers={"Idempotency-Key": "k-1"})
    # The same request again (an answer lost on the way): the comment is not counted twice.
    post(api, thread["id"], "Second, and plain.", headers={"Idempotency-Key": "k-1"}, expect=200)
    assert post(api, thread["id"], "See https://example.com/x")["comment"]["status"] == "pending"
    post(api, thread["id"], "Buy now", hp="http://spam.example")  # the honeypot: spam, shown as pending
    other = api.get("/api/threads", params={"site": SITE, "page": "/other-post", "title": "Other"}).json()
    post(api, other["thread"]["id"], "Only one here.")

    data = overview(admin)
    assert len(data["days"]) == 30 and data["days"][-1] == {"day": today(), "approved": 3, "pending": 1, "spam": 1}
    assert all(d["approved"] == d["pending"] == d["spam"] == 0 for d in data["days"][:-1])
    assert data["totals"] == {"approved": 3, "pending": 1, "spam": 1}
    assert data["caught"] == [{"reason": "honeypot", "comments": 1}, {"reason": "policy_hold_links", "comments": 1}]
    assert [(b["id"], b["title"], b["new_comments"]) for b in data["busiest"]] == [
        (thread["id"], "Post one", 4), (other["thread"]["id"], "Other", 1)]


def test_a_year_of_days_reads_what_each_day_kept(redis_client, admin) -> None:
    now = datetime.now(timezone.utc)
    for back, approved, spam in ((1, 5, 2), (29, 7, 0), (200, 11, 3)):
        day = (now - timedelta(days=back)).strftime("%Y%m%d")
        redis_client.hset(keys.stats_day(SITE, day), mapping={"new:approved": approved, "new:spam": spam,
                                                               "caught:akismet": spam})
    month, year = overview(admin, 30), overview(admin, 365)
    assert len(year["days"]) == 365 and year["days"][-1]["day"] == today()
    by_day = {d["day"]: d for d in year["days"]}
    assert by_day[(now - timedelta(days=200)).strftime("%Y-%m-%d")] == {
        "day": (now - timedelta(days=200)).strftime("%Y-%m-%d"), "approved": 11, "pending": 0, "spam": 3}
    assert month["totals"] == {"approved": 12, "pending": 0, "spam": 2}
    assert year["totals"] == {"approved": 23, "pending": 0, "spam": 5}
    assert year["caught"] == [{"reason": "akismet", "comments": 5}]
    assert redis_client.ttl(keys.stats_day(SITE, (now - timedelta(days=1)).strftime("%Y%m%d"))) == -1  # seeded by hand
    post_day = keys.stats_day(SITE, now.strftime("%Y%m%d"))
    assert redis_client.ttl(post_day) == -2  # nothing written today yet


def test_figures_written_today_expire_and_busiest_threads_expire_sooner(redis_client, admin, api, thread) -> None:
    post(api, thread["id"])
    day = datetime.now(timezone.utc).strftime("%Y%m%d")
    assert stats.DAY_KEPT_SECONDS - 60 < redis_client.ttl(keys.stats_day(SITE, day)) <= stats.DAY_KEPT_SECONDS
    assert stats.BUSY_KEPT_SECONDS - 60 < redis_client.ttl(keys.busy_day(SITE, day)) <= stats.BUSY_KEPT_SECONDS


def test_readers_connected_now_are_counted_and_leave(app_server, admin, thread) -> None:
    async def run() -> None:
        readers = [await connect(app_server.ws_base, thread["id"], origin=app_server.page_origin,
                                 client=f"overview-reader-{i:04d}") for i in range(3)]
        for r in readers:
            await r.until(lambda m: m["type"] == "ready")
        deadline = time.monotonic() + 15
        while overview(admin, 7)["readers_now"] != 3:
            assert time.monotonic() < deadline, overview(admin, 7)["readers_now"]
            await asyncio.sleep(0.2)
        for r in readers:
            await r.close()
        deadline = time.monotonic() + 15
        while overview(admin, 7)["readers_now"] != 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
    asyncio.run(run())


def test_webhook_deliveries_count_successes_and_failures(admin, api, thread, webhook_receiver) -> None:
    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": [500]}).raise_for_status()
    assert admin.put(f"/api/admin/sites/{SITE}/webhook", json={"url": webhook_receiver.url}).status_code == 200
    post(api, thread["id"])
    log_for(admin, thread["id"], 2, timeout=30)
    hooks = overview(admin, 7)["deliveries"]["webhooks"]
    assert hooks == {"ok": 1, "failed": 1, "success_rate": 0.5}
    assert overview(admin, 7)["deliveries"]["mail"] == {"sent": 0, "deferred": 0, "failed": 0, "success_rate": None}


def test_only_the_sites_admins_see_it_and_the_span_is_checked(admin, other_admin, signed_in_reader) -> None:
    assert error_of(admin.get(BASE, params={"days": 400}))["code"] == "invalid_field"
    assert error_of(admin.get(BASE, params={"days": "x"}))["code"] == "invalid_field"
    assert other_admin.get(BASE).status_code == 403
    assert signed_in_reader.get(BASE).status_code in (401, 403)
