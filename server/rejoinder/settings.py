"""One Settings object, read once from the REJOINDER_* environment (pydantic-settings): a bad value stops the
server at start with a message naming the variable; unknown REJOINDER_* names are warned about; secrets may
come from files (REJOINDER_<NAME>_FILE, as Docker and systemd credentials provide them)."""

from __future__ import annotations

import contextvars
import difflib
import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

log = logging.getLogger("rejoinder.settings")

PREFIX = "REJOINDER_"
# Settings whose value may be read from a file named by REJOINDER_<NAME>_FILE.
SECRETS = ("secret_key", "smtp_password", "akismet_key", "x_client_secret", "facebook_client_secret",
           "github_client_secret", "google_client_secret", "metrics_token")
# REJOINDER_* names that are not settings but are read on purpose elsewhere.
NOT_SETTINGS = {"REJOINDER_VENV"}  # scripts/demo.sh: the demo's virtual environment
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")

# The environment from_env() reads: os.environ unless it was given a mapping.
_environ: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("rejoinder_environ", default=None)


class SettingsError(ValueError):
    """Settings that cannot start a server: one line per bad variable, each naming it."""


class _Env(EnvSettingsSource):
    """REJOINDER_* variables from the mapping from_env() was given, with REJOINDER_<NAME>_FILE for secrets."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _environ.get()
        if env is None:
            return {}  # Settings(...) built in code: defaults and the given values only
        values: dict[str, str | None] = {k.lower(): v for k, v in env.items() if k.startswith(PREFIX)}
        for name in SECRETS:
            path = env.get(f"{PREFIX}{name.upper()}_FILE")
            if path is None:
                continue
            if env.get(f"{PREFIX}{name.upper()}") is not None:
                raise SettingsError(f"{PREFIX}{name.upper()} and {PREFIX}{name.upper()}_FILE are both set: keep one")
            try:
                with open(path, encoding="utf-8") as f:
                    values[f"{PREFIX}{name}".lower()] = f.read().strip()
            except OSError as exc:
                raise SettingsError(f"{PREFIX}{name.upper()}_FILE: cannot read {path}: {exc.strerror}") from None
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, case_sensitive=False, extra="forbid",
                                      validate_default=True)

    # Where Redis lives. redis://, rediss://, unix:// or redis+cluster:// (issue 7).
    redis_url: str = "redis://127.0.0.1:6379/0"
    # With no REJOINDER_REDIS_URL: the data folder of the embedded database that `rejoinder serve`
    # starts and supervises (the same as --data; datadir.py).
    data_dir: str = ""
    # Connections one process keeps to a single Redis; a request beyond them waits for one.
    redis_max_connections: int = 100
    # The origin readers' browsers use to reach this server: the iframe and
    # websocket are served from here, and it is the one origin always allowed.
    public_url: str = "http://localhost:8000"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    # Trust X-Forwarded-For / -Proto from these proxy addresses or networks (comma list, never "*"):
    # the client address is then the right-most one in X-Forwarded-For that is not such a proxy.
    forwarded_allow_ips: str = ""
    # Key for hashing IP addresses and client ids: they are stored only as
    # keyed hashes. Set it in production so hashes survive restarts.
    secret_key: str = ""
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    # Request bodies above this are refused with 413 before they are read whole.
    max_body_bytes: int = 64 * 1024
    # 10,000 characters is about four printed pages: longer is an essay, not a comment.
    max_comment_chars: int = 10_000
    # How long a guest may edit or delete their comment with its edit token.
    edit_window_seconds: int = 15 * 60
    # Replies deeper than this attach to the deepest allowed ancestor.
    max_depth: int = 5
    # Top-level comments per page, and the most a client may ask for.
    page_size: int = 50
    max_page_size: int = 200
    # Replies of one top-level comment sent inline with its page; more are paged.
    inline_replies: int = 100
    # Events kept per thread: a reader away for longer than this many events resyncs.
    events_maxlen: int = 1000
    # Rate limits: requests that write, per window, per client IP and per identity.
    rate_window_seconds: int = 60
    rate_ip_writes: int = 30
    # New thread records (a page nobody opened before) and sign-in starts per window per client IP: a
    # reader opens a few pages a minute; a script opening random pages or sign-ins fills nothing.
    rate_ip_threads: int = 30
    rate_ip_logins: int = 20
    rate_identity_writes: int = 20
    # Site configuration is cached in each process for this long.
    site_cache_seconds: float = 2.0
    # How long an Idempotency-Key is remembered.
    idempotency_seconds: int = 24 * 3600
    # Live updates. Events queued per socket before a reader that does not keep up
    # is cut off (it resumes from its last event): 256 is minutes of a busy thread.
    live_queue: int = 256
    # Bytes the kernel may hold for one socket (SO_SNDBUF; Linux doubles it). Unset, it grows
    # to 4 MiB for a reader that stopped reading; 0 leaves the kernel's own setting.
    live_send_buffer: int = 64 * 1024
    # "N reading now" (live/presence.py): each node counts a thread's readers and tells them.
    live_presence: bool = True
    # Sockets per client IP and per node: a reader has one per open page.
    live_per_ip: int = 50
    live_per_node: int = 20_000
    # Seconds a new socket has to say hello, and the ping interval / dead-peer timeout.
    live_hello_seconds: float = 10.0
    ws_ping_seconds: float = 20.0
    ws_ping_timeout_seconds: float = 20.0
    # Social login. A provider is on when its client id and secret are set; every
    # endpoint can be pointed elsewhere (tests run a local provider).
    x_client_id: str = ""
    x_client_secret: str = ""
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_token_url: str = "https://api.x.com/2/oauth2/token"
    x_userinfo_url: str = "https://api.x.com/2/users/me?user.fields=profile_image_url"
    facebook_client_id: str = ""
    facebook_client_secret: str = ""
    facebook_authorize_url: str = "https://www.facebook.com/v21.0/dialog/oauth"
    facebook_token_url: str = "https://graph.facebook.com/v21.0/oauth/access_token"
    facebook_userinfo_url: str = "https://graph.facebook.com/v21.0/me?fields=id,name,picture,email"
    github_client_id: str = ""
    github_client_secret: str = ""
    github_authorize_url: str = "https://github.com/login/oauth/authorize"
    github_token_url: str = "https://github.com/login/oauth/access_token"
    github_userinfo_url: str = "https://api.github.com/user"
    google_client_id: str = ""
    google_client_secret: str = ""
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    # How long a login session lasts.
    session_days: int = 30
    # How long a session lasts that the blog page keeps for the frame (browsers that deny
    # the frame storage of its own): that page's scripts can read it, so it is short.
    page_session_hours: int = 24
    # Spam defences. A form sent sooner than this after it loaded is a bot's.
    spam_min_seconds: float = 3.0
    # More links than this in one comment is spam (one or two are normal).
    spam_max_links: int = 3
    # Akismet: on when a key is set; the endpoint can point at a test server.
    akismet_key: str = ""
    akismet_endpoint: str = "https://rest.akismet.com"
    akismet_timeout_seconds: float = 3.0
    # How long the approve/delete links in a held-comment mail keep working.
    moderation_link_hours: int = 72
    # How long a one-time admin sign-in link from `rejoinder admin token` works:
    # long enough to open a mail or a terminal's link, short enough that a link
    # left in a scrollback is useless by tomorrow.
    admin_link_minutes: int = 60
    # Email notifications: on when smtp_host is set. Port 587 with STARTTLS is mail
    # submission; smtp_tls is implicit TLS instead (port 465). smtp_from defaults to
    # comments@<the public URL's host>.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_from: str = ""
    smtp_timeout_seconds: float = 30.0
    # While the SMTP server fails, retries wait 1 s, 2 s, 4 s... up to this.
    smtp_retry_max_seconds: float = 60.0
    # New-comment mail waits this long for more comments on the thread and lists
    # them in one mail: a lively thread sends a digest, not a mail per comment.
    notify_batch_seconds: float = 60.0
    # How long the confirm link of a subscription works (a week: mail can sit unread).
    confirm_link_hours: int = 168
    # Webhook retries: waits between attempts (comma list, seconds); then it gives up.
    webhook_retry_seconds: str = "1,5,30,120,600"
    webhook_timeout_seconds: float = 10.0
    # Let the fetches whose address someone else chooses (webhooks: a site admin; avatars: a
    # provider and its redirects) reach loopback, private, link-local and other non-public
    # addresses. Off: nobody can make the server probe its own network (netguard.py).
    fetch_private_ok: bool = False
    # Or only these non-public networks (comma list of IPs and CIDRs), e.g. an internal webhook receiver.
    fetch_allow: str = ""
    # The worker (mail and webhooks) runs inside every server process; set false
    # when `rejoinder worker` runs it on its own. A site's feed is consumed by one
    # node at a time: the holder renews a lease of this many seconds; a node that
    # dies hands its sites over after at most that long.
    worker_in_server: bool = True
    worker_lease_seconds: float = 15.0
    # How often the worker looks at site feeds: the delay of a mail or webhook beyond its own.
    worker_poll_seconds: float = 1.0
    # Sign-in by a link mailed to the reader (where mail is configured): single use, from the browser
    # that asked, for this many minutes.
    email_login: bool = True
    email_link_minutes: int = 15
    # Sign-in with Mastodon (any server that speaks its API): the reader names their server, and an app
    # is registered there on first use. Needs nothing from the operator; false hides it.
    mastodon_login: bool = True
    # The name readers see on their server's "authorize" page.
    mastodon_client_name: str = "Rejoinder comments"
    # Passkeys (auth/passkeys.py): a signed-in reader may add one and later sign in with it alone. Browsers
    # allow them only on https (or localhost); false hides them.
    passkeys: bool = True
    # Sign-in with Bluesky (AT Protocol OAuth: PAR, PKCE, DPoP; auth/bluesky.py): the reader types their
    # handle. Needs nothing registered (the client is described by a document this server serves), but an
    # https public URL; false hides it. Handles are resolved through REJOINDER_BLUESKY_APPVIEW, did:plc
    # identities through this PLC directory.
    bluesky_login: bool = True
    bluesky_plc: str = "https://plc.directory"
    # Replies from Mastodon and Bluesky (social/): the shortest wait between two looks at one followed
    # post. A new or lively post is looked at this often; quieter and older ones less (up to 6 hours).
    remote_poll_seconds: float = 60.0
    # How long one remote request may take, and the most of its answer that is read.
    remote_timeout_seconds: float = 5.0
    remote_max_bytes: int = 2 * 1024 * 1024
    # Where Bluesky's public API answers (app.bsky.feed.getPostThread) and where its posts are shown.
    bluesky_appview: str = "https://public.api.bsky.app"
    bluesky_web: str = "https://bsky.app"
    # The largest WordPress/Disqus export `rejoinder import` reads. The file is read and
    # checked whole before anything is written: measured on a 15 MB Disqus export (30,000
    # comments), that takes about 8x the file's size in memory and 9 s, so 100 MiB
    # (100,000-200,000 comments) stays under 1 GiB and about a minute.
    import_max_bytes: int = 100 * 1024 * 1024
    # /metrics answers only requests that bring this bearer token (Prometheus: `authorization`
    # with `credentials`); without it /metrics is closed. Or use metrics_listen.
    metrics_token: str = ""
    # Serve the demo blog post at /demo/ (the demo command turns it on).
    demo_page: bool = False


    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(REDIS_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(REDIS_SCHEMES)}")
        return value

    @field_validator("fetch_allow")
    @classmethod
    def _fetch_allow(cls, value: str) -> str:
        for item in (v.strip() for v in value.split(",") if v.strip()):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        """Only named proxies: trusting every peer ("*") lets any client choose the address its rate
        limits and bans count against (X-Forwarded-For is the client's to write)."""
        for item in (v.strip() for v in value.split(",") if v.strip()):
            if item == "*":
                raise ValueError("'*' trusts every peer, so any client could choose its own address: "
                                 "name the proxy's address or network (e.g. 10.0.0.2 or 172.18.0.0/16)")
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or "://" not in value or not value.split("://", 1)[1]:
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _Env(settings_cls)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """The settings from REJOINDER_* (os.environ by default), then `overrides`. A value that does not
        fit raises SettingsError naming each variable and what it accepts; an unknown REJOINDER_* name is
        logged as a warning (with the setting it probably meant)."""
        env = os.environ if environ is None else environ
        _warn_unknown(env)
        token = _environ.set(env)
        try:
            settings = cls(**overrides)
        except ValidationError as exc:
            raise SettingsError("\n".join(_explain(error) for error in exc.errors())) from None
        finally:
            _environ.reset(token)
        if not settings.secret_key:
            settings = settings.model_copy(update={"secret_key": secrets.token_hex(32)})
        return settings

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)

    @cached_property
    def public_origin(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(env name, default, type) for every setting: the README table."""
        return [(f"{PREFIX}{name.upper()}", repr(f.default), _type_name(f)) for name, f in cls.model_fields.items()]


def _type_name(field: FieldInfo) -> str:
    return getattr(field.annotation, "__name__", str(field.annotation))


ACCEPTED = {
    "bool_parsing": "true or false (also 1/0, yes/no, on/off)",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "literal_error": None,  # pydantic names the choices itself
}


def _explain(error: Any) -> str:
    loc = error.get("loc") or ()
    name = f"{PREFIX}{str(loc[0]).upper()}" if loc else PREFIX + "*"
    given = error.get("input")
    accepted = ACCEPTED.get(error.get("type", ""))
    what = f"must be {accepted}" if accepted else str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        return f"{name}: not a setting"
    shown = f"{given!r}" if isinstance(given, (str, int, float)) and name not in _secret_names() else "the value given"
    return f"{name}={shown}: {what}"


def _secret_names() -> set[str]:
    return {f"{PREFIX}{name.upper()}" for name in SECRETS}


def _warn_unknown(env: Mapping[str, str]) -> None:
    known = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields}
    known |= {f"{PREFIX}{name.upper()}_FILE" for name in SECRETS} | NOT_SETTINGS
    for name in sorted(k for k in env if k.startswith(PREFIX) and k not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        log.warning("%s is not a Rejoinder setting and is ignored%s", name,
                    f" (did you mean {close[0]}?)" if close else "")


DEFAULTS = Settings()
