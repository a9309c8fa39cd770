"""`rejoinder demo`: embedded database, a demo site, and the server, stopped cleanly on Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

from .datadir import DEMO_FOLDER, DataDir, Supervised
from .settings import Settings

log = logging.getLogger("rejoinder.demo")
SITE_ID = "demo"


async def _register(settings: Settings, page_origin: str) -> str:
    """The demo site, registered for the demo page's origin; returns a one-time dashboard link."""
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


def run(args: argparse.Namespace) -> int:
    import uvicorn

    folder = DataDir(args.data or DEMO_FOLDER)
    db = Supervised(folder).start()
    provider, provider_env = (None, {}) if args.no_local_login else _local_provider(
        args.port + 1, f"http://localhost:{args.port}")
    try:
        # The page and the widget on two sites (127.0.0.1 vs localhost), so the
        # demo runs the same cross-site path a real blog does.
        settings = Settings.from_env(
            {**os.environ, **provider_env}, redis_url=db.url, port=args.port, host="127.0.0.1",
            public_url=f"http://localhost:{args.port}", secret_key=folder.secret_key(),
            demo_page=True)
        folder.remember_public_url(settings.public_url)
        page_origin = f"http://127.0.0.1:{args.port}"
        dashboard = asyncio.run(_register(settings, page_origin))
        from .app import create_app

        login = f"local test provider on port {args.port + 1}" if provider else "off"
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
        if provider is not None:
            provider.terminate()
            provider.wait(10)
        db.stop()
    return 0
