#!/usr/bin/env bash
# Set up the test dependencies (Python packages, Chromium for the browser tests,
# the widget's build tools) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# The packages exactly as locked (versions and hashes), then Rejoinder itself from this checkout.
.venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-test.lock
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation >/dev/null
  else
    echo "Chromium is missing: run this as root once, or: sudo apt-get install --no-install-recommends chromium fonts-liberation" >&2
    exit 1
  fi
fi

# CJK text in the browser tests' screenshots (Japanese, Chinese, Korean threads) needs a font that has it.
if [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-wqy-zenhei >/dev/null
  else
    echo "A CJK font is missing: run this as root once, or: sudo apt-get install --no-install-recommends fonts-wqy-zenhei" >&2
    exit 1
  fi
fi

# The integration tests build real sites: Debian's WordPress (with PHP and a MariaDB server the test
# starts), Hugo and Jekyll.
if ! command -v php >/dev/null || ! php -m | grep -qi '^simplexml$' || [ ! -x /usr/sbin/mariadbd ] \
    || [ ! -f /usr/share/wordpress/wp-settings.php ] || ! command -v hugo >/dev/null || ! command -v jekyll >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      wordpress mariadb-server php-cli php-mysql php-xml hugo jekyll >/dev/null
  else
    echo "Site builders are missing: run this as root once, or: sudo apt-get install --no-install-recommends wordpress mariadb-server php-cli php-mysql php-xml hugo jekyll" >&2
    exit 1
  fi
fi

# The widget's build tools, so the tests can check the committed build is not stale.
if [ -f widget/package-lock.json ]; then
  (cd widget && npm ci --no-audit --no-fund --loglevel=error)
fi
# The npm site generators the integration tests build real sites with (Eleventy, Astro).
if [ -f tests/browser/sites/package-lock.json ]; then
  (cd tests/browser/sites && npm ci --no-audit --no-fund --loglevel=error)
fi

exec .venv/bin/pytest "$@"
