"""pytest-benchmark suite: every scenario x row (`pytest bench/`).

Absolute times per call, grouped by scenario. The overhead figures and the interleaved
comparison are `python -m bench`; this suite is the same calls under pytest-benchmark's
own calibration and statistics. Each row's answer is checked before it is timed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench import drive, rows
from bench.scenarios import SCENARIOS, Scenario

IN_CI = bool(os.environ.get("CI"))


@pytest.mark.parametrize("row", rows.ROWS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_micro(benchmark: Any, scenario: Scenario, row: str) -> None:
    try:
        asgi = rows.build(row, scenario)
    except rows.Unavailable as exc:
        reason = str(exc)
        if IN_CI and not reason.startswith("n/a"):
            pytest.fail(f"{row}: {reason}")
        pytest.skip(f"{row}: {reason}")
    # A wrong answer fails the test instead of being timed.
    rows.check(row, scenario, asgi, rows.build("starlette", scenario))
    benchmark.group = scenario.name
    benchmark.extra_info["row"] = rows.ROW_TITLES[row]
    benchmark(drive.call_once, asgi, scenario.scope())
