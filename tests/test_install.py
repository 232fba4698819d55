"""Installing fastcors: compiled by default, pure Python on request or without a compiler."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _install(tmp_path: Path, **env: str) -> tuple[Path, str]:
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv*", "build", "*.so", "*.c", "__pycache__", "results", "*.egg-info"),
    )
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "-v", "--target", target, source],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target, result.stdout + result.stderr


def _compiled_flag(site: Path) -> str:
    code = "import fastcors; print(fastcors.COMPILED)"
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("FASTCORS_NO_EXTENSIONS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=site, check=True)
    return out.stdout.strip()


def test_default_install_builds_the_extension(tmp_path: Path) -> None:
    site, _ = _install(tmp_path)
    assert list((site / "fastcors").glob("_core*.so"))
    assert _compiled_flag(site) == "True"


def test_no_extensions_variable_installs_pure_python(tmp_path: Path) -> None:
    site, log = _install(tmp_path, FASTCORS_NO_EXTENSIONS="1")
    assert "pure-Python implementation will be used" in log
    assert not list((site / "fastcors").glob("_core*.so"))
    assert _compiled_flag(site) == "False"


def test_missing_compiler_still_installs(tmp_path: Path) -> None:
    site, log = _install(tmp_path, CC="/bin/false", LDSHARED="/bin/false")
    assert "pure-Python implementation will be used" in log
    assert _compiled_flag(site) == "False"
