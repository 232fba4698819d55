"""A real redis-server on loopback for the settings-source tests: start, restart, stop.

In CI a missing redis-server (or redis-py) is a failure; locally the tests that need it skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.1"


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
