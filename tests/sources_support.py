"""For the settings-source tests: documents, a Kubernetes ConfigMap volume, a real redis-server.

In CI a missing redis-server (or redis-py) is a failure; locally the tests that need it skip.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import http_scope, run_sync

from fastcors import CORSHandle

HOST = "127.0.0.1"


CODE = "https://code.example"  # the origin the application's code allows
A = "https://a.example"
B = "https://b.example"
C = "https://c.example"


async def ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def allowed(middleware: Any, origin: str, path: str = "/") -> str | None:
    """The access-control-allow-origin `middleware` answers a simple request from `origin` with."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_sync(middleware(http_scope(headers=[(b"origin", origin.encode())], path=path), receive, send))
    assert sent[0]["status"] == 200  # nothing a source delivers makes a request fail
    values = [value.decode() for name, value in sent[0]["headers"] if name == b"access-control-allow-origin"]
    return values[0] if values else None


def allows(middleware: Any, origin: str, path: str = "/") -> bool:
    """Whether `middleware` allows `origin` by name (not by "*")."""
    return allowed(middleware, origin, path) == origin


def eventually(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> float:
    """Wait until `condition()`; return how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout}s: {what}")
        time.sleep(0.01)
    return time.monotonic() - start


def errors(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and text in r.getMessage()]


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def followed(impl: ModuleType) -> tuple[CORSHandle, Any]:
    """A handle, and a middleware of `impl` built with it (the code allowing CODE)."""
    handle = CORSHandle()
    return handle, impl.CORSMiddleware(ok_app, allow_origins=[CODE], handle=handle)


def document(**arguments: Any) -> bytes:
    return json.dumps(arguments).encode()


def write(path: Path, data: bytes) -> None:
    """Replace the file atomically, as the README asks."""
    temporary = path.with_name(path.name + ".new")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def configmap(directory: Path, name: str, data: bytes, generation: str) -> None:
    """Kubernetes' atomic writer: the files in a new ..<timestamp> directory, then ..data swapped by a rename.

    `name` is a symlink to ..data/name, made once; the previous generation's directory is removed.
    """
    previous = (directory / "..data").resolve() if (directory / "..data").is_symlink() else None
    (directory / generation).mkdir()
    (directory / generation / name).write_bytes(data)
    (directory / "..data_tmp").symlink_to(generation)
    os.replace(directory / "..data_tmp", directory / "..data")
    if not (directory / name).is_symlink():
        (directory / name).symlink_to(Path("..data") / name)
    if previous is not None:
        shutil.rmtree(previous)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class RedisServer:
    """One redis-server process (no persistence: a restart empties it, as a crashed cache does)."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="fastcors-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        log = open(Path(self.directory) / "redis.log", "ab")  # noqa: SIM115 (the process writes to it)
        with log:
            self.process = subprocess.Popen(
                [self.executable, "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--dir", self.directory, "--protected-mode", "yes"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start: {self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def answers(self) -> bool:
        import redis

        try:
            with redis.Redis(host=HOST, port=self.port, socket_timeout=1, socket_connect_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def client(self) -> object:
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=5, socket_connect_timeout=5)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (Path(self.directory) / "redis.log").read_text(errors="replace")[-2000:]
        return ""


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A fresh redis-server for the block; skipped locally (failed in CI) if Redis is not installed."""
    executable = shutil.which("redis-server")
    if executable is None:
        _unavailable("redis-server is not installed (scripts/setup.sh installs it)")
    try:
        import redis  # noqa: F401
    except ImportError:
        _unavailable("redis-py is not installed (pip install -e '.[test]')")
    server = RedisServer(executable)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
