"""Every Redis key name. One hash tag per thread, so a thread's atomic steps stay in one slot.

Keys are built only from validated ids (site ids match SITE_ID, thread ids are
hex digests, comment ids are integers) or from hashes, never from raw input:
that stops a request from reaching another tenant's keys.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "rj"
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
THREAD_ID = re.compile(r"^[0-9a-f]{24}$")


def thread_id(site: str, page_key: str) -> str:
    """The id of (site, page): a digest, so ids reveal nothing and cannot collide across sites."""
    return hashlib.sha256(f"{site}\n{page_key}".encode()).hexdigest()[:24]


def _t(tid: str) -> str:
    return f"{PREFIX}:{{t:{tid}}}"


def thread_meta(tid: str) -> str:
    return f"{_t(tid)}:meta"


def thread_prefix(tid: str) -> str:
    """The common prefix of a thread's keys; Lua scripts add per-comment suffixes to it."""
    return f"{_t(tid)}:"


def comments(tid: str) -> str:
    return f"{_t(tid)}:comments"


def roots(tid: str) -> str:
    return f"{_t(tid)}:roots"


def subtree(tid: str, root_cid: int | str) -> str:
    return f"{_t(tid)}:sub:{root_cid}"


def like_counts(tid: str) -> str:
    return f"{_t(tid)}:likecount"


def liked_by(tid: str, liker: str) -> str:
    return f"{_t(tid)}:liked:{liker}"


def likers(tid: str) -> str:
    """The names of the thread's liked-by sets (so backups and forgetting can find them)."""
    return f"{_t(tid)}:likers"


def imported(tid: str) -> str:
    """Comments imported from another system: "<format>:<id in the file>" -> comment id,
    so running the same import again adds nothing."""
    return f"{_t(tid)}:imported"


def events(tid: str) -> str:
    return f"{_t(tid)}:events"


def idempotency(tid: str, digest: str) -> str:
    return f"{_t(tid)}:idem:{digest}"


def site(site_id: str) -> str:
    return f"{PREFIX}:{{s:{site_id}}}:site"


def site_index() -> str:
    """All site ids: read by the CLI and admin screens, never on a reader's request path."""
    return f"{PREFIX}:sites"


def rate(kind: str, digest: str, window: int) -> str:
    return f"{PREFIX}:{{rl:{kind}:{digest}}}:{window}"


def origin_index() -> str:
    return f"{PREFIX}:origins"


def session(token_hash: str) -> str:
    return f"{PREFIX}:{{sess:{token_hash}}}"


def thread_of_meta(meta_key: str) -> str:
    """The thread id inside a meta key (the reverse of thread_meta())."""
    return meta_key[len(PREFIX) + 4:len(PREFIX) + 4 + 24]


def thread_of_events(events_key: str) -> str:
    """The thread id inside an events key (the reverse of events())."""
    return events_key[len(PREFIX) + 4:len(PREFIX) + 4 + 24]


def oauth_state(key: str) -> str:
    """Authlib's state data for one login flow (key chosen by Authlib: _state_<provider>_<state>)."""
    return f"{PREFIX}:oauth:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def login_flow(state_digest: str) -> str:
    """Our side of one login flow: which handover it ends in, for which site."""
    return f"{PREFIX}:{{flow:{state_digest}}}"


def handover(secret_hash: str) -> str:
    return f"{PREFIX}:{{ho:{secret_hash}}}"


def user(user_id_digest: str) -> str:
    return f"{PREFIX}:{{u:{user_id_digest}}}"


def avatar(digest: str) -> str:
    return f"{PREFIX}:{{av:{digest}}}"


def wake(tid: str) -> str:
    """The sharded pub/sub channel that wakes nodes when the thread's log grows (same slot as its keys)."""
    return f"{_t(tid)}:wake"


def thread_of_wake(channel: str) -> str:
    return channel[len(PREFIX) + 4:len(PREFIX) + 4 + 24]


def known_guests(site_id: str) -> str:
    """Guests with an approved comment on the site (keyed hashes), for hold_first_guests."""
    return f"{PREFIX}:{{s:{site_id}}}:known"


def site_feed(site_id: str) -> str:
    """The site's feed: one entry {tid, type} per write, written right after the
    thread's own atomic step. Consumers (moderation queue, mail, webhooks) read
    the thread's event log from their own cursor; the feed only says where to look."""
    return f"{PREFIX}:{{s:{site_id}}}:feed"


def site_threads(site_id: str) -> str:
    """The site's threads that have had a write, scored by the time of the last one."""
    return f"{PREFIX}:{{s:{site_id}}}:threads"
