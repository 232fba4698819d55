"""Fixtures for the real-world tests: implementations to serve, an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything here starts real processes or browsers: mark it slow, so that
    # `-m "not slow"` leaves it out.
    for item in items:
        if "realworld" in item.path.parts:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    # Bounded: every call has a timeout, no retries, loopback only.
    with httpx.Client(timeout=10.0) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The browser verdict table: case x middleware variant ("=": same as the first variant)."""
    from .rw_support import BROWSER_VERDICTS

    if not BROWSER_VERDICTS:
        return
    variants = list(BROWSER_VERDICTS)
    first = BROWSER_VERDICTS[variants[0]]
    case_width = max(len(case) for case in first)
    verdict_width = max(len(verdict) for verdict in first.values())
    terminalreporter.section("browser CORS verdicts: what JavaScript got | what the API server received")
    header = f"{'case':<{case_width}}  {variants[0] + ' verdict':<{verdict_width}}  " + "  ".join(variants[1:])
    terminalreporter.write_line(header)
    for case, verdict in first.items():
        others = []
        for variant in variants[1:]:
            got = BROWSER_VERDICTS[variant].get(case, "-")
            others.append(f"{'=' if got == verdict else got:<{len(variant)}}")
        terminalreporter.write_line(f"{case:<{case_width}}  {verdict:<{verdict_width}}  " + "  ".join(others))
