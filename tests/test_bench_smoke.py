"""The benchmark cannot rot: its quick mode runs end to end and writes complete results.

Nothing here asserts on speed: only that every phase ran, every scenario and row is in the
outputs, and the guard that keeps wrong answers out of the timings works.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asgi_harness import memo_size, remembered, unavailable

from bench import drive, e2e, rows
from bench.scenarios import (
    BASE_CONFIG,
    PATTERN,
    PATTERN_REGEX,
    PATTERN_SCENARIOS,
    SCENARIOS,
    TENANT_ORIGINS,
    by_name,
)

REPO = Path(__file__).resolve().parent.parent
# What each end-to-end server needs; a missing one is left out of the run (and reported).
SERVER_MODULES = {"uvicorn": ("uvicorn", "uvloop", "httptools"), "granian": ("granian", "uvloop")}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _available_servers() -> list[str]:
    return [kind for kind, modules in SERVER_MODULES.items() if all(map(_installed, modules))]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("bench-quick")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out), "--servers", ",".join(_available_servers())],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return out, done


@pytest.fixture(scope="module")
def results(quick_run: tuple[Path, subprocess.CompletedProcess[str]]) -> dict[str, Any]:
    out, done = quick_run
    assert done.returncode == 0, f"python -m bench --quick failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return json.loads((out / "latest.json").read_text())


@pytest.mark.slow
def test_quick_run_writes_every_output(quick_run: tuple[Path, Any], results: dict[str, Any]) -> None:
    out, done = quick_run
    markdown = (out / "latest.md").read_text()
    for heading in ("## Targets", "## Micro-benchmarks", "## End to end", "## Memory"):
        assert heading in markdown
    assert "micro:" in done.stderr and "memory:" in done.stderr  # the progress display ran
    assert results["quick"] is True and results["errors"] == {}
    for key in ("cpu", "cores", "python"):
        assert results["machine"][key]
    for package in ("Cython", "starlette"):
        assert results["machine"]["versions"][package] != "not installed"
    assert results["targets"], "targets are reported"
    if not _installed("matplotlib"):
        unavailable("matplotlib is not installed: no chart (pip install matplotlib)")
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_micro_has_every_scenario_and_row(quick_run: tuple[Path, Any], results: dict[str, Any]) -> None:
    markdown = (quick_run[0] / "latest.md").read_text()
    scenarios = {s["name"]: s for s in results["micro"]["scenarios"]}
    assert list(scenarios) == [s.name for s in SCENARIOS]
    not_run = set()
    for name, scenario in scenarios.items():
        assert list(scenario["rows"]) == rows.for_scenario(by_name(name))
        for row in rows.for_scenario(by_name(name)):
            assert f"| {name} | {rows.ROW_TITLES[row]} |" in markdown
            data = scenario["rows"][row]
            if data["status"] == "unavailable":  # not built / not installed here
                not_run.add(f"{row}: {data['reason']}")
                continue
            expected = "n/a" if row == "asgi-cors" and by_name(name).asgi_cors is None else "ok"
            assert data["status"] == expected, data
            if expected == "ok":
                assert data["median_ns"] > 0
                assert row == "bare" or "overhead_ns" in data
    if not_run:
        unavailable("; ".join(sorted(not_run)))


@pytest.mark.slow
def test_micro_reports_patterns_against_the_equivalent_regex(
    quick_run: tuple[Path, Any], results: dict[str, Any]
) -> None:
    """The pattern rows, side by side with their regex twins, ratios in the report."""
    markdown = (quick_run[0] / "latest.md").read_text()
    assert "### Origin patterns vs the equivalent allow_origin_regex" in markdown
    scenarios = {s["name"]: s for s in results["micro"]["scenarios"]}
    assert PATTERN_SCENARIOS == ["pattern_one_origin", "pattern_4096_origins", "pattern_preflight"]
    assert scenarios["pattern_4096_origins"]["distinct_origins"] == len(TENANT_ORIGINS)
    targets = {t["where"] for t in results["targets"] if "origin pattern" in t["target"]}
    assert targets == set(PATTERN_SCENARIOS)
    for name in PATTERN_SCENARIOS:
        assert f"| {name} | " in markdown.split("### Origin patterns")[1].split("###")[0]
        for row in rows.PATTERN_ROWS:
            data = scenarios[name]["rows"][row]
            if data["status"] == "unavailable":
                unavailable(f"{row}: {data['reason']}")
            assert data["status"] == "ok" and "ratio_vs_regex" in data, data
    for name in set(scenarios) - set(PATTERN_SCENARIOS):
        assert not set(rows.PATTERN_ROWS) & set(scenarios[name]["rows"])


def test_pattern_rows_are_checked_against_starlette_with_the_regex() -> None:
    """A pattern that is not equivalent to the scenario's regex is caught before timing, by the
    probe origins even where the timed request alone would not show it."""
    scenario = by_name("pattern_one_origin")
    assert scenario.config["allow_origin_regex"] == PATTERN_REGEX
    assert scenario.pattern_config == {**BASE_CONFIG, "allow_origin_patterns": [PATTERN]}
    reference = rows.build("starlette", scenario)
    for row in ("fastcors-py-pattern", "fastcors-pattern"):
        try:
            rows.check(row, scenario, rows.build(row, scenario), reference)
        except rows.Unavailable as exc:  # compiled extension not built
            unavailable(str(exc))
    # Any port as well: the timed origin has none, but a probe does.
    loose = dataclasses.replace(scenario, pattern_config={**BASE_CONFIG, "allow_origin_patterns": [PATTERN + ":*"]})
    with pytest.raises(rows.WrongAnswer, match="8443"):
        rows.check("fastcors-py-pattern", loose, rows.build("fastcors-py-pattern", loose), reference)
    with pytest.raises(rows.Unavailable):
        rows.build("fastcors-pattern", by_name("regex_origin"))
    assert rows.for_scenario(by_name("regex_origin")) == rows.ROWS


@pytest.mark.parametrize("row", ["fastcors", "fastcors-py"])
def test_cycled_origins_miss_fastcors_regex_cache(row: str) -> None:
    """pattern_4096_origins is the regex's worst case: nearly every call misses."""
    from fastcors._rules import MEMO_SLOTS

    scenario = by_name("pattern_4096_origins")
    scopes = scenario.scopes()
    origins = [dict(scope["headers"])[b"origin"] for scope in scopes]
    assert len(set(origins)) == len(origins) > 2 * MEMO_SLOTS
    try:
        asgi = rows.build(row, scenario)
    except rows.Unavailable as exc:
        unavailable(str(exc))
    memo = asgi.policy.origins.regex_verdicts
    cycle = itertools.cycle(zip(scopes, origins, strict=True))
    hits = 0
    calls = len(origins) + MEMO_SLOTS + 1  # once round, and on into the second
    for _ in range(calls):
        scope, origin = next(cycle)
        hits += remembered(memo, origin) is not None
        drive.call_once(asgi, scope)
        assert remembered(memo, origin) is True and memo_size(memo) <= MEMO_SLOTS
    # A pair of slots keeps its last two origins, so one that few others share a pair with may
    # still be there when it comes round again.
    assert hits <= calls // 100


