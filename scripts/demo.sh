#!/usr/bin/env bash
# Set up (a virtual environment with Rejoinder installed) and start the demo:
# an embedded Valkey server, a demo site, the server, and a demo blog post.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${REJOINDER_VENV:-.venv}   # the test of a fresh clone's demo points this at a new folder
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e .
exec "$VENV/bin/rejoinder" demo "$@"
