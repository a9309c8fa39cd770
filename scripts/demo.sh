#!/usr/bin/env bash
# Set up (a virtual environment with Rejoinder installed) and start the demo:
# an embedded Valkey server, a demo site, the server, and a demo blog post.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/rejoinder demo "$@"
