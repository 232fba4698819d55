"""End to end: real ASGI servers on loopback, loaded by wrk, rows interleaved.

For each server kind (uvicorn with httptools + uvloop; granian), one server process per row
(no middleware, Starlette's, fastcors compiled) is started on a free loopback port and
checked (each answers both workloads correctly, and fastcors's headers equal Starlette's).
Then rounds run wrk for a fixed time against each (workload, row) in turn, the row order
rotating each round, and every server is stopped.

On a 2-core machine the server and wrk would fight over the cores: each server is pinned
to the first CPU and wrk (1 thread, 8 connections) to the second, so the server has a core
to itself and the figure is the server's throughput. With one CPU nothing is pinned (the
figures then include wrk's own cost).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from statistics import median, quantiles
from typing import Any

from bench.e2e_app import ORIGIN, ROW_ENV
from bench.launch import ServerError, ServerProcess, free_port, pinned
from bench.progress import Progress

REPO = Path(__file__).resolve().parent.parent
ROWS = ["none", "headers", "starlette", "fastcors"]
ROW_TITLES = {
    "none": "no middleware",
    "headers": "no middleware, app sends the CORS headers (ceiling)",
    "starlette": "Starlette CORSMiddleware",
    "fastcors": "fastcors compiled",
}
SERVERS = ["uvicorn", "granian"]
WORKLOADS = ["preflight", "simple"]
PATH = "/api/items"
CONNECTIONS = 8
THREADS = 1

REQUESTS: dict[str, tuple[str, dict[str, str]]] = {
    "preflight": (
        "OPTIONS",
        {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-requested-with",
            "Accept": "*/*",
        },
    ),
    "simple": (
        "GET",
        {"Origin": ORIGIN, "Cookie": "session=8f2a61c4d0e94b7f", "Accept": "*/*"},
    ),
}


def cpu_plan() -> tuple[set[int] | None, set[int] | None]:
    """(CPUs for the server, CPUs for wrk), or (None, None) when there are not two."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return {cpus[0]}, {cpus[1]}


def server_command(kind: str, port: int) -> list[str]:
    if kind == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "bench.e2e_app:app",
            "--host", "127.0.0.1", "--port", str(port),
            "--http", "httptools", "--loop", "uvloop",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    if kind == "granian":
        return [
            sys.executable, "-m", "granian", "bench.e2e_app:app",
            "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop",
            "--no-ws", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    raise KeyError(kind)


def probe(port: int, workload: str, timeout: float = 2.0) -> tuple[int, dict[str, str], bytes]:
    """One request of `workload`: (status, lower-cased headers, body)."""
    method, headers = REQUESTS[workload]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, PATH, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


class Server(ServerProcess):
    """One server process serving bench.e2e_app for one row; a context manager."""

    def __init__(self, kind: str, row: str, cpus: set[int] | None) -> None:
        port = free_port()
        env = {**os.environ, ROW_ENV: row, "PYTHONPATH": str(REPO)}
        env.pop("FASTCORS_NO_EXTENSIONS", None)
        super().__init__(server_command(kind, port), port, f"{kind} ({row})", env=env, cwd=REPO, cpus=cpus)

    def __enter__(self) -> Server:
        self.start(ready_path=PATH, timeout=30.0)
        return self

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by the server's processes, from /proc."""
        total = 0
        try:
            entries = list(Path("/proc").iterdir())
        except OSError:
            return None
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[2]) == self.pid:  # the process group the server leads
                total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")


