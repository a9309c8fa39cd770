"""A guest on a site that asks for a proof of work posts as anywhere else: the widget solves it in a Web
Worker (allowed by the frame's CSP) while they type."""

from __future__ import annotations

import pytest
import redis as redis_sync

from rejoinder.store import keys

from ..conftest import SITE
from .conftest import ReaderFactory

pytestmark = pytest.mark.browser


def test_a_guest_posts_on_a_site_that_asks_for_a_proof_of_work(reader: ReaderFactory,
                                                               redis_client: redis_sync.Redis) -> None:
    r = reader()
    redis_client.hset(keys.site(SITE), "pow", "1")  # after the reader fixture registered the site
    r.open_demo()
    challenges: list[str] = []
    r.page.on("request", lambda req: challenges.append(req.url) if "/challenge" in req.url else None)
    r.post("Solved without noticing.", name="Pat")
    r.comment("Solved without noticing.").wait_for(timeout=20_000)
    assert r.comment("Solved without noticing.").locator(".rj-name").text_content() == "Pat"
    assert challenges, "the widget never asked for a challenge: this test would prove nothing"
    # The server took it because it carried a solution: it refuses a comment without one.
    r.post("And a second one.", name="Pat")
    r.comment("And a second one.").wait_for(timeout=20_000)
