"""fastcors' request counts, from every worker, as a real Prometheus server's PromQL sums them.

Three deployments of rw_served/metrics_api.py, each with 3 worker processes: uvicorn --workers
3, gunicorn -w 3 with uvicorn's worker class, and the same with --preload (the app imported,
enable() called, in the master before it forks). Every worker calls fastcors.prometheus.enable()
at import; prometheus_client in multiprocess mode (a fresh PROMETHEUS_MULTIPROC_DIR per server)
exposes the counts of all of them on /metrics (outside the CORS middleware, so scrapes are not
counted). A real Prometheus (Debian's /usr/bin/prometheus, its own config, storage and port in
the test's directory) scrapes it every second. Each server process runs one implementation of
fastcors (FASTCORS_NO_EXTENSIONS), and every worker says which.

The test sends a known number of requests of each kind, each on a new connection and many at
once, so that several workers serve them: allowed preflights, preflights refused for their
method, for their headers, for their origin (and for origin and method: counted as origin, the
first failed check), simple requests allowed and from a refused origin, requests without
Origin. It then polls Prometheus' HTTP API with

    sum by (kind, outcome, reason) (fastcors_requests_total)

until the sums equal the counts sent, every other series that can occur present at 0
(exactly: a series above its count fails at once), and records how long after the last
response that took (the export's staleness: fastcors hands its counts over every
FLUSH_SECONDS, Prometheus scrapes every second); the delays are printed at the end of the run.
Each worker's own file in the multiprocess directory says which workers counted: more than one
must have, and their counts add up to the same sums.

Each case takes about 7 s, most of it Prometheus' wait before its first scrape (it applies a
new target some 5 s after it starts; it is started first, so the server starts meanwhile).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_harness import require_modules, unavailable

import fastcors
from bench.launch import HOST, ServerProcess, free_port

from .rw_support import IMPLS, ServerKind, impl_env, server_process, started, verdict_table

WORKERS = 3
SCRAPE_INTERVAL = 1.0  # Prometheus' scrape interval here (s)
TIMEOUT = 30.0  # for the sums to reach the counts sent (s)
QUERY = "sum by (kind, outcome, reason) (fastcors_requests_total)"
METRIC = "fastcors_requests_total"
ALLOWED_ORIGIN = "https://app.example"  # as rw_served.metrics_api allows (not imported: it enables the export)
REFUSED_ORIGIN = "https://evil.example"

DEPLOYMENTS: dict[str, ServerKind] = {
    "uvicorn --workers 3": ServerKind("uvicorn-workers", ("uvicorn", "prometheus_client"), lambda target, port: [
        sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port), "--workers", str(WORKERS),
        "--log-level", "warning",
    ]),
    "gunicorn -w 3 -k UvicornWorker": ServerKind(
        "gunicorn-uvicorn", ("gunicorn", "uvicorn", "prometheus_client"), lambda target, port: [
            sys.executable, "-m", "gunicorn", target, "--bind", f"{HOST}:{port}", "--workers", str(WORKERS),
            "--worker-class", "uvicorn.workers.UvicornWorker", "--log-level", "warning",
        ],
    ),
    # The app imported (enable() called, its thread started) in the master, before it forks.
    "gunicorn --preload": ServerKind(
        "gunicorn-preload", ("gunicorn", "uvicorn", "prometheus_client"), lambda target, port: [
            sys.executable, "-m", "gunicorn", target, "--bind", f"{HOST}:{port}", "--workers", str(WORKERS),
            "--worker-class", "uvicorn.workers.UvicornWorker", "--log-level", "warning", "--preload",
        ],
    ),
}  # fmt: skip

STALENESS = verdict_table(
    f"Prometheus: delay from the last response to the PromQL sums matching the counts sent (s), "
    f"scraping every {SCRAPE_INTERVAL:g} s",
    "deployment",
)

Key = tuple[str, str, str]  # (kind, outcome, reason)


@dataclass(frozen=True)
class Case:
    """A request sent `count` times, the status it must get, and the (kind, outcome, reason) it counts as."""

    name: str
    count: int
    method: str
    headers: dict[str, str]
    status: int
    # The access-control-allow-origin it must get (as Starlette: a refused preflight from an allowed origin has it).
    allowed: str | None
    key: Key


def preflight(origin: str, method: str, headers: str | None = None) -> dict[str, str]:
    asked = {"origin": origin, "access-control-request-method": method}
    return asked if headers is None else {**asked, "access-control-request-headers": headers}


CASES = [
    Case("allowed preflight", 30, "OPTIONS", preflight(ALLOWED_ORIGIN, "POST", "x-ok"), 200, ALLOWED_ORIGIN,
         ("preflight", "allowed", "none")),
    Case("preflight refused: method", 20, "OPTIONS", preflight(ALLOWED_ORIGIN, "DELETE"), 400, ALLOWED_ORIGIN,
         ("preflight", "denied", "method")),
    Case("preflight refused: headers", 10, "OPTIONS", preflight(ALLOWED_ORIGIN, "GET", "x-bad"), 400, ALLOWED_ORIGIN,
         ("preflight", "denied", "headers")),
    Case("preflight refused: origin", 10, "OPTIONS", preflight(REFUSED_ORIGIN, "GET"), 400, None,
         ("preflight", "denied", "origin")),
    Case("preflight refused: origin and method", 5, "OPTIONS", preflight(REFUSED_ORIGIN, "DELETE"), 400, None,
         ("preflight", "denied", "origin")),
    Case("simple, allowed", 15, "GET", {"origin": ALLOWED_ORIGIN}, 200, ALLOWED_ORIGIN,
         ("simple", "allowed", "none")),
    Case("simple, refused origin", 25, "GET", {"origin": REFUSED_ORIGIN}, 200, None, ("simple", "denied", "origin")),
    Case("simple POST, refused origin", 5, "POST", {"origin": REFUSED_ORIGIN}, 200, None,
         ("simple", "denied", "origin")),
    Case("no Origin", 15, "GET", {}, 200, None, ("none", "allowed", "none")),
]  # fmt: skip
NO_ORIGIN: Key = ("none", "allowed", "none")


def prometheus_executable() -> str:
    found = shutil.which("prometheus")
    if found is None:
        unavailable("prometheus is not installed (scripts/setup.sh installs Debian's package)")
    return found


def prometheus_config(target_port: int) -> str:
    return textwrap.dedent(f"""\
        global:
          scrape_interval: {SCRAPE_INTERVAL:g}s
          scrape_timeout: {SCRAPE_INTERVAL:g}s
        scrape_configs:
          - job_name: fastcors
            metrics_path: /metrics
            static_configs:
              - targets: ["{HOST}:{target_port}"]
    """)


class Prometheus:
    """A Prometheus server scraping `target_port`, its config, storage and log in `directory`."""

    def __init__(self, directory: Path, target_port: int, client: httpx.Client) -> None:
        executable = prometheus_executable()
        self.port, self.client = free_port(), client
        config = directory / "prometheus.yml"
        config.write_text(prometheus_config(target_port))
        argv = [
            executable, f"--config.file={config}", f"--storage.tsdb.path={directory / 'tsdb'}",
            f"--web.listen-address={HOST}:{self.port}", "--log.level=warn",
        ]  # fmt: skip
        self.process = ServerProcess(argv, self.port, f"prometheus scraping port {target_port}", cwd=directory)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def ready(self) -> bool:
        try:
            return self.client.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, promql: str) -> list[tuple[dict[str, str], float]]:
        """An instant query through the HTTP API: each series' labels and value."""
        response = self.client.get(f"{self.url}/api/v1/query", params={"query": promql})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success", body
        return [(series["metric"], float(series["value"][1])) for series in body["data"]["result"]]

    def sums(self) -> dict[Key, float]:
        """QUERY's answer: (kind, outcome, reason) -> value."""
        return {(m["kind"], m["outcome"], m["reason"]): value for m, value in self.query(QUERY)}

    def until_scraping(self) -> None:
        """Wait until Prometheus has scraped its target once (up == 1): it applies a new target
        within about 5 s of starting (its discovery manager's update period)."""
        deadline = time.monotonic() + TIMEOUT
        while [value for _, value in self.query('up{job="fastcors"}')] != [1.0]:
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not scrape the server within {TIMEOUT}s\n{self.process.log_tail()}")
            time.sleep(0.1)


