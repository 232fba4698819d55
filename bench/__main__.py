"""`python -m bench [--quick] [--reference] [--out DIR]`: the headline benchmark.

Runs the interleaved micro-benchmarks, the end-to-end servers under wrk and the memory
check, shows progress on stderr, and writes latest.md, latest.json and latest.png under
bench/results/ (or --out), which git ignores; with --reference, reference.md, .json and .png
instead: the run the README quotes, committed on purpose. Targets are reported, not enforced: the exit status is 1 only
when something answered wrongly or a phase could not run.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path
from typing import Any

from bench import e2e, machine, memory, micro, report
from bench.progress import Progress
from bench.scenarios import SCENARIOS

PHASES = ["micro", "e2e", "memory"]
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def _planned(quick: bool, phases: list[str], servers: list[str]) -> dict[str, float]:
    planned = {
        "micro": len(SCENARIOS) * (1.0 if quick else 12.5),
        "e2e": e2e.planned_seconds(quick, servers),
        "memory": 12.0 if quick else 30.0,
    }
    return {phase: planned[phase] for phase in phases}


def _problems(results: dict[str, Any]) -> list[str]:
    """Wrong answers and failed phases: these make the exit status 1."""
    problems = [f"{phase}: {error}" for phase, error in results.get("errors", {}).items()]
    for scenario in results.get("micro", {}).get("scenarios", []):
        for row, data in scenario["rows"].items():
            if data["status"] == "wrong":
                problems.append(f"micro {scenario['name']}/{row}: {data['reason']}")
    for kind, data in results.get("e2e", {}).get("servers", {}).items():
        if "error" in data:
            problems.append(f"e2e {kind}: {data['error']}")
    for run in results.get("memory", {}).get("runs", []):
        if "error" in run:
            problems.append(f"memory {run['impl']}/{run['config']}: {run['error']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round of everything (smoke test)")
    parser.add_argument(
        "--reference", action="store_true", help="write the committed reference run (reference.*), not latest.*"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--only", default=",".join(PHASES), help="comma-separated phases: micro,e2e,memory")
    parser.add_argument("--servers", default=",".join(e2e.SERVERS), help="comma-separated: uvicorn,granian")
    args = parser.parse_args(argv)
    phases = [p for p in PHASES if p in args.only.split(",")]
    servers = [s for s in args.servers.split(",") if s]
    unknown = set(servers) - set(e2e.SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    if args.reference and (args.quick or phases != PHASES):
        parser.error("--reference is a full run of every phase")

    started = time.monotonic()
    results: dict[str, Any] = {
        "quick": args.quick,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine.info(),
        "errors": {},
        "interference": {},
    }
    progress = Progress(_planned(args.quick, phases, servers))
    runners = {
        "micro": lambda: micro.run_micro(args.quick, progress),
        "e2e": lambda: e2e.run_e2e(args.quick, progress, servers),
        "memory": lambda: memory.run_memory(args.quick, progress),
    }
    try:
        for phase in phases:
            progress.begin(phase)
            watch = machine.Interference()
            try:
                results[phase] = runners[phase]()
            except Exception as exc:  # report the rest even if one phase breaks
                results["errors"][phase] = f"{type(exc).__name__}: {exc}"
                progress.note(f"{phase} failed: {exc}")
            results["interference"][phase] = watch.result()
            progress.end()
    finally:
        progress.close()
    results["machine"]["load_average_at_end"] = machine.load_average()
    results["duration_s"] = time.monotonic() - started
    paths = report.write(results, args.out, "reference" if args.reference else "latest")

    print(report.markdown(results, detail=False))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    problems = _problems(results)
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