@pytest.mark.slow
def test_e2e_has_every_server_workload_and_row(results: dict[str, Any]) -> None:
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (apt-get install wrk)")
    servers = results["e2e"]["servers"]
    assert list(servers) == _available_servers()
    for kind, workloads in servers.items():
        assert "error" not in workloads, workloads.get("error")
        for workload in e2e.WORKLOADS:
            for row in e2e.ROWS:
                data = workloads[workload][row]
                assert data["rps"] > 0 and data["errors"] == 0, (kind, workload, row, data)
                if Path("/proc/self/stat").exists():  # the server's CPU use is read from /proc
                    assert data["server_cpu_us_per_request"] > 0, (kind, workload, row, data)
    missing = set(e2e.SERVERS) - set(servers)
    if missing:
        unavailable(f"servers not installed: {', '.join(sorted(missing))} (pip install fastcors[bench])")


@pytest.mark.slow
def test_memory_ran_every_configuration(results: dict[str, Any]) -> None:
    runs = results["memory"]["runs"]
    expected = {(impl, config) for impl in ("compiled", "python") for config in ("list", "regex")}
    assert {(r["impl"], r["config"]) for r in runs} == expected
    for run in runs:
        assert "error" not in run, run["error"]
        assert run["requests"] > 0 and run["rss_before"] > 0 and isinstance(run["grew"], bool)


