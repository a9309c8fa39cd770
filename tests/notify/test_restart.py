"""The worker's work lives in Redis: mail queued while the SMTP server is down survives a
killed server process, goes out when a new one starts, and nothing is sent twice."""

from __future__ import annotations

import time
from pathlib import Path

import redis as redis_sync

from rejoinder.embedded import EmbeddedRedis
from rejoinder.store import keys

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.mailbox import SmtpServer
from ..support.servers import AppServer
from .conftest import NOTIFY_ENV, address, open_thread, reader_client, words


def test_no_mail_lost_or_sent_twice_when_the_server_is_killed_midway(tmp_path: Path) -> None:
    db = EmbeddedRedis(tmp_path / "db", password="pw").start()
    smtp = SmtpServer().start()
    env = {**smtp.env(), **NOTIFY_ENV}
    first = AppServer(db.url, env=env).start()
    second: AppServer | None = None
    client = redis_sync.Redis.from_url(db.url, decode_responses=True)
    owners = [address("owner1"), address("owner2")]
    try:
        register_site(client, SITE, ["http://127.0.0.1:9"], moderation="hold_all")
        client.hset(keys.site(SITE), "owner_emails", f'["{owners[0]}", "{owners[1]}"]')
        with reader_client(first) as reader:
            tid = open_thread(reader)["id"]
            post(reader, tid, words(), name="Before")
            for owner in owners:
                smtp.wait_for(owner, 1)  # delivered before the trouble starts

            smtp.stop()
            for i in range(3):
                post(reader, tid, words(), name=f"During {i}")
            deadline = time.monotonic() + 20
            while client.xlen(keys.outbox(SITE)) < 6 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert client.xlen(keys.outbox(SITE)) == 6  # composed and kept in Redis, not in the process
        first.kill()  # no shutdown at all: the lease is left to expire

        smtp.start()
        second = AppServer(db.url, env=env).start()
        for owner in owners:
            smtp.wait_for(owner, 4, timeout=30)
        time.sleep(2)  # room for a duplicate to show up
        for owner in owners:
            mails = smtp.messages(owner)
            assert len(mails) == 4
            assert len({m["Message-ID"] for m in mails}) == 4
            names = [line for m in mails for line in m.get_body(("plain",)).get_content().splitlines()
                     if "left a comment" in line]
            assert sorted(n.split(" left")[0] for n in names) == ["Before", "During 0", "During 1", "During 2"]
        assert client.xlen(keys.outbox(SITE)) == 0
    finally:
        for server in (first, second):
            if server is not None:
                server.stop()
        client.close()
        smtp.stop()
        db.stop()
