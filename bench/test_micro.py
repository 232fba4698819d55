"""pytest-benchmark suite: every scenario x row (`pytest bench/`).

Absolute times per call, grouped by scenario. The overhead figures and the interleaved
comparison are `python -m bench`; this suite is the same calls under pytest-benchmark's
own calibration and statistics. Each row's answer is checked before it is timed. The
pattern scenarios add fastcors given an origin pattern next to fastcors and Starlette given
the equivalent regex (`-k pattern` runs only those).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgi_harness import unavailable

from bench import drive, rows
from bench.scenarios import SCENARIOS, Scenario

CASES = [(scenario, row) for scenario in SCENARIOS for row in rows.for_scenario(scenario)]


def _call_next(asgi: Callable[..., Any], scopes: Iterator[dict[str, Any]]) -> None:
    drive.call_once(asgi, next(scopes))


@pytest.mark.parametrize(("scenario", "row"), CASES, ids=[f"{s.name}-{row}" for s, row in CASES])
def test_micro(benchmark: Any, scenario: Scenario, row: str) -> None:
    try:
        asgi = rows.build(row, scenario)
    except rows.Unavailable as exc:
        reason = str(exc)
        if reason.startswith("n/a"):
            pytest.skip(f"{row}: {reason}")
        unavailable(f"{row}: {reason}")
    # A wrong answer fails the test instead of being timed.
    rows.check(row, scenario, asgi, rows.build("starlette", scenario))
    benchmark.group = scenario.name
    benchmark.extra_info["row"] = rows.ROW_TITLES[row]
    scopes = scenario.scopes()
    if len(scopes) == 1:
        benchmark(drive.call_once, asgi, scopes[0])
    else:  # a new origin on every call
        benchmark(_call_next, asgi, itertools.cycle(scopes))
