"""The committed widget build in static/ is what the sources in widget/ build to, within budget."""

from __future__ import annotations

import shutil
import subprocess

from .conftest import ROOT


def test_committed_widget_build_is_fresh_and_within_budget() -> None:
    node = shutil.which("node")
    assert node, "Node is needed to check the widget build (scripts/test.sh installs its tools)"
    assert (ROOT / "widget" / "node_modules" / "esbuild").exists(), "run `npm ci` in widget/"
    done = subprocess.run([node, "build.mjs", "--check"], cwd=ROOT / "widget", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
