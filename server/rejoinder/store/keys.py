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


def thread_slot(tid: str) -> str:
    """The hash tag of a thread's keys: names its slot (for Steps)."""
    return f"{{t:{tid}}}"


def site_slot(site_id: str) -> str:
    """The hash tag of a site's keys: names its slot (for Steps)."""
    return f"{{s:{site_id}}}"


def _t(tid: str) -> str:
    return f"{PREFIX}:{thread_slot(tid)}"


def _s(site_id: str) -> str:
    return f"{PREFIX}:{site_slot(site_id)}"


def thread_meta(tid: str) -> str:
    return f"{_t(tid)}:meta"


def thread_prefix(tid: str) -> str:
    """The common prefix of a thread's keys; Lua scripts add per-comment suffixes to it."""
    return f"{_t(tid)}:"


def retitled(tid: str) -> str:
    """Set when the thread's page changed its title (expires: one change a day from the page)."""
    return f"{_t(tid)}:retitled"


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


def reactions(tid: str) -> str:
    """The thread's reactions: comment id -> JSON {emoji: count}."""
    return f"{_t(tid)}:reactions"


def reacted(tid: str, reader: str) -> str:
    """One reader's reactions in the thread: "<cid>|<emoji>" (listed in likers() like liked-by sets)."""
    return f"{_t(tid)}:reacted:{reader}"


def likers(tid: str) -> str:
    """The names of the thread's liked-by sets (so backups and forgetting can find them)."""
    return f"{_t(tid)}:likers"


def reporters(tid: str, cid: int | str) -> str:
    """Who reported one comment: "id:<reader key>" and "ip:<address hash>" (one report each)."""
    return f"{_t(tid)}:rep:{cid}"


def imported(tid: str) -> str:
    """Comments imported from another system: "<format>:<id in the file>" -> comment id,
    so running the same import again adds nothing."""
    return f"{_t(tid)}:imported"


def events(tid: str) -> str:
    return f"{_t(tid)}:events"


def idempotency(tid: str, digest: str) -> str:
    return f"{_t(tid)}:idem:{digest}"


def site(site_id: str) -> str:
    return f"{_s(site_id)}:site"


def site_prefix(site_id: str) -> str:
    """What every key of the site's own starts with (for removing a site)."""
    return f"{_s(site_id)}:"


def site_index() -> str:
    """All site ids: read by the CLI and admin screens, never on a reader's request path."""
    return f"{PREFIX}:sites"


def rate(site_id: str, kind: str, digest: str, window: int) -> str:
    """A write counter of one client (IP hash or identity digest) on one site, for one window.
    In the site's slot, so counting and the ban check are one step."""
    return f"{_s(site_id)}:rl:{kind}:{digest}:{window}"


def origin_index() -> str:
    return f"{PREFIX}:origins"


def user_session(user_digest: str, token_hash: str) -> str:
    """One bearer session (by the hash of its token), in its user's slot."""
    return f"{PREFIX}:{{u:{user_digest}}}:s:{token_hash}"


def user_sessions(user_digest: str) -> str:
    """The hashes of a user's sessions: "sign out everywhere" ends each of them."""
    return f"{PREFIX}:{{u:{user_digest}}}:sessions"


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


# Words said on a thread's wake-up channel besides a sequence number (live/presence.py).
WAKE_PRESENCE = "p"  # a node's count of the thread's readers changed
WAKE_TYPING = "t"  # someone is typing a reply


def present(tid: str) -> str:
    """How many readers each node has on the thread: node id -> "<readers>:<ms>"."""
    return f"{_t(tid)}:present"


def typers(tid: str) -> str:
    """Who is typing in the thread (sites that show it): reader digest -> ms of their last keystroke."""
    return f"{_t(tid)}:typers"


def typing_gate(tid: str, reader_digest: str) -> str:
    """Set for 2 s after a reader's keystroke was noted: the next ones in that time change nothing."""
    return f"{_t(tid)}:typing:{reader_digest}"


def thread_of_wake(channel: str) -> str:
    return channel[len(PREFIX) + 4:len(PREFIX) + 4 + 24]


def known_guests(site_id: str) -> str:
    """Guests with an approved comment on the site (keyed hashes), for hold_first_guests."""
    return f"{_s(site_id)}:known"


