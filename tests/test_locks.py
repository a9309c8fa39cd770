"""The lock files (pip-compile, with hashes) say the same as pyproject.toml: the image (Dockerfile) and CI
(scripts/test.sh) install from them, so two builds of one commit install the same packages.

Make them again after changing a dependency:
    pip-compile --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \\
        --output-file requirements.lock pyproject.toml      (and --extra test for requirements-test.lock)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, flags=re.M)}


@pytest.mark.parametrize("lock,extras", [("requirements.lock", ()), ("requirements-test.lock", ("test",))])
def test_every_declared_dependency_is_pinned_with_hashes_within_its_bounds(lock: str, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    declared = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        declared += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not in {lock}: make it again (see this module's docstring)"
        assert req.specifier.contains(pinned[name], prereleases=True), (req, pinned[name], lock)
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (ROOT / lock).read_text())
    assert all("--hash=sha256:" in b for b in blocks if "==" in b.split("\n", 1)[0])


def test_the_image_and_ci_install_from_the_locks() -> None:
    assert "--require-hashes -r /tmp/requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements-test.lock" in (ROOT / "scripts" / "test.sh").read_text()
