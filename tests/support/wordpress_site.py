"""A real WordPress for the tests: Debian's `wordpress` package, copied to a folder of the test's
own with a wp-config.php of its own, on a MariaDB server the test starts (its own data folder,
a Unix socket only, no network). The PHP scripts in wordpress/ run inside it with php-cli.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

WORDPRESS = Path("/usr/share/wordpress")
SCRIPTS = Path(__file__).parent / "wordpress"
TOOLS = ("mariadb-install-db", "mariadb", "php")


def missing() -> list[str]:
    """What this machine lacks to run a WordPress (.ci/run installs it)."""
    lacking = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not Path("/usr/sbin/mariadbd").exists():
        lacking.append("mariadbd")
    if not (WORDPRESS / "wp-settings.php").exists():
        lacking.append("wordpress")
    return lacking


class MariaDB:
    """A MariaDB server in a temporary folder, reachable only through its socket."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rejoinder-mariadb-"))
        self.socket = self.dir / "mysqld.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "MariaDB":
        user = ["--user=root"] if os.geteuid() == 0 else []
        data = self.dir / "data"
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user,
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.proc = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={self.socket}",
             "--skip-networking", f"--pid-file={self.dir / 'mysqld.pid'}", f"--log-error={self.dir / 'error.log'}",
             "--innodb-buffer-pool-size=32M", *user],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while subprocess.run(["mariadb-admin", f"--socket={self.socket}", "-uroot", "ping"],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"MariaDB did not start: {(self.dir / 'error.log').read_text()[-2000:]}")
            time.sleep(0.2)
        return self

    def sql(self, statement: str) -> str:
        return subprocess.run(["mariadb", f"--socket={self.socket}", "-uroot", "-N", "-e", statement],
                              check=True, capture_output=True, text=True, timeout=60).stdout

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class WordPress:
    """One WordPress site: a copy of the package, its own database on `db`, installed."""

    def __init__(self, db: MariaDB, name: str, home: str = "http://localhost") -> None:
        self.db = db
        self.name = name
        self.home = home
        self.server: subprocess.Popen[bytes] | None = None
        self.root = db.dir / name
        shutil.copytree(WORDPRESS, self.root, symlinks=False)
        for script in SCRIPTS.glob("*.php"):
            shutil.copy(script, self.root / script.name)
        db.sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        salts = "\n".join(f"define('{k}', '{secrets.token_hex(24)}');" for k in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT",
            "LOGGED_IN_SALT", "NONCE_SALT"))
        (self.root / "wp-config.php").write_text(f"""<?php
define('DB_NAME', '{name}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{db.socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
$table_prefix = 'wp_';
define('WP_HOME', '{home}');
define('WP_SITEURL', '{home}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_AUTO_UPDATE_CORE', false);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('DISABLE_WP_CRON', true);
define('WP_DEBUG', false);
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
""")
        self.php("install.php")

    def php(self, script: str, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(["php", "-d", "display_errors=stderr", str(self.root / script), *args],
                                input=stdin, capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{script} failed ({result.returncode}): {result.stderr[-3000:]}")
        return result.stdout

    def serve(self, port: int) -> "WordPress":
        """Serve it over HTTP with PHP's built-in server on 127.0.0.1 (its home must name that port)."""
        # Its own process group: PHP forks its workers, and stop() ends them all.
        self.server = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", str(self.root)], cwd=self.root,
                                       env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        import socket

        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return self
            if time.monotonic() > deadline or self.server.poll() is not None:
                raise RuntimeError("PHP's server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.server is not None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.server.wait(10)
        self.server = None

    def seed(self, posts: list[dict[str, Any]]) -> dict[str, int]:
        return json.loads(self.php("seed.php", stdin=json.dumps(posts)))

    def export(self) -> bytes:
        return self.php("export.php").encode()

    def import_wxr(self, path: Path) -> dict[str, int]:
        return json.loads(self.php("import-wxr.php", str(path)))

    def dump(self) -> dict[str, Any]:
        return json.loads(self.php("dump.php"))
