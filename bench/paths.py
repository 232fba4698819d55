"""What per-path policies cost a request: `python -m bench.paths [--seconds S] [--no-callgrind]`.

The simple credentialed request of bench.scenarios (path `/api/items`) through fastcors with
no `paths`, with one prefix and with ten, none of them matching (so every prefix is looked at:
the worst case), and with one matching prefix whose policy has the same arguments, for the
request as is and under a root path (`/svc/api/items`, root path `/svc`). Every row
answers exactly as Starlette with the scenario's arguments (checked before timing).

Wall time: rounds of the rows in turn (bench.drive.interleave), medians of the overhead over
the bare app. Instructions: callgrind around N requests in a process per row (the toggle
helper of bench.compare_commits). Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import drive
from bench.compare_commits import REPO, build_helper
from bench.scenarios import by_name

SCENARIO = "simple_allowed_credentials"
ROWS = ("no paths", "1 prefix", "10 prefixes", "1 prefix, matching", "1 prefix, matching, root path")
ROOT_PATH = "/svc"  # the last row's request arrives as `uvicorn --root-path /svc` hands it over
IMPLS = ("compiled", "pure")
CALLS = 200
REQUESTS = 2000
BOOT = (
    "import sys, json; sys.path.insert(0, sys.argv[1]); "
    "from bench import paths; paths.child(json.loads(sys.argv[2]))"
)


def build(row: str, impl: str) -> Any:
    """The ASGI callable of `row` (the bare app for "bare")."""
    from fastcors import CORSSettings, _loader

    if row == "bare":
        return drive.app
    module = _loader.load_compiled() if impl == "compiled" else _loader.load_pure_python()
    config = by_name(SCENARIO).config
    other = CORSSettings(allow_origins=["*"])
    paths = {
        "no paths": None,
        "1 prefix": {"/public": other},
        "10 prefixes": {**{f"/section{i}/public": other for i in range(9)}, "/api/items/admin": other},
        "1 prefix, matching": {"/api": CORSSettings(**config)},
        "1 prefix, matching, root path": {"/api": CORSSettings(**config)},
    }[row]
    return module.CORSMiddleware(drive.app, **config, paths=paths)


def scope_of(row: str) -> dict[str, Any]:
    """The scenario's request; under the root path for the last row (the route path is the same)."""
    scope = by_name(SCENARIO).scope()
    if row.endswith("root path"):
        scope["root_path"] = ROOT_PATH
        scope["path"] = ROOT_PATH + scope["path"]
    return scope


def check() -> None:
    """Every row answers as Starlette with the scenario's arguments."""
    from starlette.middleware.cors import CORSMiddleware

    scope = by_name(SCENARIO).scope()
    expected = drive.record(CORSMiddleware(drive.app, **by_name(SCENARIO).config), scope)
    for impl in IMPLS:
        for row in ROWS:
            got = drive.record(build(row, impl), scope_of(row))
            if got != expected:
                raise AssertionError(f"{row} ({impl}) answers differently from Starlette: {got} != {expected}")


def wall_time(seconds: float) -> dict[str, dict[str, float]]:
    """Median overhead over the bare app, ns per request, per implementation and row."""
    timers = {"bare": (build("bare", "compiled"), scope_of("bare"))}
    for impl in IMPLS:
        for row in ROWS:
            timers[f"{impl}/{row}"] = (build(row, impl), scope_of(row))
    calls = {
        name: (lambda asgi=asgi, scope=scope: drive.time_batch(asgi, scope, CALLS))
        for name, (asgi, scope) in timers.items()
    }
    samples = drive.interleave(calls, seconds=seconds, rounds=5, warmup=min(1.0, seconds / 5))
    bare = statistics.median(samples["bare"])
    return {
        impl: {row: statistics.median(samples[f"{impl}/{row}"]) - bare for row in ROWS} for impl in IMPLS
    }


def child(args: dict[str, Any]) -> None:
    """In its own process: set up one row, warm it up, let callgrind count N requests."""
    import ctypes
    import gc

    asgi = build(args["row"], args["impl"])
    scope = scope_of(args["row"])
    drive.time_batch(asgi, scope, 300)
    gc.collect()
    gc.disable()
    toggle = ctypes.CDLL(args["helper"]).toggle
    toggle()
    drive.time_batch(asgi, scope, REQUESTS)
    toggle()


def instructions(row: str, impl: str, helper: Path, scratch: Path) -> int:
    """Instructions per request of `row` (callgrind, PYTHONHASHSEED=0)."""
    out = scratch / f"callgrind.{impl}.{row.replace(' ', '_').replace(',', '')}"
    command = [
        "valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={out}",
        sys.executable, "-c", BOOT, str(REPO), json.dumps({"row": row, "impl": impl, "helper": str(helper)}),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"})
    total = [line for line in done.stderr.splitlines() if "Collected :" in line]
    if done.returncode != 0 or not total:
        raise RuntimeError(f"callgrind failed for {row} ({impl}):\n{done.stderr[-3000:]}")
    return int(total[-1].split(":")[-1]) // REQUESTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="of interleaved timing (default 10)")
    parser.add_argument("--no-callgrind", action="store_true", help="wall time only")
    options = parser.parse_args(argv)
    check()
    times = wall_time(options.seconds)
    counts: dict[str, dict[str, int]] = {}
    if not options.no_callgrind:
        with tempfile.TemporaryDirectory() as scratch:
            helper = build_helper(Path(scratch))
            for impl in IMPLS:
                bare = instructions("bare", impl, helper, Path(scratch))
                counts[impl] = {row: instructions(row, impl, helper, Path(scratch)) - bare for row in ROWS}
    print(f"Per-path policies, scenario {SCENARIO} (path /api/items), overhead over the bare app per request.\n")
    print("| implementation | row | ns | ns more than no paths | instructions | more than no paths |")
    print("|---|---|--:|--:|--:|--:|")
    for impl in IMPLS:
        for row in ROWS:
            ns, base_ns = times[impl][row], times[impl]["no paths"]
            count = counts.get(impl, {}).get(row)
            base = counts.get(impl, {}).get("no paths")
            shown = ("", "") if count is None or base is None else (f"{count:,}", f"{count - base:+,}")
            print(f"| {impl} | {row} | {ns:,.0f} | {ns - base_ns:+,.0f} | {shown[0]} | {shown[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