def _comparable(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = answer
    return status, {k: v for k, v in headers.items() if k not in ("date", "server")}, body


def check_answers(servers: dict[str, Server]) -> None:
    """Every row answers both workloads with a 2xx; CORS rows allow; fastcors == Starlette."""
    for workload in WORKLOADS:
        answers = {row: probe(server.port, workload) for row, server in servers.items()}
        for row, (status, headers, _body) in answers.items():
            if status != 200:
                raise ServerError(f"{row}: {workload} answered {status}")
            allowed = headers.get("access-control-allow-origin")
            if (allowed == ORIGIN) != (row != "none"):
                raise ServerError(f"{row}: {workload} has Access-Control-Allow-Origin {allowed!r}")
        if "starlette" in answers and "fastcors" in answers:
            star, fast = (_comparable(answers[row]) for row in ("starlette", "fastcors"))
            if star != fast:
                raise ServerError(f"fastcors differs from Starlette on {workload}: {fast} != {star}")


LUA = """\
wrk.method = "{method}"
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "FASTCORS_JSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,"
    .. "\\"errors_status\\":%d,\\"errors_socket\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def write_scripts(directory: Path) -> dict[str, Path]:
    scripts = {}
    for workload, (method, headers) in REQUESTS.items():
        lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
        path = directory / f"{workload}.lua"
        path.write_text(LUA.format(method=method, headers=lines))
        scripts[workload] = path
    return scripts


def run_wrk(port: int, script: Path, seconds: int, cpus: set[int] | None) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise FileNotFoundError("wrk")
    command = [
        wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "2s",
        "-s", str(script), f"http://127.0.0.1:{port}{PATH}",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, preexec_fn=pinned(cpus), check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("FASTCORS_JSON "):
            result = json.loads(line.removeprefix("FASTCORS_JSON "))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk printed no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def load(server: Server, script: Path, seconds: int, cpus: set[int] | None) -> dict[str, Any]:
    """One wrk run against `server`, with the server's CPU use during it.

    CPU per request does not depend on whether wrk kept the server saturated; busy (CPU
    seconds per second) says whether it did: well below 1, throughput is limited by the
    client or by wake-ups, not by the server, and hides part of a middleware's cost.
    """
    before = server.cpu_seconds()
    result = run_wrk(server.port, script, seconds, cpus)
    after = server.cpu_seconds()
    if before is not None and after is not None and result["requests"]:
        used = after - before
        result["server_busy"] = used / (result["duration_us"] / 1e6)
        result["server_cpu_us_per_request"] = used / result["requests"] * 1e6
    return result


@contextlib.contextmanager
def _servers(kind: str, cpus: set[int] | None) -> Iterator[dict[str, Server]]:
    with contextlib.ExitStack() as stack:
        yield {row: stack.enter_context(Server(kind, row, cpus)) for row in ROWS}


def _median_of(samples: list[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in samples if key in s]
    return median(values) if values else None


def _paired(samples: list[dict[str, Any]], base: list[dict[str, Any]], ratio: Any) -> list[float]:
    """ratio(sample, base sample) for each round where both are measured."""
    values = (ratio(s, b) for s, b in zip(samples, base, strict=True))
    return [v for v in values if v is not None]


def _summarise(samples: list[dict[str, Any]], base: list[dict[str, Any]]) -> dict[str, Any]:
    # Paired: each round's rows ran back to back, so the ratio within a round cancels slow
    # drifts of the (shared, noisy) machine; the median drops bursts.
    ratios = _paired(samples, base, lambda s, b: s["rps"] / b["rps"] if b["rps"] else None)
    cost_ratios = _paired(
        samples,
        base,
        lambda s, b: (
            b["server_cpu_us_per_request"] / s["server_cpu_us_per_request"]
            if "server_cpu_us_per_request" in s and "server_cpu_us_per_request" in b
            else None
        ),
    )
    if len(ratios) > 1:
        q1, _, q3 = quantiles(ratios, n=4, method="inclusive")
    else:
        q1 = q3 = ratios[0] if ratios else float("nan")
    return {
        "rps": median(s["rps"] for s in samples),
        "p50_us": median(s["p50_us"] for s in samples),
        "p99_us": median(s["p99_us"] for s in samples),
        "errors": sum(s["errors_status"] + s["errors_socket"] for s in samples),
        "fraction_of_none": median(ratios) if ratios else float("nan"),
        "fraction_iqr": [q1, q3],  # how far the noise reaches
        "server_busy": _median_of(samples, "server_busy"),
        "server_cpu_us_per_request": _median_of(samples, "server_cpu_us_per_request"),
        # Capacity by CPU cost: no-middleware CPU per request / this row's.
        "cpu_fraction_of_none": median(cost_ratios) if cost_ratios else None,
        "rounds": samples,
    }


def run_server_kind(
    kind: str, rounds: int, seconds: int, warmup: int, scripts: dict[str, Path], progress: Progress | None
) -> dict[str, Any]:
    server_cpus, wrk_cpus = cpu_plan()
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {w: {r: [] for r in ROWS} for w in WORKLOADS}
    with _servers(kind, server_cpus) as servers:
        check_answers(servers)
        if warmup:
            for workload in WORKLOADS:
                for row in ROWS:
                    if progress is not None:
                        progress.update(f"{kind} warm-up {workload} {row}")
                    run_wrk(servers[row].port, scripts[workload], warmup, wrk_cpus)
        for index in range(rounds):
            for workload in WORKLOADS:
                order = ROWS[index % len(ROWS) :] + ROWS[: index % len(ROWS)]
                for row in order:
                    if progress is not None:
                        progress.update(f"{kind} round {index + 1}/{rounds} {workload} {row}")
                    samples[workload][row].append(load(servers[row], scripts[workload], seconds, wrk_cpus))
    result: dict[str, Any] = {}
    for workload in WORKLOADS:
        base = samples[workload]["none"]
        result[workload] = {row: _summarise(samples[workload][row], base) for row in ROWS}
    return result


def plan(quick: bool) -> dict[str, int]:
    if quick:
        return {"rounds": 1, "seconds": 1, "warmup": 0}
    # Many short runs rather than a few long ones: rows of a round then run within seconds of
    # each other, so the per-round ratio sees the same background load on a shared machine.
    return {"rounds": 16, "seconds": 1, "warmup": 1}


def planned_seconds(quick: bool, servers: list[str]) -> float:
    p = plan(quick)
    per_server = 4 + len(WORKLOADS) * len(ROWS) * (p["warmup"] + p["rounds"] * p["seconds"])
    return per_server * len(servers)


def run_e2e(quick: bool, progress: Progress | None = None, servers: list[str] | None = None) -> dict[str, Any]:
    p = plan(quick)
    server_cpus, wrk_cpus = cpu_plan()
    out: dict[str, Any] = {
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds_per_run": p["seconds"],
        "rounds": p["rounds"],
        "warmup_seconds": p["warmup"],
        "server_cpus": sorted(server_cpus) if server_cpus else None,
        "wrk_cpus": sorted(wrk_cpus) if wrk_cpus else None,
        "servers": {},
    }
    if shutil.which("wrk") is None:
        out["skipped"] = "wrk not found (apt-get install wrk)"
        return out
    with tempfile.TemporaryDirectory() as tmp:
        scripts = write_scripts(Path(tmp))
        for kind in SERVERS if servers is None else servers:
            try:
                out["servers"][kind] = run_server_kind(kind, p["rounds"], p["seconds"], p["warmup"], scripts, progress)
            except (ServerError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
                out["servers"][kind] = {"error": f"{type(exc).__name__}: {exc}"}
                if progress is not None:
                    progress.note(f"e2e {kind} failed: {exc}")
    return out
