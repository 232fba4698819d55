"""What every run in a generation env checks before it counts (a pytest plugin, -p
generations.env_checks, and called by the case scripts): the Starlette the env was made for (or
none), this checkout's fastcors, its compiled extension loadable, and the implementation chosen
by FASTCORS_NO_EXTENSIONS the one in force. For Starlette's own tests (FASTCORS_UPSTREAM set):
test_cors.py's CORSMiddleware is the middleware named there."""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def installed_starlette() -> str:
    try:
        return version("starlette")
    except PackageNotFoundError:
        return "none"


def problems() -> list[str]:
    import fastcors
    from fastcors import _loader

    found = []
    expected = os.environ.get("FASTCORS_EXPECT_STARLETTE")
    if installed_starlette() != expected:
        found.append(f"Starlette {installed_starlette()} installed, {expected} expected")
    if expected == "none" and importlib.util.find_spec("starlette") is not None:
        found.append("starlette is importable in the env without Starlette")
    if Path(fastcors.__file__).resolve().parent != ROOT / "fastcors":
        found.append(f"fastcors imported from {fastcors.__file__}, not from {ROOT}")
    try:
        _loader.load_compiled()
    except ImportError as exc:
        found.append(f"the compiled extension does not load: {exc}")
    if _loader.extensions_disabled() == fastcors.COMPILED:
        setting = os.environ.get(_loader.ENV_VAR, "")
        found.append(f"fastcors.COMPILED is {fastcors.COMPILED} with {_loader.ENV_VAR}={setting!r}")
    return found


def check() -> None:
    found = problems()
    if found:
        raise SystemExit("generation env: " + "; ".join(found))


def pytest_configure(config: pytest.Config) -> None:
    found = problems()
    if found:
        raise pytest.UsageError("generation env: " + "; ".join(found))


def pytest_report_header(config: pytest.Config) -> str:
    import fastcors

    return f"generation env: Starlette {installed_starlette()}, fastcors COMPILED={fastcors.COMPILED}, {generation()}"


def generation() -> str:
    """Which generation fastcors says is in force, if it says (shown, not relied on)."""
    import fastcors

    try:
        middleware = fastcors.CORSMiddleware(None)
    except Exception as exc:
        return f"default construction failed: {exc!r}"
    in_force = getattr(getattr(middleware, "config", None), "generation", None)
    return f"generation in force: {getattr(in_force, 'releases', in_force)}"


def pytest_collection_finish(session: pytest.Session) -> None:
    middleware = os.environ.get("FASTCORS_UPSTREAM")
    if not middleware:
        return
    module = sys.modules.get("tests.middleware.test_cors")
    tested = getattr(module, "CORSMiddleware", None)
    if middleware == "fastcors":
        import fastcors

        expected = fastcors.CORSMiddleware
    else:
        from starlette.middleware.cors import CORSMiddleware as expected
    if tested is not expected:
        raise pytest.UsageError(f"test_cors.py tests {tested!r}, not {middleware}'s CORSMiddleware")
