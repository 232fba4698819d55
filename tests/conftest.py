"""Every behavioural test takes `impl`: the compiled module, then the pure-Python twin."""

from __future__ import annotations

import os
from types import ModuleType

import pytest

from fastcors import _loader

IN_CI = bool(os.environ.get("CI"))


def _compiled_or_skip() -> ModuleType:
    try:
        return _loader.load_compiled()
    except ImportError as exc:
        if IN_CI:
            pytest.fail(f"the compiled extension is required in CI: {exc}")
        pytest.skip(f"compiled extension not built: {exc}")


@pytest.fixture(params=["compiled", "python"], scope="session")
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "compiled":
        return _compiled_or_skip()
    return _loader.load_pure_python()


def pytest_report_header(config: pytest.Config) -> str:
    import fastcors

    return f"fastcors: COMPILED={fastcors.COMPILED} (default implementation)"
