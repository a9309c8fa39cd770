"""`rejoinder demo`: embedded database, a demo site, and the server, stopped cleanly on Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
from pathlib import Path

from .embedded import EmbeddedRedis
from .settings import Settings

log = logging.getLogger("rejoinder.demo")
SITE_ID = "demo"


async def _register(settings: Settings, page_origin: str) -> None:
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
    finally:
        await redis.aclose()


def run(args: argparse.Namespace) -> int:
    import uvicorn

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    secret_file = data / "secret-key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    db = EmbeddedRedis(data / "valkey").start()
    try:
        # The page and the widget on two sites (127.0.0.1 vs localhost), so the
        # demo runs the same cross-site path a real blog does.
        settings = Settings.from_env(
            redis_url=db.url, port=args.port, host="127.0.0.1",
            public_url=f"http://localhost:{args.port}", secret_key=secret_file.read_text().strip(),
            demo_page=True)
        page_origin = f"http://127.0.0.1:{args.port}"
        asyncio.run(_register(settings, page_origin))
        from .app import create_app

        print(f"\n  Rejoinder demo\n  blog post with comments: {page_origin}/demo/\n"
              f"  API: {settings.public_url}/api/openapi.json\n  data: {data.resolve()}\n  Ctrl-C stops.\n",
              flush=True)
        from .__main__ import uvicorn_options

        uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port,
                    **{**uvicorn_options(settings), "log_level": "warning"})
    finally:
        db.stop()
    return 0