def send(port: int, case: Case) -> int:
    """One request of `case` on a new connection; checks the answer; the worker's pid when the app answered."""
    connection = HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(case.method, "/data?hold=0.005", headers=case.headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == case.status, (case.name, response.status, body)
    assert response.getheader("access-control-allow-origin") == case.allowed, (case.name, response.getheaders())
    return json.loads(body)["pid"] if case.method != "OPTIONS" else 0


def warm_up(port: int, impl: str) -> int:
    """Requests without Origin until every worker has answered one; how many were sent.

    Each says which implementation its worker runs: the one asked for.
    """
    pids: set[int] = set()
    sent = 0
    deadline = time.monotonic() + TIMEOUT

    def one(_: int) -> dict[str, Any]:
        connection = HTTPConnection(HOST, port, timeout=10)
        try:
            connection.request("GET", "/data?hold=0.05")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert response.status == 200, body
        return json.loads(body)

    with ThreadPoolExecutor(WORKERS * 4) as pool:
        while len(pids) < WORKERS:
            if time.monotonic() > deadline:
                pytest.fail(f"only {len(pids)} of {WORKERS} workers answered within {TIMEOUT}s")
            for answer in pool.map(one, range(WORKERS * 4)):
                sent += 1
                pids.add(answer["pid"])
                assert answer["compiled"] is (impl == "compiled"), answer
    if len(pids) > WORKERS:
        pytest.fail(f"more than {WORKERS} workers answered: {sorted(pids)}")
    return sent


def counts_by_worker(directory: Path) -> dict[str, dict[Key, float]]:
    """Each worker's own counts, from its file in the multiprocess directory (file name -> key -> value)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    found: dict[str, dict[Key, float]] = {}
    for path in sorted(directory.glob("counter_*.db")):
        with tempfile.TemporaryDirectory() as single:
            shutil.copy(path, single)
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=single)
            found[path.name] = {
                (s.labels["kind"], s.labels["outcome"], s.labels["reason"]): s.value
                for metric in registry.collect()
                for s in metric.samples
                if s.name == METRIC
            }
    return found


def every_series(counts: dict[Key, float]) -> dict[Key, float]:
    """`counts` and a 0 for every other (kind, outcome, reason) that can occur: each is a series from the start."""
    return {key: counts.get(key, 0) for key in fastcors.request_counts()}


def nonzero(counts: dict[Key, float]) -> dict[Key, float]:
    return {key: value for key, value in counts.items() if value}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_prometheus_sums_the_counts_of_every_worker(
    deployment: str, impl: str, tmp_path: Path, http: httpx.Client
) -> None:
    require_modules("prometheus_client")
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    env = {**impl_env(impl), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    server = server_process(DEPLOYMENTS[deployment], "rw_served.metrics_api:app", env)
    prometheus = Prometheus(tmp_path, server.port, http)
    # Prometheus first: its first scrape comes some 5 s after it starts, while the server starts.
    with started(prometheus.process, timeout=20, ready=prometheus.ready), started(server, ready_path="/metrics"):
        expected: dict[Key, float] = {NO_ORIGIN: warm_up(server.port, impl)}
        prometheus.until_scraping()  # before the requests: the delay measured below is the export's

        requests = [case for case in CASES for _ in range(case.count)]
        random.Random(0).shuffle(requests)  # every kind spread over the workers
        for case in CASES:
            expected[case.key] = expected.get(case.key, 0) + case.count
        with ThreadPoolExecutor(12) as pool:
            pids = set(pool.map(lambda case: send(server.port, case), requests)) - {0}
        done = time.monotonic()

        while True:
            sums = prometheus.sums()
            over = {key: value for key, value in sums.items() if value > expected.get(key, 0)}
            assert not over, f"counted more than sent: {over} (expected {expected})"
            if sums == every_series(expected):
                staleness = time.monotonic() - done
                break
            if time.monotonic() - done > TIMEOUT:
                pytest.fail(
                    f"Prometheus' sums did not reach the counts sent within {TIMEOUT}s:\n"
                    f"  got      {sorted(sums.items())}\n  expected {sorted(every_series(expected).items())}\n"
                    f"{server.log_tail()}"
                )
            time.sleep(0.05)

        # Several workers counted, and their own counts add up to what Prometheus summed.
        by_worker = {name: nonzero(counts) for name, counts in counts_by_worker(multiproc).items()}
        counting = {name: counts for name, counts in by_worker.items() if counts}
        assert len(counting) > 1, f"only one worker counted: {by_worker}"
        assert len(counting) <= WORKERS, f"more than {WORKERS} processes counted: {by_worker}"
        total: dict[Key, float] = {}
        for counts in counting.values():
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
        assert total == expected
        assert len(pids) > 1, f"the app saw one worker only: {pids}"
    shares = "/".join(str(int(sum(counts.values()))) for counts in counting.values())
    STALENESS.record(deployment, impl, f"{staleness:.2f} ({sum(expected.values()):g} requests; by worker {shares})")
