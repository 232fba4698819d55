"""Server processes on loopback: start one, wait until it answers HTTP, stop it whole.

The one launcher of the benchmark's servers (bench/e2e.py), the real-world tests'
(tests/realworld/rw_support.py) and the soak test's. Every process starts in its own session
(process group), so servers that fork workers (granian) are stopped whole, by the group id of
the process started here. Its output (stdout and stderr) goes to a log file, read on failure.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server did not start, or answered wrongly."""


def free_port() -> int:
    # The port is free when we ask; the server binds it a moment later (a small race that
    # loopback on a test or benchmark machine tolerates).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def answers_http(port: int, path: str = "/", timeout: float = 2.0) -> bool:
    """Whether something on `port` answers a GET of `path` with any HTTP response."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A `preexec_fn` that keeps the child on `cpus` (None: no pinning)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


class ServerProcess:
    """`argv`, serving on `port`: a context manager that starts it, waits for it, stops it."""

    def __init__(
        self,
        argv: list[str],
        port: int,
        description: str,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        cpus: set[int] | None = None,
    ) -> None:
        self.argv, self.port, self.description = argv, port, description
        self.env = dict(os.environ if env is None else env)
        self.cwd, self.cpus = cwd, cpus
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(
        self, ready_path: str = "/", timeout: float = 40.0, ready: Callable[[], bool] | None = None
    ) -> ServerProcess:
        """Start the process; return once it answers a GET of `ready_path` (or once `ready()`, for a
        server that does not speak HTTP), else stop it and raise ServerError."""
        fd, log_name = tempfile.mkstemp(prefix="fastcors-server-", suffix=".log")
        self.log_path = Path(log_name)
        with os.fdopen(fd, "wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=pinned(self.cpus),
            )
        deadline = time.monotonic() + timeout
        while not (ready() if ready is not None else answers_http(self.port, ready_path)):
            problem = (
                f"exited with {self.process.returncode}"
                if self.process.poll() is not None
                else f"did not answer within {timeout:.0f}s"
                if time.monotonic() > deadline
                else None
            )
            if problem is not None:
                log_tail = self.log_tail()
                self.stop()
                raise ServerError(f"{self.description} {problem}:\n{log_tail}")
            time.sleep(0.1)
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers; remove the log."""
        if self.process is not None:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, sig)
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            # Workers forked by the server may outlive their parent for a moment: make sure
            # the whole group started here is gone.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None  # stopped: its group id may be reused, never signal it again
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
