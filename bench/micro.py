"""The interleaved micro-benchmark: every scenario, every row, round-robin, medians.

Per scenario: each row is built and its answer checked against Starlette's once; then, for
a fixed time, rounds run every row in turn (a rotated order each round, so no row always
runs right after another) for a batch of calls, and record nanoseconds per call. Overhead
is a row's median minus the bare app's median from the same rounds. A scenario with
`cycle_origins` gives each row its own cycle through those requests, one per call.
"""

from __future__ import annotations

import functools
import itertools
import statistics
from typing import Any

from bench import drive, rows
from bench.progress import Progress
from bench.scenarios import SCENARIOS, Scenario

# Each pattern row, and the row of the same implementation given the equivalent regex.
PATTERN_TWINS = {"fastcors-pattern": "fastcors", "fastcors-py-pattern": "fastcors-py"}


def _quartiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    q1, median, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q1, median, q3


def _build_rows(scenario: Scenario) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(callables that may be timed, per-row status) for one scenario."""
    reference = rows.build("starlette", scenario)
    runnable: dict[str, Any] = {}
    status: dict[str, dict[str, Any]] = {}
    for row in rows.for_scenario(scenario):
        try:
            asgi = rows.build(row, scenario)
        except rows.Unavailable as exc:
            reason = str(exc)
            status[row] = {"status": "n/a" if reason.startswith("n/a") else "unavailable", "reason": reason}
            continue
        try:
            rows.check(row, scenario, asgi, reference)
        except rows.WrongAnswer as exc:
            status[row] = {"status": "wrong", "reason": str(exc)}
            continue
        runnable[row] = asgi
        status[row] = {"status": "ok", "reason": ""}
    return runnable, status


def run_scenario(scenario: Scenario, seconds: float, calls: int, progress: Progress | None = None) -> dict[str, Any]:
    runnable, status = _build_rows(scenario)
    order = list(runnable)
    scopes = scenario.scopes()
    if len(scopes) == 1:
        timers = {row: functools.partial(drive.time_batch, runnable[row], scopes[0], calls) for row in order}
    else:
        # Each row its own cycle, all in step: every row sees the same origins, in order.
        timers = {
            row: functools.partial(drive.time_batch_cycling, runnable[row], itertools.cycle(scopes), calls)
            for row in order
        }

    def on_round(rounds: int) -> None:
        if progress is not None and rounds % 64 == 0:
            progress.update(f"{scenario.name} (round {rounds})")

    samples = drive.interleave(timers, seconds, rounds=3, warmup=min(0.3, seconds / 10), on_round=on_round)
    rounds = len(samples[order[0]]) if order else 0
    result: dict[str, Any] = {
        "name": scenario.name,
        "title": scenario.title,
        "preflight": scenario.preflight,
        "distinct_origins": len(scopes),
        "rounds": rounds,
        "calls_per_batch": calls,
        "rows": status,
    }
    for row in order:
        q1, median, q3 = _quartiles(samples[row])
        status[row].update({"median_ns": median, "q1_ns": q1, "q3_ns": q3})
    bare = status.get("bare", {}).get("median_ns")
    starlette = status.get("starlette", {})
    for row in order:
        if row == "bare" or bare is None:
            continue
        overhead = status[row]["median_ns"] - bare
        status[row]["overhead_ns"] = overhead
    starlette_overhead = starlette.get("overhead_ns")
    for row in order:
        overhead = status[row].get("overhead_ns")
        if row in ("bare", "starlette") or overhead is None or starlette_overhead is None:
            continue
        # Starlette overhead / this row's: how many times less this row adds. A row at or
        # below the bare app (possible for preflights, which never reach the app) has no
        # finite ratio.
        status[row]["ratio_vs_starlette"] = starlette_overhead / overhead if overhead > 0 else float("inf")
    for row, twin in PATTERN_TWINS.items():
        # The same implementation with the equivalent regex: its overhead / the pattern's.
        overhead = status.get(row, {}).get("overhead_ns")
        twin_overhead = status.get(twin, {}).get("overhead_ns")
        if overhead is not None and twin_overhead is not None:
            status[row]["ratio_vs_regex"] = twin_overhead / overhead if overhead > 0 else float("inf")
    return result


def run_micro(quick: bool, progress: Progress | None = None, seconds: float | None = None) -> dict[str, Any]:
    """All scenarios; `seconds` of interleaved rounds each (after a short warm-up)."""
    if seconds is None:
        seconds = 0.05 if quick else 12.0
    calls = 20 if quick else 100
    results = []
    for scenario in SCENARIOS:
        if progress is not None:
            progress.update(scenario.name, force=True)
        results.append(run_scenario(scenario, seconds, calls, progress))
    return {"seconds_per_scenario": seconds, "calls_per_batch": calls, "scenarios": results}
