"""How close fastcors is to the floor: `python -m bench.floor`.

Compiles bench/floor_middleware.py (the least work any middleware answering like
Starlette's must do) with Cython into a temporary folder, then times it interleaved with
the bare app, Starlette's middleware and fastcors compiled, on three scenarios. The ratio
"Starlette ÷ floor" is the best any implementation could reach on this machine.
"""

from __future__ import annotations

import functools
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import drive, rows
from bench.scenarios import SCENARIOS

HERE = Path(__file__).parent
SCENARIO_NAMES = ("no_origin", "simple_denied", "preflight_allowed")


def compile_floor(build_dir: Path) -> Any:
    from Cython.Build import cythonize
    from setuptools import Distribution

    extensions = cythonize([str(HERE / "floor_middleware.py")], build_dir=str(build_dir), quiet=True)
    distribution = Distribution({"ext_modules": extensions})
    command = distribution.get_command_obj("build_ext")
    command.build_lib = str(build_dir)
    command.build_temp = str(build_dir / "tmp")
    distribution.run_command("build_ext")
    built = next(build_dir.rglob("floor_middleware*.so"))
    spec = importlib.util.spec_from_file_location("floor_middleware", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(floor_module: Any, rounds: int, calls: int) -> list[dict[str, float]]:
    results = []
    for scenario in SCENARIOS:
        if scenario.name not in SCENARIO_NAMES:
            continue
        candidates = {
            "bare": drive.app,
            "starlette": rows.build("starlette", scenario),
            "floor": floor_module.FloorMiddleware(drive.app),
            "fastcors": rows.build("fastcors", scenario),
        }
        scope = scenario.scope()
        timers = {name: functools.partial(drive.time_batch, asgi, scope, calls) for name, asgi in candidates.items()}
        samples = drive.interleave(timers, rounds=rounds)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        overhead = {name: medians[name] - medians["bare"] for name in ("starlette", "floor", "fastcors")}
        results.append({"scenario": scenario.name, **overhead})
    return results


def main(argv: list[str]) -> int:
    rounds = 20 if "--quick" in argv else 3000
    with tempfile.TemporaryDirectory() as tmp:
        floor_module = compile_floor(Path(tmp))
        results = measure(floor_module, rounds, calls=100)
    print("| Scenario | Starlette overhead ns | floor ns | fastcors ns | Starlette ÷ floor | Starlette ÷ fastcors |")
    print("|---|--:|--:|--:|--:|--:|")
    for r in results:
        print(
            f"| {r['scenario']} | {r['starlette']:,.0f} | {r['floor']:,.0f} | {r['fastcors']:,.0f} "
            f"| {r['starlette'] / r['floor']:.1f}x | {r['starlette'] / r['fastcors']:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
