"""The README stays true: every setting is documented, and the quick start names real scripts."""

from __future__ import annotations

import os
from pathlib import Path

from rejoinder.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [f"REJOINDER_{name.upper()}" for name in Settings.model_fields
               if f"`REJOINDER_{name.upper()}`" not in readme]  # a backquoted name, alone or paired
    assert missing == []


def test_quick_start_scripts_exist_and_ci_runs_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert f"./{script}" in readme
        assert os.access(ROOT / script, os.X_OK)
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