def confirmed_emails(site_id: str) -> str:
    """Keyed hashes of the email addresses whose owners confirmed them here (by a mail link): only such
    an address, never one merely typed, can make a guest known (hold_first_guests)."""
    return f"{_s(site_id)}:confirmed"


def confirm_asked(site_id: str, email_hash: str) -> str:
    """Set when a confirmation went to this address from this site; it expires after a day."""
    return f"{_s(site_id)}:asked:{email_hash}"


def pow_used(site_id: str, fingerprint: str) -> str:
    """A proof of work that paid for a comment: it cannot pay for another (expires with the challenge)."""
    return f"{_s(site_id)}:pow:{fingerprint}"


def site_feed(site_id: str) -> str:
    """The site's feed: one entry {tid, type} per write, written right after the
    thread's own atomic step. Consumers (moderation queue, mail, webhooks) read
    the thread's event log from their own cursor; the feed only says where to look."""
    return f"{_s(site_id)}:feed"


def site_threads(site_id: str) -> str:
    """The site's threads that have had a write, scored by the time of the last one."""
    return f"{_s(site_id)}:threads"


def admins(site_id: str) -> str:
    """The identity keys ("u:<provider>:<id>") that administer the site."""
    return f"{_s(site_id)}:admins"


def admin_sites(identity_digest: str) -> str:
    """The sites one identity administers (by a digest of its key): the dashboard's site
    picker. The site's own admins set is the authority; this index is checked against it."""
    return f"{PREFIX}:{{adm:{identity_digest}}}:sites"


def admin_link(token_hash: str) -> str:
    """A one-time admin sign-in link, stored only as the hash of its token."""
    return f"{PREFIX}:{{al:{token_hash}}}"


def mod_list(site_id: str, name: str) -> str:
    """A site-wide moderation list of "tid:cid" pointers scored by creation time
    (name: pending | spam | recent). Pointers are checked against the thread on read."""
    return f"{_s(site_id)}:mod:{name}"


def bans(site_id: str) -> str:
    """The site's bans: field "<kind>:<value>" (identity key, email hash or IP hash) -> JSON note."""
    return f"{_s(site_id)}:bans"


def akismet_context(tid: str, cid: int | str) -> str:
    """What Akismet needs to learn from a correction (IP, user agent, referrer), kept a while."""
    return f"{_t(tid)}:ak:{cid}"


# --- notifications and webhooks (consumers of the event log) -----------------


def subscribers(tid: str) -> str:
    """The thread's email subscribers: email hash -> {email, state, asked}. In the
    thread's slot, next to the comments whose authors asked."""
    return f"{_t(tid)}:subs"


def subscriber_pending(tid: str, email_hash: str) -> str:
    """An address asked to confirm mail about the thread; expires with its confirmation link."""
    return f"{_t(tid)}:subp:{email_hash}"


def consumer(site_id: str, name: str) -> str:
    """One consumer's durable cursors for a site: "_feed" -> feed stream id, tid -> last seq read.
    In the site's slot, so advancing a cursor and queueing what it produced are one atomic step."""
    return f"{_s(site_id)}:cur:{name}"


def outbox(site_id: str) -> str:
    """Composed mail waiting for the SMTP server: an entry is deleted once the server accepted it."""
    return f"{_s(site_id)}:outbox"


def batch_due(site_id: str) -> str:
    """Open batches of new-comment mail ("<tid>:<email hash>"), scored by when they are due."""
    return f"{_s(site_id)}:batchdue"


def batch_prefix(site_id: str) -> str:
    """Prefix of one batch's list of comments; the Lua scripts append "<tid>:<email hash>"."""
    return f"{_s(site_id)}:batch:"


def import_lock(site_id: str) -> str:
    """Held while the dashboard or the CLI imports a file into the site (one import at a time)."""
    return f"{_s(site_id)}:importing"


def import_progress(site_id: str) -> str:
    """JSON: how far the running import has got (phase, threads and comments done); lives with the lock."""
    return f"{_s(site_id)}:importprogress"


def hook_config(site_id: str) -> str:
    """The site's webhook: url, secret, since (ms)."""
    return f"{_s(site_id)}:hook"


def hook_queue(site_id: str) -> str:
    """Webhook events waiting for delivery, oldest first."""
    return f"{_s(site_id)}:hookq"


