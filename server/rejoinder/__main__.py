"""The `rejoinder` command: serve, demo, worker, and site administration."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from . import __version__, datadir
from .logs import log_config
from .serving import serve as _serve
from .settings import Settings, SettingsError


def cmd_serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    for name in ("host", "port", "workers"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.forwarded_allow_ips is not None:
        overrides["forwarded_allow_ips"] = args.forwarded_allow_ips
    folder = datadir.find(args.data, os.environ)
    if folder is None:
        _serve(Settings.from_env(**overrides))
        return 0
    if not os.environ.get("REJOINDER_SECRET_KEY"):
        overrides["secret_key"] = folder.secret_key()
    if os.environ.get("REJOINDER_REDIS_URL"):
        _serve(Settings.from_env(**overrides))  # the folder only keeps the secret key
        return 0
    # One blog on one box: the embedded database, supervised by this process (DATA_DIR).
    db = datadir.Supervised(folder).start()
    try:
        settings = Settings.from_env(**overrides, redis_url=db.url)
        folder.remember_public_url(settings.public_url)
        os.environ["REJOINDER_REDIS_URL"] = db.url  # the workers' settings, read in each worker
        _serve(settings)
    finally:
        db.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.run(args)


def _site_from_args(args: argparse.Namespace, base: Any = None) -> Any:
    from .store.sites import POLICIES, Site

    site = base or Site(id=args.id)
    if getattr(args, "name", None) is not None:
        site.name = args.name
    if getattr(args, "origin", None):
        site.origins = [o.rstrip("/").lower() for o in args.origin]
    if getattr(args, "moderation", None) is not None:
        if args.moderation not in POLICIES:
            raise SystemExit(f"moderation must be one of {', '.join(POLICIES)}")
        site.moderation = args.moderation
    if getattr(args, "block", None):
        site.blocklist = [w.strip() for w in args.block if w.strip()]
    if getattr(args, "pow", None) is not None:
        site.pow = args.pow == "on"
    if getattr(args, "stylesheet", None) is not None:
        from .store.sites import clean_stylesheet

        try:
            site.stylesheet = clean_stylesheet(args.stylesheet, site.origins)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
    if getattr(args, "typing", None) is not None:
        site.typing = args.typing == "on"
    if getattr(args, "remote_author", None) is not None:
        from .social.refs import author

        accounts = [author(a) for a in args.remote_author if a.strip()]
        if None in accounts:
            raise SystemExit("--remote-author is a Mastodon profile URL (https://server/@name), a Bluesky handle "
                             "or a DID")
        site.remote_authors = list(dict.fromkeys(a for a in accounts if a))
    if getattr(args, "reactions", None) is not None:
        from .store.sites import clean_reactions

        try:
            site.reactions = clean_reactions([r for r in args.reactions.split(",") if r.strip()])
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
    if getattr(args, "hold_reports", None) is not None:
        if not 0 <= args.hold_reports <= 1000:
            raise SystemExit("hold-reports is 0 (never) to 1000")
        site.hold_reports = args.hold_reports
    if getattr(args, "language", None) is not None:
        from .notify.templates import LANGUAGES

        if args.language not in LANGUAGES:
            raise SystemExit(f"language must be one of {', '.join(LANGUAGES)}")
        site.language = args.language
    if getattr(args, "owner_email", None) is not None:
        from .errors import ApiError
        from .models import clean_email

        try:
            site.owner_emails = [e for e in (clean_email(a) for a in args.owner_email) if e]
        except ApiError:
            raise SystemExit("--owner-email: not a valid email address") from None
    return site


def _webhook_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit("--webhook must be an http:// or https:// URL")
    return url


async def _site_command(args: argparse.Namespace) -> int:
    from .app import build_state, connect
    from .store import keys

    settings = Settings.from_env()
    redis = connect(settings)
    st = build_state(settings, redis)
    try:
        if args.site_cmd == "add":
            if not keys.SITE_ID.match(args.id):
                print("site id: lower-case letters, digits and '-', at most 63", file=sys.stderr)
                return 2
            site = _site_from_args(args)
            if not await st.sites.create(site):
                print(f"site {args.id} exists", file=sys.stderr)
                return 1
            await _rebuild_origins(st)
            print(json.dumps(site.to_json()))
        elif args.site_cmd == "list":
            for site in await st.sites.list():
                print(json.dumps(site.to_json()))
        elif args.site_cmd == "remove":
            return await _remove_site(settings, st, args)
        elif args.site_cmd in ("show", "update"):
            found = await st.sites.get(args.id)
            if found is None:
                print(f"no site {args.id}", file=sys.stderr)
                return 1
            out = {}
            if args.site_cmd == "update":
                if args.webhook is not None and args.webhook_off:
                    print("--webhook and --webhook-off exclude each other", file=sys.stderr)
                    return 2
                webhook = _webhook_url(args.webhook) if args.webhook is not None else None
                found = _site_from_args(args, found)
                await st.sites.update(found)
                await _rebuild_origins(st)
                if args.owner_email is not None:
                    from .notify.mail import email_hash

                    # Listing an address again turns its held-comment mail back on.
                    await st.notify.opt_in_owners(found.id, [email_hash(settings, e) for e in found.owner_emails])
                if webhook is not None:
                    # The secret is shown this once; `site show` never shows it again.
                    from .notify.webhooks import point

                    secret = await point(st.webhooks, st.notify, found.id, webhook)
                    out["webhook"] = {"url": webhook, "secret": secret}
                elif args.webhook_off:
                    await st.webhooks.remove(found.id)
                if args.sso == "new":
                    import secrets as _secrets

                    from .store import keys as _keys

                    # Shown this once, like a webhook's; the blog signs its members' sign-ins with it.
                    sso_secret = _secrets.token_urlsafe(32)
                    await st.redis.set(_keys.sso_secret(found.id), sso_secret)
                    out["sso"] = {"enabled": True, "secret": sso_secret}
                elif args.sso == "off":
                    from .store import keys as _keys

                    await st.redis.delete(_keys.sso_secret(found.id))
            out.setdefault("webhook", {"url": await st.webhooks.url(found.id) or None})
            if "sso" not in out:
                from .store import keys as _keys

                out["sso"] = {"enabled": bool(await st.redis.exists(_keys.sso_secret(found.id)))}
            print(json.dumps({**found.to_json(), **out}))
        return 0
    finally:
        await redis.aclose()


async def _remove_site(settings: Settings, st: Any, args: argparse.Namespace) -> int:
    """`rejoinder site remove ID`: says what goes, asks for the id typed back (or --yes), then deletes."""
    from .app import connect_binary
    from .store import keys
    from .store.backups import BackupStore

    if await st.sites.get(args.id) is None:
        print(f"no site {args.id}", file=sys.stderr)
        return 1
    binary = connect_binary(settings)
    try:
        tids = await BackupStore(binary).thread_ids(args.id)
    finally:
        await binary.aclose()
    comments = sum([int(await st.redis.hget(keys.thread_meta(t), "cids") or 0) for t in tids])
    print(f"This removes site {args.id} and everything it holds: {len(tids)} threads with {comments} comments "
          "(and their likes, events and mail subscriptions), its admins, bans, webhook and moderation lists. "
          "Readers' accounts stay. There is no undo: `rejoinder backup --site ID` first if you may want it back.",
          file=sys.stderr)
    if not args.yes:
        if not sys.stdin.isatty():
            print("refusing without --yes (not a terminal to confirm on)", file=sys.stderr)
            return 2
        if input(f"Type the site id ({args.id}) to remove it: ").strip() != args.id:
            print("not removed", file=sys.stderr)
            return 1
    removed = await st.sites.remove(args.id, tids)
    await _rebuild_origins(st)
    print(json.dumps({"removed": args.id, **removed}))
    return 0


async def _rebuild_origins(st: Any) -> None:
    await st.origins.rebuild({o for s in await st.sites.list() for o in s.origins})


def cmd_site(args: argparse.Namespace) -> int:
    return asyncio.run(_site_command(args))


def _identity(value: str) -> str | None:
    """An identity as the dashboard shows it ("u:github:123"), or without its "u:" prefix."""
    value = value.strip()
    if not value.startswith("u:"):
        value = "u:" + value
    provider, _, rest = value[2:].partition(":")
    return value if provider.isalpha() and rest and " " not in rest else None


async def _admins(st: Any, site: str) -> list[str]:
    """The site's admins. A one-time link's identity whose sessions have all ended is dropped:
    nobody can sign in as it again."""
    admins = []
    for who in await st.admins.list(site):
        if who.startswith("u:link:") and not await st.sessions.count(who[2:]):
            await st.admins.remove(site, who)
            continue
        admins.append(who)
    return admins


async def _admin_command(args: argparse.Namespace) -> int:
    from .app import build_state, connect
    from .store import keys

    settings = Settings.from_env()
    redis = connect(settings)
    st = build_state(settings, redis)
    try:
        if not keys.SITE_ID.match(args.site) or await st.sites.get(args.site) is None:
            print(f"no site {args.site}", file=sys.stderr)
            return 1
        if args.admin_cmd in ("add", "remove"):
            who = _identity(args.identity)
            if who is None:
                print("identity: provider:id, as the dashboard shows it (e.g. u:github:1234)", file=sys.stderr)
                return 2
            if args.admin_cmd == "add":
                await st.admins.add(args.site, who)
            elif not await st.admins.remove(args.site, who):
                print(f"{who} is not an admin of {args.site}", file=sys.stderr)
                return 1
            elif who.startswith("u:link:"):
                # A one-time link's identity exists only for its sessions: end them too.
                await st.sessions.revoke_all(who[2:])
            print(json.dumps({"site": args.site, "admins": await _admins(st, args.site)}))
        elif args.admin_cmd == "list":
            for who in await _admins(st, args.site):
                print(who)
        elif args.admin_cmd == "token":
            minutes = settings.admin_link_minutes
            token = await st.admins.issue_link(args.site, minutes * 60)
            # In the fragment: a browser never sends it to a server, so it stays out of logs.
            print(f"{settings.public_url.rstrip('/')}/admin/#token={token}")
            print(f"(one use, valid {minutes} minutes)", file=sys.stderr)
        return 0
    finally:
        await redis.aclose()


async def _webhook_log(args: argparse.Namespace) -> int:
    from .app import build_state, connect

    settings = Settings.from_env()
    redis = connect(settings)
    try:
        st = build_state(settings, redis)
        if await st.sites.get(args.id) is None:
            print(f"no site {args.id}", file=sys.stderr)
            return 1
        for entry in await st.webhooks.log(args.id, args.limit):
            print(json.dumps(entry))
        return 0
    finally:
        await redis.aclose()


async def _worker(args: argparse.Namespace) -> int:
    import logging
    import logging.config
    import signal

    from .app import build_state, connect
    from .notify.worker import Worker

    settings = Settings.from_env()
    logging.config.dictConfig(log_config(settings.log_level))
    if not settings.mail_enabled:
        logging.getLogger("rejoinder.worker").info("REJOINDER_SMTP_HOST is not set: webhooks only")
    redis = connect(settings)
    try:
        worker = Worker(build_state(settings, redis))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop_soon)
        await worker.run()
        return 0
    finally:
        await redis.aclose()


async def _backup(args: argparse.Namespace) -> int:
    from .app import connect_binary
    from .store.backups import BackupStore

    settings = Settings.from_env()
    redis = connect_binary(settings)
    counts: dict[str, int] = {}
    try:
        store = BackupStore(redis)
        out = sys.stdout if args.out == "-" else open(args.out, "w")
        try:
            async for item in store.export(args.site):
                out.write(json.dumps(item, separators=(",", ":")) + "\n")
                counts[item["type"]] = counts.get(item["type"], 0) + 1
        finally:
            if out is not sys.stdout:
                out.close()
    finally:
        await redis.aclose()
    print(f"backed up {counts.get('site', 0)} sites, {counts.get('thread', 0)} threads, "
          f"{counts.get('key', 0)} accounts and avatars", file=sys.stderr)
    return 0


async def _restore(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from .app import build_state, connect, connect_binary
    from .store.backups import BackupStore

    settings = Settings.from_env()
    redis = connect_binary(settings)
    counts: dict[str, int] = {}
    try:
        store = BackupStore(redis)
        with open(args.file) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    kind = await store.restore(json.loads(line))
                except (ValueError, KeyError, TypeError, RedisError) as exc:
                    print(f"line {number}: {exc}; stopped (earlier lines are restored)", file=sys.stderr)
                    return 1
                counts[kind] = counts.get(kind, 0) + 1
    finally:
        await redis.aclose()
    text = connect(settings)
    try:
        await _rebuild_origins(build_state(settings, text))
    finally:
        await text.aclose()
    print(f"restored {counts.get('site', 0)} sites, {counts.get('thread', 0)} threads, "
          f"{counts.get('key', 0)} accounts and avatars", file=sys.stderr)
    return 0


def _warn_without_secret() -> None:
    if not os.environ.get("REJOINDER_SECRET_KEY"):
        print("warning: REJOINDER_SECRET_KEY is not set, so the keyed hashes made here (IP addresses, "
              "avatars, known guests) will not match the server's: set it as the server has it.", file=sys.stderr)


def _porting_stores(settings: Settings, redis: Any) -> tuple[Any, Any, Any]:
    from .store.feed import FeedStore
    from .store.porting import PortingStore
    from .store.sites import SiteStore

    return (SiteStore(redis, 0), FeedStore(redis),
            PortingStore(redis, events_maxlen=settings.events_maxlen, max_depth=settings.max_depth))


class _ImportBar:
    """`rejoinder import`'s progress on a terminal: comments written, threads, rate and time left
    (tqdm; nothing at all when standard error is not a terminal, so logs and pipes stay clean)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar: Any = None

    async def __call__(self, p: dict[str, Any]) -> None:
        from tqdm import tqdm

        if p["phase"] != "writing":
            return
        if self.bar is None:
            self.bar = tqdm(total=p["comments_total"], desc=f"Importing {os.path.basename(self.name)}",
                            unit=" comments", file=sys.stderr, disable=None, dynamic_ncols=True, smoothing=0.1)
        self.bar.set_postfix_str(f"{p['threads_done']:,}/{p['threads_total']:,} threads", refresh=False)
        self.bar.update(p["comments_done"] - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def _import(args: argparse.Namespace) -> int:
    from .app import connect
    from .porting import importer
    from .porting.source import ImportFailed

    settings = Settings.from_env()
    _warn_without_secret()
    try:
        with open(args.file, "rb") as f:
            data = f.read(settings.import_max_bytes + 1)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    redis = connect(settings)
    try:
        sites, feed, porting = _porting_stores(settings, redis)
        # The dashboard's lock: one import into a site at a time, and the dashboard shows this one's progress.
        token = await porting.lock_import(args.site, importer.LOCK_SECONDS)
        if token is None:
            raise ImportFailed("import_running", "Another import into this site is running (from the dashboard "
                                                 "or another `rejoinder import`): wait for it to finish.")
        bar = _ImportBar(args.file)
        try:
            report = await importer.run(data, site=args.site, settings=settings, sites=sites, porting=porting,
                                        feed=feed, fmt=args.format, by=args.threads_by,
                                        progress=importer.publisher(porting, args.site, token,
                                                                    importer.LOCK_SECONDS, also=bar))
        finally:
            bar.close()
            await porting.unlock_import(args.site, token)
    except ImportFailed as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
        print(f"{args.file}: {exc.message}\nNothing was imported.", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    print(json.dumps(report, indent=2))
    print(importer.summary(report), file=sys.stderr)
    return 0


async def _export(args: argparse.Namespace) -> int:
    from .app import connect
    from .porting import exporter, forget

    settings = Settings.from_env()
    if args.email or args.identity:
        try:
            forget.check(args.email or "", args.identity or "")
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    redis = connect(settings)
    try:
        sites, _, porting = _porting_stores(settings, redis)
        site = await sites.get(args.site)
        if site is None:
            print(f"no site {args.site}", file=sys.stderr)
            return 1
        tids = await porting.site_threads(site.id, scan=True)
        base = site.origins[0] if site.origins else settings.public_url
        out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
        try:
            counts = await exporter.export(out, site=site, tids=tids, porting=porting, fmt=args.format,
                                           include_emails=args.include_emails, base_url=base,
                                           email=args.email or "", identity=args.identity or "")
        finally:
            if out is not sys.stdout:
                out.close()
    finally:
        await redis.aclose()
    print(f"exported {counts['comments']} comments in {counts['threads']} threads of site {site.id} "
          f"as {args.format}" + (" with email addresses" if args.include_emails else ""), file=sys.stderr)
    return 0


async def _forget(args: argparse.Namespace) -> int:
    from .app import connect
    from .porting import forget

    settings = Settings.from_env()
    _warn_without_secret()
    try:
        email, identity = forget.check(args.email or "", args.identity or "")
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    redis = connect(settings)
    try:
        sites, feed, porting = _porting_stores(settings, redis)
        if await sites.get(args.site) is None:
            print(f"no site {args.site}", file=sys.stderr)
            return 1
        tids = await porting.site_threads(args.site, scan=True)
        report = await forget.run(args.site, tids, email=email, identity=identity, porting=porting, feed=feed,
                                  secret=settings.secret_key)
    finally:
        await redis.aclose()
    print(json.dumps(report, indent=2))
    print(forget.summary(report), file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rejoinder", description="Self-hosted comments for blogs.")
    p.add_argument("--version", action="version", version=f"rejoinder {__version__}")
    p.add_argument("--data", metavar="DIR", help="data folder with the embedded database (REJOINDER_DATA_DIR), "
                   "used when REJOINDER_REDIS_URL is not set; may stand anywhere on the line. A clone that ran "
                   "the demo is found by itself (.rejoinder)")
    sub = p.add_subparsers(dest="cmd", required=True)

    serve = sub.add_parser("serve", help="run the server against REJOINDER_REDIS_URL")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--forwarded-allow-ips", help="trust X-Forwarded-* from these proxy IPs")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="embedded database, demo site and blog page, one command")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-local-login", action="store_true", help="do not start the local test OAuth provider")
    demo.set_defaults(func=cmd_demo)

    site = sub.add_parser("site", help="register and inspect sites")
    ssub = site.add_subparsers(dest="site_cmd", required=True)
    for name in ("add", "update"):
        s = ssub.add_parser(name)
        s.add_argument("id")
        s.add_argument("--name")
        s.add_argument("--origin", action="append", help="an allowed origin, e.g. https://blog.example (repeat)")
        s.add_argument("--moderation", help="publish | hold_first_guests | hold_all | hold_links")
        s.add_argument("--block", action="append", help="a blocked word or phrase: its comments go to spam (repeat)")
        s.add_argument("--pow", choices=("on", "off"), help="guests' comments need a proof of work (their browser "
                       "solves it while they type)")
        s.add_argument("--stylesheet", help="a stylesheet of the site's own, on one of its origins, applied inside "
                       "the comments ('' for none)")
        s.add_argument("--typing", choices=("on", "off"), help="readers see \"someone is replying\" while "
                       "another types in the thread")
        s.add_argument("--remote-author", action="append", help="one of the site's own Mastodon or Bluesky "
                       "accounts (https://server/@name, a handle or a DID): a page may name its posts with "
                       "data-mastodon / data-bluesky, and their replies show in the thread (repeat; '' for none)")
        s.add_argument("--reactions", help="the emoji readers may react with, comma separated ('' for none; "
                       "default 👍,❤️,😂,😮,😢)")
        s.add_argument("--hold-reports", type=int, help="readers' reports that hold a comment for an admin "
                       "(0: never)")
        s.add_argument("--language", help="language of mail and mail pages: en, fr, de, es, ar, ja… (notify/locales/)")
        s.add_argument("--owner-email", action="append",
                       help="gets a mail for each comment held for moderation (repeat; '' for none)")
        if name == "update":
            s.add_argument("--webhook", help="POST each public event here (prints a new signing secret once)")
            s.add_argument("--webhook-off", action="store_true", help="stop the webhook")
            s.add_argument("--sso", choices=("new", "off"), help="new: a secret the blog signs its members' "
                           "sign-ins with (printed once); off: no single sign-on")
    ssub.add_parser("list")
    remove = ssub.add_parser("remove", help="delete a site and everything it holds (asks first)")
    remove.add_argument("id")
    remove.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    show = ssub.add_parser("show")
    show.add_argument("id")
    site.set_defaults(func=cmd_site)

    admin = sub.add_parser("admin", help="who administers a site; one-time sign-in links to the dashboard")
    asub = admin.add_subparsers(dest="admin_cmd", required=True)
    for name, what in (("add", "make IDENTITY an admin of SITE"), ("remove", "take SITE from IDENTITY")):
        a = asub.add_parser(name, help=what)
        a.add_argument("site")
        a.add_argument("identity", help="provider:id as the dashboard shows it, e.g. u:github:1234")
    asub.add_parser("list", help="the admins of SITE").add_argument("site")
    asub.add_parser("token", help="print a one-time link that signs its holder in as an admin of SITE"
                    ).add_argument("site")
    admin.set_defaults(func=lambda a: asyncio.run(_admin_command(a)))

    webhook = sub.add_parser("webhook", help="inspect a site's webhook")
    wsub = webhook.add_subparsers(dest="webhook_cmd", required=True)
    wlog = wsub.add_parser("log", help="the latest delivery attempts, newest first (JSON lines)")
    wlog.add_argument("id")
    wlog.add_argument("--limit", type=int, default=50)
    webhook.set_defaults(func=lambda a: asyncio.run(_webhook_log(a)))

    worker = sub.add_parser("worker", help="run only the mail and webhook worker (then set REJOINDER_WORKER_IN_SERVER=0)")
    worker.set_defaults(func=lambda a: asyncio.run(_worker(a)))

    backup = sub.add_parser("backup", help="write one site (or everything) to a file, while the server runs")
    backup.add_argument("--site", help="only this site (default: everything)")
    backup.add_argument("--out", required=True, help="file to write, or - for standard output")
    backup.set_defaults(func=lambda a: asyncio.run(_backup(a)))
    restore = sub.add_parser("restore", help="put back what `rejoinder backup` wrote (replaces those threads)")
    restore.add_argument("file")
    restore.set_defaults(func=lambda a: asyncio.run(_restore(a)))

    imp = sub.add_parser("import", help="import a WordPress (WXR) or Disqus export into a site (safe to re-run)")
    imp.add_argument("site")
    imp.add_argument("file")
    imp.add_argument("--format", choices=("wxr", "disqus"), help="default: recognised from the file")
    imp.add_argument("--threads-by", choices=("url", "id"), default="url",
                     help="key threads by their URL (default) or by the old page id (WordPress post id, "
                          "Disqus identifier), as your pages' data-page")
    imp.set_defaults(func=lambda a: asyncio.run(_import(a)))
    exp = sub.add_parser("export", help="write a site's comments as JSON or as WXR for WordPress")
    exp.add_argument("site")
    exp.add_argument("--format", choices=("json", "wxr"), default="json")
    exp.add_argument("--out", required=True, help="file to write, or - for standard output")
    exp.add_argument("--include-emails", action="store_true", help="include commenters' email addresses")
    who = exp.add_mutually_exclusive_group()
    who.add_argument("--email", help="only this commenter's comments (their data, on request)")
    who.add_argument("--identity", help="only the comments of this identity key")
    exp.set_defaults(func=lambda a: asyncio.run(_export(a)))
    fgt = sub.add_parser("forget", help="delete everything of one commenter on a site, on their request")
    fgt.add_argument("site")
    fwho = fgt.add_mutually_exclusive_group(required=True)
    fwho.add_argument("--email")
    fwho.add_argument("--identity", help="u:<provider>:<id> (signed in) or g:<hash> (a guest's browser)")
    fgt.set_defaults(func=lambda a: asyncio.run(_forget(a)))
    return p


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[None]:
    """For commands other than serve and demo: with a data folder (--data, REJOINDER_DATA_DIR, or the
    demo's .rejoinder here) and no REJOINDER_REDIS_URL, its embedded database, started for the
    length of the command if no server runs it; the folder's secret key, so hashes match the server's."""
    folder = None if args.cmd in ("serve", "demo") else datadir.find(getattr(args, "data", None), os.environ)
    if folder is None:
        yield
        return
    saved = {k: os.environ.get(k) for k in ("REJOINDER_REDIS_URL", "REJOINDER_SECRET_KEY", "REJOINDER_PUBLIC_URL")}
    started = None
    try:
        os.environ.setdefault("REJOINDER_SECRET_KEY", folder.secret_key())
        if folder.public_url():
            os.environ.setdefault("REJOINDER_PUBLIC_URL", folder.public_url() or "")
        if not saved["REJOINDER_REDIS_URL"]:
            if not folder.running():
                started = folder.database().start()
            os.environ["REJOINDER_REDIS_URL"] = folder.url()
        yield
    finally:
        if started is not None:
            started.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _unreachable(exc: BaseException) -> str:
    url = os.environ.get("REJOINDER_REDIS_URL") or Settings().redis_url
    shown = re.sub(r"://[^@/]*@", "://***@", url)
    return (f"rejoinder: cannot reach the database at {shown} ({type(exc).__name__}: {exc}).\n"
            "Set REJOINDER_REDIS_URL to your Redis or Valkey (redis://, rediss://, unix:// or redis+cluster://), "
            "or give --data DIR to use the embedded database (the demo's is .rejoinder).")


def main(argv: list[str] | None = None) -> int:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisClusterException
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # --data may stand anywhere on the line ("rejoinder admin token demo --data .rejoinder").
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--data")
    known, rest = pre.parse_known_args(argv)
    args = parser().parse_args(rest)
    args.data = known.data
    try:
        with _database(args):
            return args.func(args)
    except (RedisConnectionError, RedisTimeoutError, RedisClusterException) as exc:
        # One line that says what was tried and how to change it, never a traceback.
        print(_unreachable(exc), file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"rejoinder: these settings cannot be used:\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
