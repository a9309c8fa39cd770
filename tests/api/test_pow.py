"""The optional proof of work for guests: a bot without a solution, with a forged, expired, spent or other
site's one, is refused; a solved challenge pays for one comment; signed-in readers and sites that do not ask
are untouched."""

from __future__ import annotations

import base64
import datetime
import json

import altcha
import httpx
import pytest

from rejoinder import pow
from rejoinder.store import keys

from ..admin.conftest import make_session
from ..conftest import SITE, register_site
from ..support.api import error_of, post

SECRET = "test-secret-key"  # the app server's (support/servers.py)


@pytest.fixture
def pow_site(redis_client, app_server) -> None:
    register_site(redis_client, SITE, [app_server.page_origin])
    redis_client.hset(keys.site(SITE), "pow", "1")


def solved(api: httpx.Client, site: str = SITE) -> str:
    """What the widget's worker does, with the altcha package's solver."""
    c = api.get(f"/api/sites/{site}/challenge").json()["challenge"]
    found = altcha.solve_challenge_v1(c["challenge"], c["salt"], c["algorithm"], c["maxnumber"], 0)
    return base64.b64encode(json.dumps({"algorithm": c["algorithm"], "challenge": c["challenge"],
                                        "number": found.number, "salt": c["salt"],
                                        "signature": c["signature"]}).encode()).decode()


def refused(api: httpx.Client, tid: str, **extra: object) -> dict:
    r = api.post(f"/api/threads/{tid}/comments", json={"text": "a bot's words", "name": "Bot", **extra})
    assert r.status_code in (409, 422), r.text
    return error_of(r)


def test_a_bot_without_a_proof_of_work_is_refused(pow_site, api, thread) -> None:
    assert api.get(f"/api/sites/{SITE}").json()["site"]["pow"] is True
    assert refused(api, thread["id"]) == {"code": "proof_of_work_required", "field": "pow",
                                          "message": "This site asks guests' comments for a proof of work."}
    assert api.get(f"/api/threads/{thread['id']}").json()["thread"]["count"] == 0


def test_a_solved_challenge_pays_for_one_comment_only(pow_site, api, thread) -> None:
    solution = solved(api)
    assert post(api, thread["id"], "worth the work", pow=solution)["comment"]["status"] == "approved"
    assert refused(api, thread["id"], pow=solution)["code"] == "proof_of_work_used"
    assert post(api, thread["id"], "and again", pow=solved(api))["comment"]["status"] == "approved"


def test_forged_expired_and_other_sites_solutions_are_refused(pow_site, redis_client, app_server, api, thread) -> None:
    register_site(redis_client, "other-blog", ["http://127.0.0.1:7"])
    redis_client.hset(keys.site("other-blog"), "pow", "1")
    other = solved(api, "other-blog")
    assert refused(api, thread["id"], pow=other)["code"] == "proof_of_work_invalid"
    # Signed with another key: anyone can make challenges, only ours pay.
    forged = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(
        hmac_key="not-our-key", max_number=10, params={"site": SITE},
        expires=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)))
    # Ours, but expired.
    expired = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(
        hmac_key=pow.key(SECRET), max_number=10, params={"site": SITE},
        expires=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)))
    for c in (forged, expired):
        found = altcha.solve_challenge_v1(c.challenge, c.salt, c.algorithm, c.max_number, 0)
        payload = base64.b64encode(json.dumps({"algorithm": c.algorithm, "challenge": c.challenge,
                                               "number": found.number, "salt": c.salt,
                                               "signature": c.signature}).encode()).decode()
        assert refused(api, thread["id"], pow=payload)["code"] == "proof_of_work_invalid"
    for junk in ("", "bm90IGpzb24=", "x" * 5000, 42):
        assert refused(api, thread["id"], pow=junk)["code"] == "proof_of_work_invalid"


def test_signed_in_readers_and_sites_that_do_not_ask_need_none(pow_site, redis_client, app_server, api,
                                                               thread) -> None:
    token = make_session(redis_client, "x:7777", "Sue Signed", audience="reader", site=SITE)
    with httpx.Client(base_url=app_server.base, timeout=10, headers={"Authorization": f"Bearer {token}"}) as user:
        assert post(user, thread["id"], "no puzzle for me")["comment"]["status"] == "approved"
    redis_client.hset(keys.site(SITE), "pow", "0")
    assert post(api, thread["id"], "nor here")["comment"]["status"] == "approved"
    assert api.get(f"/api/sites/{SITE}/challenge").status_code == 404
