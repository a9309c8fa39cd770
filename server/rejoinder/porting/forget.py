"""Forget one commenter on one site, on their request: by email address or by identity key."""

from __future__ import annotations

import re
import time
from typing import Any

from .. import models
from ..auth.identity import keyed_hash
from ..errors import ApiError
from ..store.feed import FeedStore
from ..store.porting import PortingStore

# "u:<provider>:<id>" for a signed-in reader, "g:<keyed hash>" for a guest's browser.
IDENTITY = re.compile(r"^(u:[a-z0-9_-]{1,32}:[^\s]{1,200}|g:[0-9a-f]{24})$")


def check(email: str, identity: str) -> tuple[str, str]:
    """Exactly one of them, valid; ValueError with a message otherwise."""
    if bool(email) == bool(identity):
        raise ValueError("Name the commenter by exactly one of --email or --identity.")
    if email:
        try:
            return models.clean_email(email), ""
        except ApiError:
            raise ValueError(f"{email!r} is not a valid email address.") from None
    if not IDENTITY.match(identity):
        raise ValueError("An identity key looks like u:github:12345 (a signed-in reader) or g:<24 hex digits> "
                         "(a guest's browser), as the admin screens show it.")
    return "", identity


async def run(site: str, tids: list[str], *, email: str, identity: str, porting: PortingStore, feed: FeedStore,
              secret: str) -> dict[str, Any]:
    """Scrub their comments thread by thread (each one atomic step); a crash half-way
    leaves some threads done: running it again finishes the rest and changes nothing twice."""
    totals = {"comments": 0, "placeholders": 0, "removed": 0, "likes": 0}
    touched = []
    now = int(time.time() * 1000)
    for tid in tids:
        result = await porting.forget(tid, email=email, identity=identity, now_ms=now)
        if result.deleted or result.likes:
            await feed.announce(site, tid, "comment.deleted")
        if result.comments or result.likes:
            touched.append({"id": tid, "comments": result.comments, "placeholders": result.placeholders,
                            "likes": result.likes, "count": result.count})
        totals["comments"] += result.comments
        totals["placeholders"] += result.placeholders
        totals["removed"] += result.comments - result.placeholders
        totals["likes"] += result.likes
    await porting.forget_known(site, keyed_hash(secret, "email:" + email.lower()) if email else identity)
    return {"site": site, "by": "email" if email else "identity", "threads_searched": len(tids),
            "threads": len(touched), **totals, "touched": touched}


def summary(report: dict[str, Any]) -> str:
    return (f"Forgot {report['comments']} comments in {report['threads']} of {report['threads_searched']} threads "
            f"of site {report['site']}: {report['removed']} removed, {report['placeholders']} left as "
            f"\"deleted\" placeholders because replies hang under them; {report['likes']} likes taken back.")
