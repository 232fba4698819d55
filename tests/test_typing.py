"""What users' type checkers see: mypy --strict and pyright on a small user module, against
fastcors installed as users install it (not the checkout). The module passes; a misspelt
argument is reported by both. They read `_core.py` itself, its Cython decorators seen through
the shim's plain ones."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from asgi_harness import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.typing]

ROOT = Path(__file__).resolve().parent.parent

USER_MODULE = """
# pyright: strict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from fastcors import CORSHandle, CORSMiddleware, CORSSettings, Problem, check_config

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

SETTINGS = CORSSettings(allow_origins=["https://app.example.com"], allow_credentials=True)
handle = CORSHandle()
app = Starlette(middleware=[Middleware(CORSMiddleware, allow_origins=["https://a.example"], max_age=60)])
app.add_middleware(CORSMiddleware, allow_origins=["https://b.example"], handle=handle, strict=True)


def wrap(inner: ASGIApp) -> CORSMiddleware:
    middleware = CORSMiddleware(inner, allow_origins=["https://c.example"], allow_origin_func=str.islower)
    middleware.reconfigure(middleware.settings, allow_origins=["https://d.example"])
    return middleware


class MyCORS(CORSMiddleware):
    pass


problems: list[Problem] = check_config(allow_origins=["https://e.example/"])
handle.reconfigure(SETTINGS, allow_origins=["https://f.example"])
app.add_middleware(CORSMiddleware, **SETTINGS.validate().arguments())
"""

TYPO = "CORSMiddleware(app, allow_orgins=['https://a.example'])"
WRONG_TYPE = "check_config(max_age='600')"


@pytest.fixture(scope="module")
def checked_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding fastcors installed from a clean copy (not editable, which type
    checkers cannot follow), and the test environment's packages (Starlette) behind it."""
    for tool in ("mypy", "pyright"):
        if importlib.util.find_spec(tool) is None:
            unavailable(f"{tool} is not installed (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("typing")
    source = root / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "build", "*.so", "*.c", "tests", "bench", "fuzz", "__pycache__", "*.egg-info"
        ),
    )
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", target, source],
        env={**os.environ, "FASTCORS_NO_EXTENSIONS": "1"},
        check=True,
        capture_output=True,
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([python, "-c", where], check=True, capture_output=True, text=True).stdout.strip())
    (site / "checked.pth").write_text(f"{target}\n{sysconfig.get_paths()['purelib']}\n")
    return python


def run_checkers(python: Path, tmp_path: Path, source: str) -> dict[str, subprocess.CompletedProcess[str]]:
    module = tmp_path / "user_app.py"
    module.write_text(textwrap.dedent(source))
    mypy = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--python-executable",
        python,
        "--cache-dir",
        tmp_path / ".mypy",
        "--no-error-summary",
        module,
    ]
    pyright = [sys.executable, "-m", "pyright", "--pythonpath", python, module]
    return {
        name: subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd=tmp_path)
        for name, command in (("mypy", mypy), ("pyright", pyright))
    }


def test_a_user_module_passes_both_checkers(checked_env: Path, tmp_path: Path) -> None:
    for name, result in run_checkers(checked_env, tmp_path, USER_MODULE).items():
        assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"


def test_a_misspelt_argument_is_reported_by_both(checked_env: Path, tmp_path: Path) -> None:
    results = run_checkers(checked_env, tmp_path, USER_MODULE + TYPO + "\n")
    for name, result in results.items():
        assert result.returncode != 0, f"{name} missed the typo:\n{result.stdout}"
        assert "allow_orgins" in result.stdout, f"{name}:\n{result.stdout}"


def test_a_wrong_type_for_check_config_is_reported_by_both(checked_env: Path, tmp_path: Path) -> None:
    results = run_checkers(checked_env, tmp_path, USER_MODULE + WRONG_TYPE + "\n")
    for name, result in results.items():
        assert result.returncode != 0, f"{name} missed the str max_age:\n{result.stdout}"
        assert "max_age" in result.stdout, f"{name}:\n{result.stdout}"


def test_the_checkers_see_the_class_and_its_parameters(checked_env: Path, tmp_path: Path) -> None:
    source = USER_MODULE + "reveal_type(CORSMiddleware.__init__)\nreveal_type(wrap)\n"
    for name, result in run_checkers(checked_env, tmp_path, source).items():
        assert "allow_origins: Collection[str]" in result.stdout.replace("typing.", ""), f"{name}:\n{result.stdout}"
        assert "-> CORSMiddleware" in result.stdout.replace("fastcors._core.", ""), f"{name}:\n{result.stdout}"
