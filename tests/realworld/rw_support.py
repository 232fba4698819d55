"""Real server processes on loopback, for the real-world tests: start, wait until ready, stop.

Every process is started in its own session (process group) so that servers that fork
workers (granian) are stopped whole, by the group id of the process we started.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
IN_CI = bool(os.environ.get("CI"))
HOST = "127.0.0.1"


def fastcors_home() -> str:
    """The directory holding the fastcors package that this process imports."""
    import fastcors

    return str(Path(fastcors.__file__).resolve().parent.parent)


def unavailable(reason: str) -> None:
    """Skip locally; in CI a missing server, browser or tool is a failure."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_modules(*names: str) -> None:
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        unavailable(f"Python package(s) not installed: {', '.join(missing)}")


def free_port() -> int:
    # The port is free when we ask; the server binds it a moment later (a small race
    # that loopback on a test machine tolerates).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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


def check_impl_available(impl: str) -> None:
    """A server asked for the compiled extension must have it; skip locally, fail in CI."""
    if impl != "compiled":
        return
    from fastcors import _loader

    try:
        _loader.load_compiled()
    except ImportError as exc:
        unavailable(f"compiled extension not built: {exc}")


def impl_env(impl: str) -> dict[str, str]:
    """Environment changes that select a fastcors implementation in a server process."""
    if impl == "python":
        return {"FASTCORS_NO_EXTENSIONS": "1"}
    if impl == "compiled":
        return {"FASTCORS_NO_EXTENSIONS": ""}
    raise ValueError(impl)


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    description: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_server(
    kind: ServerKind, target: str, env: dict[str, str], ready_path: str = "/", timeout: float = 40.0
) -> RunningServer:
    """Start `kind` serving `target` (module:attr under tests/realworld); return once it answers HTTP."""
    import httpx

    port = free_port()
    full_env = dict(os.environ)
    full_env.update(env)
    # The server must import the very fastcors this test process imports (a checkout, an
    # editable or a regular install), and the apps under tests/realworld.
    full_env["PYTHONPATH"] = os.pathsep.join(
        [fastcors_home(), str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    fd, log_name = tempfile.mkstemp(prefix=f"fastcors-{kind.name}-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            kind.argv(target, port),
            cwd=str(HERE),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(process, port, Path(log_name), f"{kind.name} serving {target}")
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log_tail = server.log_tail()
            stop_server(server)
            raise RuntimeError(f"{server.description} exited with {process.returncode}:\n{log_tail}")
        try:
            httpx.get(server.url + ready_path, timeout=2.0)
            return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            log_tail = server.log_tail()
            stop_server(server)
            raise RuntimeError(f"{server.description} did not answer within {timeout}s:\n{log_tail}")
        time.sleep(0.1)


def stop_server(server: RunningServer) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers, remove the log."""
    process = server.process
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers forked by the server may outlive their parent for a moment: make sure the
    # whole group we started is gone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        server.log_path.unlink()


def serving(
    server_name: str, target: str, env: dict[str, str], ready_path: str = "/"
) -> contextlib.AbstractContextManager[RunningServer]:
    kind = SERVERS[server_name] if server_name in SERVERS else WEBSOCKET_SERVERS[server_name]
    return serving_kind(kind, target, env, ready_path)


@contextlib.contextmanager
def serving_kind(kind: ServerKind, target: str, env: dict[str, str], ready_path: str = "/") -> Iterator[RunningServer]:
    require_modules(*kind.modules)
    try:
        server = start_server(kind, target, env, ready_path)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        stop_server(server)


# Browser verdicts per middleware variant, filled by test_rw_browser.py and printed by
# conftest.pytest_terminal_summary as one table.
BROWSER_VERDICTS: dict[str, dict[str, str]] = {}


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


# Further verdict tables (browser origin patterns, WebSocket guard), by title, printed after
# BROWSER_VERDICTS.
VERDICT_TABLES: dict[str, VerdictTable] = {}


def verdict_table(title: str, row_name: str = "case") -> VerdictTable:
    return VERDICT_TABLES.setdefault(title, VerdictTable(title, row_name))