def _memory_verdict(middleware: Any) -> dict[str, Any]:
    """bench.memory's measure on `middleware`: 3 memo cycles after a warm-up one, as the bench runs."""
    from bench import memory

    cycle = memory.memo_cycle_requests(1024)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"origin", b"https://a.example")]}
    return memory.measure_middleware(middleware, 3 * cycle, cycle, cycle, lambda: scope)


def test_memory_reports_a_leak_as_grew() -> None:
    """A middleware that keeps ~100 B per request is GREW: the bound check still catches a leak."""
    kept: list[bytes] = []

    async def leaking(scope: Any, receive: Any, send: Any) -> None:
        kept.append(bytes(100) + len(kept).to_bytes(8, "little"))  # a fresh object each time
        await drive.app(scope, receive, send)

    verdict = _memory_verdict(leaking)
    assert verdict["grew"] is True, verdict
    assert verdict["traced_growth"] > 64 * 1024


def test_memory_does_not_report_a_memo_that_starts_over_as_grew() -> None:
    """A memo cleared when full (as fastcors's pure memo is) is a bound, not growth."""
    memo: dict[bytes, bool] = {}
    counter = itertools.count()

    async def memoizing(scope: Any, receive: Any, send: Any) -> None:
        if len(memo) >= 1024:
            memo.clear()
        memo[b"https://t%x.example.org" % next(counter)] = True  # a new key every request
        await drive.app(scope, receive, send)

    verdict = _memory_verdict(memoizing)
    assert verdict["grew"] is False, verdict
    assert verdict["traced_peak_above_start"] > 0


def test_a_wrong_answer_is_never_timed() -> None:
    """rows.check refuses a middleware whose messages differ from Starlette's."""
    scenario = by_name("simple_allowed_credentials")
    reference = rows.build("starlette", scenario)

    def drop_last_header(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            async def send_fewer(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": message["headers"][:-1]}
                await send(message)

            await reference(scope, receive, send_fewer)

        return middleware

    rows.check("starlette", scenario, reference, reference)
    with pytest.raises(rows.WrongAnswer):
        rows.check("fastcors", scenario, drop_last_header(reference), reference)


def test_a_suspending_call_is_refused() -> None:
    """The loop-free driver must not time a call that would need an event loop."""

    class Suspend:
        def __await__(self) -> Any:
            yield

    async def suspending_app(scope: Any, receive: Any, send: Any) -> None:
        await Suspend()

    scope = SCENARIOS[0].scope()
    with pytest.raises(drive.SuspendedError):
        drive.time_batch(suspending_app, scope, 3)
    with pytest.raises(drive.SuspendedError):
        drive.call_once(suspending_app, scope)


def test_paths_bench_checks_every_row_and_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import paths

    assert paths.main(["--seconds", "0.2", "--no-callgrind"]) == 0
    table = capsys.readouterr().out
    for impl in paths.IMPLS:
        for row in paths.ROWS:
            assert f"| {impl} | {row} |" in table


def test_memory_report_states_the_requests_measured() -> None:
    """The report gives the runs' own count (whole memo cycles), not the count asked for."""
    from bench import report

    run = {"impl": "compiled", "config": "regex", "requests": 196_608, "windows": 48, "cycle_requests": 4_096}
    run |= {"traced_growth": 12, "traced_peak_above_start": 900, "rss_before": 2**20, "rss_after": 2**20}
    run |= {"rss_growth": 0, "grew": False}
    data = {"requests": 200_000, "warmup": 20_000, "traced_limit": 65_536, "rss_limit": 2**20, "runs": [run]}
    text = "\n".join(report._memory_lines(data))
    assert "196,608 requests" in text and "200,000" not in text
    assert "48 windows of one memo cycle (4,096)" in text