def hook_attempts(site_id: str) -> str:
    """Delivery attempts so far per queued webhook event (entry id -> "attempts|next due ms")."""
    return f"{_s(site_id)}:hookatt"


def hook_log(site_id: str) -> str:
    """The site's webhook delivery log, newest first, capped."""
    return f"{_s(site_id)}:hooklog"


def owner_optout(site_id: str) -> str:
    """Owner addresses (hashes) that unsubscribed from held-comment mail."""
    return f"{_s(site_id)}:ownerout"


def sso_secret(site_id: str) -> str:
    """The secret the site signs its members' sign-ins with (auth/sso.py); absent: no single sign-on."""
    return f"{_s(site_id)}:sso"


def sso_used(site_id: str, jti_digest: str) -> str:
    """A single sign-on token already traded for a session (kept until it would have expired)."""
    return f"{_s(site_id)}:ssojti:{jti_digest}"


def worker_lease(site_id: str) -> str:
    """Which node consumes the site's feed right now (SET NX PX, renewed)."""
    return f"{_s(site_id)}:lease"


# --- the dashboard's overview (store/stats.py) ---------------------------------


def stats_day(site_id: str, day: str) -> str:
    """The site's figures of one UTC day (YYYYMMDD): new comments by status, what held or caught them,
    mail and webhook deliveries. Written as things happen, kept a little over a year."""
    return f"{_s(site_id)}:day:{day}"


def busy_day(site_id: str, day: str) -> str:
    """The site's threads by new comments on one UTC day (kept a week and a day)."""
    return f"{_s(site_id)}:busy:{day}"


def live_readers(site_id: str) -> str:
    """Readers of the site's threads connected now, per node: node id -> "<readers>:<ms of the count>"."""
    return f"{_s(site_id)}:readers"


# --- replies from Mastodon and Bluesky (social/, store/remote.py) -------------------


def remote_due(site_id: str) -> str:
    """The site's threads that follow a remote post, by when each is next looked at (ms)."""
    return f"{_s(site_id)}:remotedue"


def remote_map(tid: str) -> str:
    """A thread's remote replies: "<source>:<remote id>" -> "<cid>|<digest of the text taken>"."""
    return f"{_t(tid)}:remotemap"


def remote_state(tid: str) -> str:
    """How following the thread's remote posts goes: per source, failures in a row, the last look,
    the last new reply, the last error's category, and whether the post's author was checked."""
    return f"{_t(tid)}:remotestate"


def remote_host(host_digest: str) -> str:
    """A remote server asked us to wait (its rate-limit headers, a 429): until when (ms). Shared by
    every site and node, so one busy host is not asked by each of them."""
    return f"{PREFIX}:remotehost:{host_digest}"


def remote_relinked(tid: str) -> str:
    """Set when a page changed the thread's remote post (expires: one change a day from a page)."""
    return f"{_t(tid)}:relinked"


def mastodon_app(server: str, redirect_uri: str) -> str:
    """Our app registered on a Mastodon server for sign-in (auth/mastodon.py): its client id and secret."""
    digest = hashlib.sha256(f"{server}\n{redirect_uri}".encode()).hexdigest()[:32]
    return f"{PREFIX}:mastoapp:{digest}"


def passkeys(user_digest: str) -> str:
    """A user's passkeys (credential id -> its public key, counter and dates), in the user's slot."""
    return f"{PREFIX}:{{u:{user_digest}}}:passkeys"


def passkey(credential_digest: str) -> str:
    """Whose passkey a credential id is (a passkey sign-in names only the credential)."""
    return f"{PREFIX}:pk:{credential_digest}"


def passkey_ticket(ticket_digest: str) -> str:
    """A signed-in reader's leave to add a passkey in the popup, and the ceremony's challenge."""
    return f"{PREFIX}:{{pkt:{ticket_digest}}}"


def email_link(token_hash: str) -> str:
    """An email sign-in link waiting to be used: its flow, its address, the browser that asked."""
    return f"{PREFIX}:{{elink:{token_hash}}}"


def email_gate(address_hash: str) -> str:
    """Set while a sign-in link was just mailed to an address (one a minute at most)."""
    return f"{PREFIX}:egate:{address_hash}"
