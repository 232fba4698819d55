"""Shared settings reaching every worker: uvicorn --workers 3 and gunicorn with 3 uvicorn workers.

Each deployment serves rw_served/shared_settings.py, whose CORS settings follow a settings
file laid out as a Kubernetes ConfigMap volume, or a key in a real redis-server. Every
response names the worker (its pid) and what that worker's source reports. For each change
the test waits until every worker answers with the new settings, and measures the delay from
the change to the last worker applying it (from the workers' own `applied_at`); the delays
are printed at the end of the run. Also: every worker serves the shared settings from its
first request; a bad version is refused by every worker (logged once by each, visible on
/worker) while the previous settings stay in force; Redis restarted in the middle.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sources_support import RedisServer, configmap, document, running_redis

from fastcors import publish_settings
from fastcors._sources import version_of

from .rw_support import (
    HOST,
    IMPLS,
    RunningServer,
    ServerKind,
    check_impl_available,
    impl_env,
    serving_kind,
    verdict_table,
)

WORKERS = 3
RESYNC = 2.0  # the Redis sources' re-read period here (5 s by default)
SETTINGS = "cors.json"
# Measured changes per deployment and source (more for the README's figures).
CHANGES = int(os.environ.get("FASTCORS_SOURCE_CHANGES", "3"))

DEPLOYMENTS: dict[str, tuple[ServerKind, dict[str, str]]] = {
    "uvicorn --workers 3": (
        ServerKind("uvicorn-workers", ("uvicorn",), lambda target, port: [
            sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port), "--workers", str(WORKERS),
            "--log-level", "warning",
        ]),
        {},
    ),
    "gunicorn -w 3 -k UvicornWorker": (
        ServerKind("gunicorn-uvicorn", ("gunicorn", "uvicorn"), lambda target, port: [
            sys.executable, "-m", "gunicorn", target, "--bind", f"{HOST}:{port}", "--workers", str(WORKERS),
            "--worker-class", "uvicorn.workers.UvicornWorker", "--log-level", "warning",
        ]),
        {},
    ),
    # The source started when the app is imported, before gunicorn forks: restarted in each worker.
    "gunicorn --preload, started at import": (
        ServerKind("gunicorn-preload", ("gunicorn", "uvicorn"), lambda target, port: [
            sys.executable, "-m", "gunicorn", target, "--bind", f"{HOST}:{port}", "--workers", str(WORKERS),
            "--worker-class", "uvicorn.workers.UvicornWorker", "--log-level", "warning", "--preload",
        ]),
        {"FASTCORS_TEST_START": "import"},
    ),
}  # fmt: skip

CASES = [
    ("uvicorn --workers 3", "file"),
    ("uvicorn --workers 3", "redis"),
    ("gunicorn -w 3 -k UvicornWorker", "file"),
    ("gunicorn -w 3 -k UvicornWorker", "redis"),
    ("gunicorn --preload, started at import", "redis"),
]

DELAYS = verdict_table("shared settings: delay from a change to the last of 3 workers applying it (s)", "deployment")


def origin(version: int) -> str:
    return f"http://v{version}.example"


def settings(version: int) -> bytes:
    return document(allow_origins=[origin(version)], allow_credentials=True)


# A version every worker must refuse: an unknown argument (a typo), next to a good one.
BAD = document(allow_origins=["http://bad.example"], allow_origin=["http://bad.example"])


@dataclass(frozen=True)
class Answer:
    pid: int
    version: str | None
    applied_at: float | None
    last_error: str | None
    allowed: str | None  # the access-control-allow-origin header


def ask(server: RunningServer, from_origin: str, count: int = 12) -> list[Answer]:
    """`count` concurrent requests, each on a new connection, so that they spread over the workers."""

    def one(_: int) -> Answer:
        response = httpx.get(f"{server.url}/worker?hold=0.02", headers={"origin": from_origin}, timeout=10)
        assert response.status_code == 200, response.text  # nothing a source delivers makes a request fail
        body = response.json()
        return Answer(
            body["pid"], body["version"], body["applied_at"], body["last_error"],
            response.headers.get("access-control-allow-origin"),
        )  # fmt: skip

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def until_every_worker(
    server: RunningServer,
    from_origin: str,
    done: Callable[[Answer], bool],
    what: str,
    always: Callable[[Answer], bool] = lambda answer: True,
    timeout: float = 30.0,
) -> dict[int, Answer]:
    """Ask until every worker's latest answer is `done` (every answer meanwhile must be `always`)."""
    latest: dict[int, Answer] = {}
    deadline = time.monotonic() + timeout
    while True:
        for answer in ask(server, from_origin):
            assert always(answer), f"while waiting until every worker {what}: {answer}"
            latest[answer.pid] = answer
        if len(latest) == WORKERS and all(done(answer) for answer in latest.values()):
            return latest
        if len(latest) > WORKERS:
            pytest.fail(f"more than {WORKERS} workers answered (one restarted?): {sorted(latest)}\n{server.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"not every worker {what} within {timeout}s: {latest}\n{server.log_tail()}")


def applied_everywhere(server: RunningServer, version: int, data: bytes, changed_at: float) -> float:
    """Wait until every worker serves `version`; the delay from the change to the last worker applying it."""
    new = origin(version)
    latest = until_every_worker(
        server, new, lambda a: a.allowed == new and a.version == version_of(data), f"applied version {version}"
    )
    return max(answer.applied_at for answer in latest.values()) - changed_at


def refused_everywhere(server: RunningServer, kept: int, expected_logs: int, quiet: float) -> None:
    """A bad version is refused by every worker, logged once by each; the kept settings stay in force."""
    bad = version_of(BAD)
    latest = until_every_worker(
        server, origin(kept), lambda a: bad in (a.last_error or ""), "refused the bad version",
        always=lambda a: a.allowed == origin(kept),
    )  # fmt: skip
    assert all("unknown argument 'allow_origin'" in a.last_error for a in latest.values())
    assert not any(a.allowed for a in ask(server, "http://bad.example"))
    time.sleep(quiet)  # several more polls or re-reads of the same bad version: no more log lines
    assert server.log_tail(10**7).count(f"settings version {bad} refused") == expected_logs, server.log_tail()


class Deployment:
    """One server with 3 workers following a source; `change` publishes a new version."""

    def __init__(self, source: str, tmp_path: Path, redis: RedisServer | None) -> None:
        self.source, self.directory, self.redis = source, tmp_path, redis
        self.generation = 0

    def env(self) -> dict[str, str]:
        if self.source == "file":
            return {"FASTCORS_TEST_SOURCE": "file", "FASTCORS_TEST_SETTINGS": str(self.directory / SETTINGS)}
        assert self.redis is not None
        return {
            "FASTCORS_TEST_SOURCE": "redis", "FASTCORS_TEST_REDIS": self.redis.url,
            "FASTCORS_TEST_KEY": "cors", "FASTCORS_TEST_RESYNC": str(RESYNC),
        }  # fmt: skip

    def change(self, data: bytes) -> float:
        """Publish `data`; the time.time() of the change."""
        if self.source == "file":
            self.generation += 1
            configmap(self.directory, SETTINGS, data, f"..2026_11_26_00_00_{self.generation:02}.000000001")
            return time.time()
        assert self.redis is not None
        changed_at = time.time()
        publish_settings(self.redis.url, data, key="cors", check=False)
        return changed_at


@pytest.fixture
def redis_or_none(request: pytest.FixtureRequest) -> Iterator[RedisServer | None]:
    if request.node.callspec.params["source"] == "file":
        yield None
        return
    with running_redis() as server:
        yield server


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("deployment", "source"), CASES, ids=[f"{d}, {s}" for d, s in CASES])
def test_a_change_reaches_every_worker(
    deployment: str, source: str, impl: str, tmp_path: Path, redis_or_none: RedisServer | None
) -> None:
    check_impl_available(impl)
    kind, extra_env = DEPLOYMENTS[deployment]
    shared = Deployment(source, tmp_path, redis_or_none)
    shared.change(settings(0))  # before the servers start: every worker must start on it
    delays: list[float] = []
    env = {**impl_env(impl), **shared.env(), **extra_env}
    with serving_kind(kind, "rw_served.shared_settings:app", env, "/worker") as server:
        # Every worker, from its first answer, serves the shared settings, not the code's.
        served = lambda a: a.allowed == origin(0) and a.last_error is None  # noqa: E731
        until_every_worker(server, origin(0), served, "answered", always=served)
        for version in range(1, CHANGES + 1):
            delays.append(applied_everywhere(server, version, settings(version), shared.change(settings(version))))
        expected_logs = WORKERS + (1 if "preload" in deployment else 0)  # a preloading master follows too
        quiet = 2.5 * (1.0 if source == "file" else RESYNC)
        shared.change(BAD)
        refused_everywhere(server, CHANGES, expected_logs, quiet)
        after_restart = ""
        if redis_or_none is not None:
            restart_delay = survive_a_redis_restart(server, shared, redis_or_none, CHANGES + 1)
            after_restart = f"; {restart_delay:.2f} after a restart"
    DELAYS.record(
        f"{deployment}, {source}", impl,
        f"median {statistics.median(delays):.2f}, max {max(delays):.2f} ({len(delays)} changes){after_restart}",
    )  # fmt: skip


def survive_a_redis_restart(server: RunningServer, shared: Deployment, redis: RedisServer, version: int) -> float:
    """Redis stops: every worker keeps serving; Redis restarts empty: the next change reaches every worker."""
    kept = version - 1
    redis.stop()
    until_every_worker(
        server, origin(kept), lambda a: "Redis unavailable" in (a.last_error or ""), "saw Redis down",
        always=lambda a: a.allowed == origin(kept),
    )  # fmt: skip
    redis.start()
    return applied_everywhere(server, version, settings(version), shared.change(settings(version)))
