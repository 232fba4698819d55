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
    """The verdict tables: the browser CORS one, then those of the pattern and WebSocket suites."""
    from .rw_support import BROWSER_VERDICTS, VERDICT_TABLES

    if BROWSER_VERDICTS:
        _write_browser_verdicts(terminalreporter, BROWSER_VERDICTS)
    for table in VERDICT_TABLES.values():
        _write_table(terminalreporter, table)


def _write_browser_verdicts(terminalreporter: pytest.TerminalReporter, verdicts: dict[str, dict[str, str]]) -> None:
    """The browser verdict table: case x middleware variant ("=": same as the first variant)."""
    variants = list(verdicts)
    first = verdicts[variants[0]]
    case_width = max(len(case) for case in first)
    verdict_width = max(len(verdict) for verdict in first.values())
    terminalreporter.section("browser CORS verdicts: what JavaScript got | what the API server received")
    header = f"{'case':<{case_width}}  {variants[0] + ' verdict':<{verdict_width}}  " + "  ".join(variants[1:])
    terminalreporter.write_line(header)
    for case, verdict in first.items():
        others = []
        for variant in variants[1:]:
            got = verdicts[variant].get(case, "-")
            others.append(f"{'=' if got == verdict else got:<{len(variant)}}")
        terminalreporter.write_line(f"{case:<{case_width}}  {verdict:<{verdict_width}}  " + "  ".join(others))


def _write_table(terminalreporter: pytest.TerminalReporter, table: Any) -> None:
    """A VerdictTable: row x column ("=": same as the row's first column)."""
    columns = table.columns()
    if not columns:
        return
    rows = {row: [table.cell(row, column) for column in columns] for row in table.cells}
    row_width = max(len(table.row_name), *(len(row) for row in rows))
    first_width = max(len(columns[0]) + len(" verdict"), *(len(cells[0]) for cells in rows.values()))
    terminalreporter.section(table.title)
    header = f"{table.row_name:<{row_width}}  {columns[0] + ' verdict':<{first_width}}  " + "  ".join(columns[1:])
    terminalreporter.write_line(header.rstrip())
    for row, cells in rows.items():
        pairs = zip(cells[1:], columns[1:], strict=True)
        others = [f"{'=' if cell == cells[0] else cell:<{len(column)}}" for cell, column in pairs]
        terminalreporter.write_line(f"{row:<{row_width}}  {cells[0]:<{first_width}}  {'  '.join(others)}".rstrip())
