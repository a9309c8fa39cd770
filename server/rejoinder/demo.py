"""`rejoinder demo`: embedded database, a demo site, and the server, stopped cleanly on Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .datadir import DEMO_FOLDER, DataDir, Supervised
from .settings import Settings

log = logging.getLogger("rejoinder.demo")
SITE_ID = "demo"


# The demo post's first conversation (written for the demo), so a new user sees a thread, replies and likes.
SEED_PAGE, SEED_TITLE = "demo-post", "The slow pleasure of mending things"
SEED = [
    ("Grace Hopper", "I darned my socks after reading this. The first one looks *terrible*, the second one "
                     "almost passable. Thank you for the nudge!", None),
    ("Linus", "Mine too! A tip: use a lighter thread than the sock so the darn does not make a ridge under "
              "your heel.", 0),
    ("Grace Hopper", "Great tip, thanks.", 1),
    ("Margaret", "The chair story made me smile. Ours has been wobbling for two years; this weekend it gets "
                 "`wood glue` and a clamp.", None),
]


async def _seed(st: Any, settings: Settings) -> None:
    """Write the demo post's first comments, as guests writing them would have (once per data folder)."""
    import time

    from .auth.identity import keyed_hash
    from .render import render
    from .store import keys

    tid = keys.thread_id(SITE_ID, SEED_PAGE)
    now = int(time.time() * 1000)
    await st.comments.open_thread(tid, order="oldest", cursor=None, limit=1, inline=0, liker="",
                                  create={"site": SITE_ID, "page": SEED_PAGE, "url": "", "title": SEED_TITLE,
                                          "now": str(now)})
    ids: list[int] = []
    for i, (name, text, parent) in enumerate(SEED):
        owner = f"g:{keyed_hash(settings.secret_key, f'demo-seed:{name}')}"
        avatar = f"/api/avatars/{keyed_hash(settings.secret_key, 'avatar:' + name.lower(), 20)}.svg"
        doc = {"author": {"kind": "guest", "name": name, "website": "", "avatar": avatar}, "email": "",
               "text": text, "html": render(text), "created": now - (len(SEED) - i) * 600_000, "status": "approved",
               "spam_reasons": "", "owner": owner, "edit_hash": "", "ip": "", "site": SITE_ID}
        written = await st.comments.create(tid, doc, ids[parent] if parent is not None else None,
                                           idempotency=f"demo-seed-{i}", fingerprint=f"demo-seed-{i}")
        ids.append(written.doc["id"])
        await st.feed.announce(SITE_ID, tid, "comment.created",
                               pointer=(written.doc["id"], "approved", written.doc["created"]))
    await st.comments.set_like(tid, "post", "g:demo-seed-like", True)
    await st.comments.set_like(tid, str(ids[0]), "g:demo-seed-like", True)


async def _register(settings: Settings, page_origin: str, seed: bool = False, mastodon: str = "") -> str:
    """The demo site, registered for the demo page's origin (its post seeded with a first conversation when
    `seed`, and following `mastodon`'s replies when given); returns a one-time dashboard link."""
    from .app import build_state, connect
    from .store.sites import Site

    redis = connect(settings)
    try:
        st = build_state(settings, redis)
        site = await st.sites.get(SITE_ID) or Site(id=SITE_ID, name="The Demo Blog")
        site.origins = sorted(set(site.origins) | {page_origin})
        if not await st.sites.create(site):
            await st.sites.update(site)
        await st.origins.rebuild({o for s in await st.sites.list() for o in s.origins})
        if seed:
            await _seed(st, settings)
        if mastodon:
            from .store import keys

            # As an admin links a thread to its post: the stand-in's ids are the same at every start, so
            # the replies already brought in are recognised, not brought in twice.
            await st.remote.link(SITE_ID, keys.thread_id(SITE_ID, SEED_PAGE), "mastodon", mastodon, by_admin=True)
        token = await st.admins.issue_link(SITE_ID, settings.admin_link_minutes * 60)
        return f"{settings.public_url}/admin/#token={token}"
    finally:
        await redis.aclose()


