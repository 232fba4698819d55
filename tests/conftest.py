"""Every behavioural test takes `impl`: the compiled module, then the pure-Python twin."""

from __future__ import annotations

from types import ModuleType

import pytest
from asgi_harness import compiled_module

from fastcors import _loader


@pytest.fixture(params=["compiled", "python"], scope="session")
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "compiled":
        return compiled_module()
    return _loader.load_pure_python()


def pytest_report_header(config: pytest.Config) -> str:
    import fastcors

    return f"fastcors: COMPILED={fastcors.COMPILED} (default implementation)"
