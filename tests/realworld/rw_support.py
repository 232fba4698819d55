"""Real server processes on loopback, for the real-world tests, and the verdict tables.

The processes are started, awaited and stopped by bench.launch (also the benchmark's).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asgi_harness import compiled_module, require_modules

from bench.launch import HOST, ServerError, ServerProcess, free_port

HERE = Path(__file__).resolve().parent


def fastcors_home() -> str:
    """The directory holding the fastcors package that this process imports."""
    import fastcors

    return str(Path(fastcors.__file__).resolve().parent.parent)


@dataclass(frozen=True)
class ServerKind:
    """One way of serving an ASGI app: a server, its event loop and its HTTP parser."""

    name: str
    modules: tuple[str, ...]  # Python packages the server needs
    argv: Callable[[str, int], list[str]]  # (module:attr target, port) -> command line


def _uvicorn(*extra: str) -> Callable[[str, int], list[str]]:
    # --interface is left at its default, auto: the ASGI 2/3 detection is part of the test.
    return lambda target, port: [
        sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port),
        "--log-level", "warning", *extra,
    ]  # fmt: skip


def _hypercorn(worker_class: str) -> Callable[[str, int], list[str]]:
    return lambda target, port: [
        sys.executable, "-m", "hypercorn", target, "--bind", f"{HOST}:{port}", "--worker-class", worker_class,
    ]  # fmt: skip


def _granian(target: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", str(port),
        "--workers", "1", "--log-level", "warning", target,
    ]  # fmt: skip


SERVERS: dict[str, ServerKind] = {
    kind.name: kind
    for kind in [
        ServerKind("uvicorn", ("uvicorn",), _uvicorn()),
        ServerKind("uvicorn-asyncio-h11", ("uvicorn", "h11"), _uvicorn("--loop", "asyncio", "--http", "h11")),
        ServerKind(
            "uvicorn-uvloop-httptools",
            ("uvicorn", "uvloop", "httptools"),
            _uvicorn("--loop", "uvloop", "--http", "httptools"),
        ),
        ServerKind("hypercorn-asyncio", ("hypercorn",), _hypercorn("asyncio")),
        ServerKind("hypercorn-uvloop", ("hypercorn", "uvloop"), _hypercorn("uvloop")),
        ServerKind("hypercorn-trio", ("hypercorn", "trio"), _hypercorn("trio")),
        ServerKind("granian", ("granian",), _granian),
    ]
}


# The WebSocket protocol implementations each server offers, for the WebSocket tests.
WEBSOCKET_SERVERS: dict[str, ServerKind] = {
    kind.name: kind
    for kind in [
        ServerKind("uvicorn-websockets", ("uvicorn", "websockets"), _uvicorn("--ws", "websockets")),
        ServerKind("uvicorn-websockets-sansio", ("uvicorn", "websockets"), _uvicorn("--ws", "websockets-sansio")),
        ServerKind("uvicorn-wsproto", ("uvicorn", "wsproto"), _uvicorn("--ws", "wsproto")),
        ServerKind("hypercorn-asyncio", ("hypercorn",), _hypercorn("asyncio")),
        ServerKind("hypercorn-trio", ("hypercorn", "trio"), _hypercorn("trio")),
        ServerKind("granian", ("granian",), _granian),
    ]
}


IMPLS = ["compiled", "python"]


def impl_env(impl: str) -> dict[str, str]:
    """Environment changes that select a fastcors implementation in a server process.

    A server asked for the compiled extension must have it: skip locally, fail in CI.
    """
    if impl == "python":
        return {"FASTCORS_NO_EXTENSIONS": "1"}
    if impl == "compiled":
        compiled_module()
        return {"FASTCORS_NO_EXTENSIONS": ""}
    raise ValueError(impl)


def server_process(server: str | ServerKind, target: str, env: dict[str, str]) -> ServerProcess:
    """`server` (a ServerKind or the name of one here) to serve `target` (module:attr under
    tests/realworld), not started yet."""
    kind = server if isinstance(server, ServerKind) else {**SERVERS, **WEBSOCKET_SERVERS}[server]
    require_modules(*kind.modules)
    port = free_port()
    # The server must import the very fastcors this test process imports (a checkout, an
    # editable or a regular install), and the apps under tests/realworld.
    path = os.pathsep.join([fastcors_home(), str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])
    environment = {**os.environ, **env, "PYTHONPATH": path}
    return ServerProcess(kind.argv(target, port), port, f"{kind.name} serving {target}", environment, HERE)


@contextlib.contextmanager
def serving(
    server: str | ServerKind, target: str, env: dict[str, str], ready_path: str = "/"
) -> Iterator[ServerProcess]:
    """`server` serving `target` until the block ends; a server that does not start fails the test."""
    with started(server_process(server, target, env), ready_path=ready_path) as process:
        yield process


@contextlib.contextmanager
def started(process: ServerProcess, **start: Any) -> Iterator[ServerProcess]:
    """`process` running for the block (`start` for its start method); one that does not start fails the test."""
    try:
        process.start(**start)
    except ServerError as exc:
        pytest.fail(str(exc))
    try:
        yield process
    finally:
        process.stop()


@dataclass
class VerdictTable:
    """A verdict table printed at the end of the run (conftest): one row per case, a column per variant.

    Several sources (the two fastcors implementations) may record the same cell: it shows the
    verdict once when they agree, each source's verdict otherwise.
    """

    title: str
    row_name: str = "case"
    cells: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # row -> column -> source -> verdict

    def record(self, row: str, column: str, verdict: str, source: str = "") -> None:
        self.cells.setdefault(row, {}).setdefault(column, {})[source] = verdict

    def columns(self) -> list[str]:
        return list(dict.fromkeys(column for row in self.cells.values() for column in row))

    def cell(self, row: str, column: str) -> str:
        by_source = self.cells[row].get(column)
        if not by_source:
            return "-"
        if len(set(by_source.values())) == 1:
            return next(iter(by_source.values()))
        return "; ".join(f"{source}: {verdict}" for source, verdict in by_source.items())


# The verdict tables of the browser and WebSocket suites, by title, printed at the end of the
# run (conftest.pytest_terminal_summary).
VERDICT_TABLES: dict[str, VerdictTable] = {}


def verdict_table(title: str, row_name: str = "case") -> VerdictTable:
    return VERDICT_TABLES.setdefault(title, VerdictTable(title, row_name))
