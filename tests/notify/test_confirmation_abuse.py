"""The confirmation mail of "notify me" cannot be turned into a way to mail a stranger: one a day per
address and site, none for held or spam comments, and nothing in it that the poster chose."""

from __future__ import annotations

import time

from ..conftest import SITE, register_site
from ..support.api import post
from ..support.mailbox import html_part, text_part
from .conftest import address, open_thread, words

PHISH = "URGENT: your account is locked, log in at https://evil.example/verify " + "x" * 200


def test_many_threads_send_one_confirmation_a_day_with_no_chosen_text(reader, smtp_server) -> None:
    victim = address("victim")
    for i in range(5):
        tid = open_thread(reader, title=f"{PHISH} {i}")["id"]
        post(reader, tid, f"{words()} {PHISH}", name=PHISH[:80], email=victim, notify=True)
    [mail] = smtp_server.wait_for(victim, 1)
    time.sleep(2)  # the worker has had time for the other four: none came
    assert len(smtp_server.messages(victim)) == 1
    whole = mail["Subject"] + text_part(mail) + html_part(mail)
    assert "evil.example" not in whole and "URGENT" not in whole and "xxxxx" not in whole


def test_a_held_or_spam_comment_sends_no_confirmation(reader, smtp_server, redis_client, mail_server) -> None:
    register_site(redis_client, SITE, [mail_server.page_origin], moderation="hold_all")
    victim = address("held")
    tid = open_thread(reader)["id"]
    held = post(reader, tid, words(), email=victim, notify=True)
    assert held["comment"]["status"] == "pending"
    spam = post(reader, tid, "http://a.example http://b.example http://c.example http://d.example",
                email=address("spam"), notify=True)
    assert spam["comment"]["status"] == "pending"
    time.sleep(3)
    assert smtp_server.messages(victim) == []
