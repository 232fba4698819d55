"""Fixtures for the real-world tests: an HTTP client, the browser; the verdict tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The session's one headless Chromium, shared by the browser suites.

    It resolves the test host names (*.example.test, the look-alike evilexample.test) to
    loopback; the suites that do not use them are unaffected.
    """
    from .rw_browser import HOST_RESOLVER_RULES, chromium

    with chromium([f"--host-resolver-rules={HOST_RESOLVER_RULES}"]) as driver:
        yield driver


@pytest.fixture(scope="session")
def pages() -> Iterator[dict[str, str]]:
    """The two page origins, PAGE and OTHER (see rw_browser), each served by a page server."""
    from .rw_browser import OTHER, PAGE, page_server

    with page_server() as page_port, page_server() as other_port:
        yield {PAGE: f"http://127.0.0.1:{page_port}", OTHER: f"http://localhost:{other_port}"}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The verdict tables of the browser and WebSocket suites: row x column ("=": same as the row's first column)."""
    from .rw_support import VERDICT_TABLES

    for table in VERDICT_TABLES.values():
        columns = table.columns()
        if not columns:
            continue
        rows = {row: [table.cell(row, column) for column in columns] for row in table.cells}
        row_width = max(len(table.row_name), *(len(row) for row in rows))
        first_width = max(len(columns[0]) + len(" verdict"), *(len(cells[0]) for cells in rows.values()))
        terminalreporter.section(table.title)
        header = f"{table.row_name:<{row_width}}  {columns[0] + ' verdict':<{first_width}}  " + "  ".join(columns[1:])
        terminalreporter.write_line(header.rstrip())
        for row, cells in rows.items():
            pairs = zip(cells[1:], columns[1:], strict=True)
            others = [f"{'=' if cell == cells[0] else cell:<{len(column)}}" for cell, column in pairs]
            line = f"{row:<{row_width}}  {cells[0]:<{first_width}}  {'  '.join(others)}"
            terminalreporter.write_line(line.rstrip())
