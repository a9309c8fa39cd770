"""The Dockerfile stays lint-clean and in step with the README install (no Docker engine here to build it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HADOLINT = Path(sys.executable).with_name("hadolint")


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([str(HADOLINT), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_the_readme_install_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --no-deps /wheels/*.whl" in dockerfile  # the wheel, as `pip install .` builds it
    assert "USER 10001" in dockerfile and "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert 'CMD ["serve"]' in dockerfile
    assert "pip install ." in (ROOT / "README.md").read_text()
    assert "node build.mjs" in dockerfile and (ROOT / "widget" / "build.mjs").exists()


def test_wheel_ships_the_widget_and_scripts(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    import zipfile
    names = zipfile.ZipFile(next(tmp_path.glob("rejoinder-*.whl"))).namelist()
    for needed in ("rejoinder/static/embed.js", "rejoinder/static/frame.html", "rejoinder/static/frame.js",
                   "rejoinder/store/lua/create_comment.lua"):
        assert needed in names
