"""Every behavioural test takes `impl`: the compiled module, then the pure-Python twin.

On a free-threaded interpreter the run fails if the GIL is on: forced by PYTHON_GIL, or
turned back on by importing a module not declared free-threading safe (fastcors, or anything
the tests import). Checked at the start, after collection (the imports) and at the end.
"""

from __future__ import annotations

import os
import sys
import sysconfig
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

    gil = f", free-threaded, GIL enabled: {sys._is_gil_enabled()}" if FREE_THREADED else ""
    return f"fastcors: COMPILED={fastcors.COMPILED} (default implementation){gil}"


FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_problem(when: str) -> str | None:
    if not FREE_THREADED:
        return None
    if "PYTHON_GIL" in os.environ:
        return f"PYTHON_GIL is set ({os.environ['PYTHON_GIL']!r}): unset it, the tests must run as users run"
    if sys._is_gil_enabled():
        return f"the GIL is enabled {when}: a module imported without free-threading support turned it on"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    problem = gil_problem("at the start of the session")
    if problem:
        raise pytest.UsageError(problem)


def pytest_collection_finish(session: pytest.Session) -> None:
    problem = gil_problem("once the tests were imported")
    if problem:
        raise pytest.UsageError(problem)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    problem = gil_problem("at the end of the session")
    if problem:
        print(f"\nFAILED: {problem}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