def _local_provider(port: int, redirect_base: str) -> tuple[subprocess.Popen[bytes] | None, dict[str, str]]:
    """From a clone, start the tests' local OAuth provider so every sign-in button works
    without registering apps. Installed from a wheel (no tests/), login stays off."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tests" / "support" / "oauth_provider.py").exists():
        return None, {}
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.support.oauth_provider import app_env

    proc = subprocess.Popen([sys.executable, "-m", "tests.support.oauth_provider", "--port", str(port),
                             "--redirect-base", redirect_base], cwd=root)
    return proc, app_env(f"http://127.0.0.1:{port}")


# The demo post's conversation on the local Mastodon stand-in (written for the demo): a status of the blog's
# author and two replies, which the worker brings into the post's thread.
FEDIVERSE = [("author", "New on the blog: the slow pleasure of mending things.", None),
             ("ada", "Mending my jacket's elbow tonight because of this post.", 0),
             ("brian", "Sashiko for the elbows! It looks better than new.", 1)]


def _local_fediverse(port: int) -> tuple[subprocess.Popen[bytes] | None, str]:
    """From a clone, start the tests' local Mastodon server (a stand-in for the fediverse: "Log in with
    Mastodon" by typing its address, and the demo post's replies there), and post the demo's conversation
    on it. Returns the process and the status to follow ("" when it could not start)."""
    import httpx2

    root = Path(__file__).resolve().parents[2]
    if not (root / "tests" / "support" / "mastodon_server.py").exists():
        return None, ""
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.mastodon_server", "--port", str(port)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    import time

    for _ in range(100):
        try:
            posted: list[dict[str, str]] = []
            for name, text, parent in FEDIVERSE:
                body = {"username": name, "content": text, "display_name": name.title()}
                if parent is not None:
                    body["in_reply_to_id"] = posted[parent]["id"]
                posted.append(httpx2.post(f"{base}/_admin/statuses", json=body, timeout=5).json())
            httpx2.post(f"{base}/_admin/statuses", json={"id": posted[0]["id"], "favourites": 12, "reblogs": 4},
                       timeout=5)
            return proc, posted[0]["url"]
        except httpx2.HTTPError:
            if proc.poll() is not None:
                return None, ""
            time.sleep(0.1)
    proc.terminate()
    return None, ""


def _local_atproto(port: int) -> tuple[subprocess.Popen[bytes] | None, dict[str, str]]:
    """From a clone, start the tests' local AT Protocol stand-in (a PLC directory, a PDS and its OAuth server:
    "Log in with Bluesky" as ann.test or bob.test) and the settings that point sign-in at it."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tests" / "support" / "atproto_pds.py").exists():
        return None, {"REJOINDER_BLUESKY_LOGIN": "false"}  # the real network is not the demo's to use
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.atproto_pds", "--port", str(port)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    # It answers resolveHandle and getProfile for its accounts: all that sign-in asks of an AppView.
    return proc, {"REJOINDER_BLUESKY_PLC": f"{base}/plc", "REJOINDER_BLUESKY_APPVIEW": base}


def run(args: argparse.Namespace) -> int:
    import uvicorn

    folder = DataDir(args.data or DEMO_FOLDER)
    db = Supervised(folder).start()
    provider, provider_env = (None, {}) if args.no_local_login else _local_provider(
        args.port + 1, f"http://localhost:{args.port}")
    fediverse, status = (None, "") if args.no_local_login else _local_fediverse(args.port + 2)
    atproto, atproto_env = (None, {"REJOINDER_BLUESKY_LOGIN": "false"}) if args.no_local_login \
        else _local_atproto(args.port + 3)
    provider_env = {**provider_env, **atproto_env}
    if fediverse is not None or atproto is not None:
        # The stand-ins listen on 127.0.0.1: let the demo reach them, and look at the post often.
        provider_env = {**provider_env, "REJOINDER_FETCH_PRIVATE_OK": "1", "REJOINDER_REMOTE_POLL_SECONDS": "5"}
    try:
        # The page and the widget on two sites (127.0.0.1 vs localhost), so the
        # demo runs the same cross-site path a real blog does.
        settings = Settings.from_env(
            {**os.environ, **provider_env}, redis_url=db.url, port=args.port, host="127.0.0.1",
            public_url=f"http://localhost:{args.port}", secret_key=folder.secret_key(),
            demo_page=True)
        folder.remember_public_url(settings.public_url)
        page_origin = f"http://127.0.0.1:{args.port}"
        seeded = folder.path / "seeded"
        dashboard = asyncio.run(_register(settings, page_origin, seed=not seeded.exists(), mastodon=status))
        seeded.touch()
        from .app import create_app

        login = f"local test provider on port {args.port + 1}" if provider else "off"
        if fediverse is not None:
            login += (f"; Mastodon: type http://127.0.0.1:{args.port + 2} (a local stand-in, whose replies "
                      "to the post show in its thread)")
        if atproto is not None:
            login += "; Bluesky: type ann.test or bob.test (a local stand-in)"
        found = "other commands find it from here" if args.data is None else f"give other commands --data {args.data}"
        print(f"\n  Rejoinder demo\n  blog post with comments: {page_origin}/demo/\n"
              f"  moderation dashboard (one-time link, {settings.admin_link_minutes} min): {dashboard}\n"
              f"  API: {settings.public_url}/api/openapi.json\n"
              f"  sign-in: {login}\n  data: {folder.path.resolve()}"
              f" ({found}: rejoinder admin token {SITE_ID})\n  Ctrl-C stops.\n",
              flush=True)
        from .serving import uvicorn_options

        uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port,
                    **{**uvicorn_options(settings), "log_level": "warning"})
    finally:
        for child in (provider, fediverse, atproto):
            if child is not None:
                child.terminate()
                child.wait(10)
        db.stop()
    return 0
