"""The typed State the lifespan yields, and the accessors handlers use to reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from .settings import Settings

if TYPE_CHECKING:  # only names of types: state.py imports nothing above it
    from .store.sessions import SessionStore
    from authlib.integrations.starlette_client import OAuth

    from .live.admin_feeds import AdminFeeds
    from .live.hub import Hub, Limits
    from .metrics import Metrics
    from .store.logins import LoginStore
    from .store.passkeys import PasskeyStore
    from .store.users import UserStore
    from .store.comments import CommentStore
    from .store.feed import FeedStore
    from .store.ratelimit import RateLimiter
    from .store.sites import SiteStore
    from .store.origins import OriginIndex
    from .store.admins import AdminStore
    from .store.bans import BanStore
    from .store.moderation import ModerationStore
    from .store.queue import ModerationQueue
    from .store.notify import NotifyStore
    from .store.subscriptions import SubscriptionStore
    from .store.webhooks import WebhookStore
    from .store.porting import PortingStore
    from .store.stats import StatsStore
    from .store.moving import MovingStore
    from .store.remote import RemoteStore


@dataclass
class State:
    settings: Settings
    redis: Redis
    sites: "SiteStore"
    comments: "CommentStore"
    feed: "FeedStore"
    sessions: "SessionStore"
    limiter: "RateLimiter"
    origins: "OriginIndex"
    hub: "Hub"
    oauth: "OAuth"
    users: "UserStore"
    logins: "LoginStore"
    passkeys: "PasskeyStore"
    metrics: "Metrics"
    live_limits: "Limits"
    admins: "AdminStore"
    bans: "BanStore"
    moderation: "ModerationStore"
    queue: "ModerationQueue"
    subscriptions: "SubscriptionStore"
    notify: "NotifyStore"
    webhooks: "WebhookStore"
    porting: "PortingStore"
    admin_feeds: "AdminFeeds"
    stats: "StatsStore"
    moving: "MovingStore"
    remote: "RemoteStore"


def state(conn: HTTPConnection) -> State:
    return conn.state.app


def settings(conn: HTTPConnection) -> Settings:
    return conn.state.app.settings
