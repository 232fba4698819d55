"""Instructions per request, as a server brings them: `python -m bench.callgrind [--old REF]`.

Counts, with valgrind's callgrind (deterministic), the instructions Starlette's
CORSMiddleware, fastcors compiled and fastcors pure-Python add to the bare app per request.
Unlike the timing harness (which sends one scope again and again), every request here gets a
fresh scope whose header names and values are new bytes objects and whose method is a new
str, as an ASGI server builds them: a bytes object caches its hash, so reusing one hides the
cost of hashing the origin and the requested headers.

Each count is one process (`python -c`, this checkout's `bench`, the measured tree's
`fastcors`): set up, warm up, then callgrind collects only around N requests (the toggle
helper of bench.compare_commits). Middleware minus bare app, divided by N. With `--old REF`,
REF is built in a temporary worktree and its fastcors rows are counted too (before/after).
Prints Markdown. Needs valgrind (with its headers) and a C compiler.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.compare_commits import REPO, build_helper, build_worktree, remove_worktree
from bench.scenarios import HOSTILE_SCENARIOS

# (name, scenario of bench.scenarios, whether the origin changes on every request)
SCENARIOS = (
    ("simple_allowed_credentials", "simple_allowed_credentials", False),
    ("no_origin", "no_origin", False),
    ("preflight_allowed", "preflight_allowed", False),
    ("regex_hit", "regex_origin", False),
    ("regex_new_origin", "regex_origin", True),  # every request a regex memo miss
    ("simple_denied", "simple_denied", False),
    ("preflight_denied", "preflight_denied", False),
    ("wildcard_preflight", "wildcard_preflight", False),
    ("many_headers", "many_headers", False),
    # fastcors compiled with an origin pattern, against the same with the equivalent regex
    # (the "fastcors-pattern" row, counted in these two only).
    ("pattern_hit", "pattern_one_origin", False),
    ("pattern_new_origin", "pattern_4096_origins", True),
)
# The hostile preflights (see bench.scenarios): a different requested-headers value on every
# request, each a new bytes object. Starlette takes milliseconds on some, under valgrind far
# more: fewer requests, fewer of warm-up (counts are deterministic, and the same every request).
HOSTILE = tuple((name, name, False) for name in HOSTILE_SCENARIOS)
HOSTILE_REQUESTS = 40
HOSTILE_WARMUP = 20
ROWS = ("starlette", "fastcors", "fastcors-py")
PATTERN_ROW = "fastcors-pattern"
# With `--observed`: fastcors compiled again, counting requests (fastcors.count_requests()); with
# an `on_denied` listener (that does nothing); with a report-only candidate equal to the policy
# (the verdicts always agree: compared, never reported), and refusing every origin (every
# allowed request reported, to an `on_report` that does nothing): each on top of the plain row.
OBSERVED_ROWS = ("fastcors+counting", "fastcors+on_denied", "fastcors+report_same", "fastcors+report_refusing")
TITLES = {"starlette": "Starlette", "fastcors": "fastcors compiled", "fastcors-py": "fastcors pure"}
WARMUP = 2000
BOOT = (
    "import sys, json; sys.path.insert(0, sys.argv[1]); "
    "from bench import callgrind; callgrind.child(json.loads(sys.argv[2]))"
)


# --- in the child process -------------------------------------------------------------------


def _scope_factory(scenario_name: str, new_origins: bool) -> Any:
    """A function i -> a fresh scope for request i (new bytes and str objects every call)."""
    from bench.scenarios import TENANT_ORIGINS, by_name

    scenario = by_name(scenario_name)
    template = scenario.scope()
    # bytearrays, so bytes(...) makes a new object (bytes(b) of a bytes returns b itself).
    pairs = [(bytearray(name), bytearray(value)) for name, value in template["headers"]]
    at = [i for i, (name, _) in enumerate(pairs) if name == b"origin"]
    origins = [bytearray(origin.encode()) for origin in TENANT_ORIGINS] if new_origins else []
    requested_at = [i for i, (name, _) in enumerate(pairs) if name == b"access-control-request-headers"]
    requested = [bytearray(value) for value in scenario.cycle_requested]
    method = bytearray(template["method"].encode())
    fixed = {key: value for key, value in template.items() if key not in ("headers", "method")}

    def scope(i: int) -> dict[str, Any]:
        headers = [(bytes(name), bytes(value)) for name, value in pairs]
        if origins:
            headers[at[0]] = (b"origin", bytes(origins[i % len(origins)]))
        if requested:
            headers[requested_at[0]] = (b"access-control-request-headers", bytes(requested[i % len(requested)]))
        return {**fixed, "method": method.decode("ascii"), "headers": headers}

    return scope


def _middleware(row: str, scenario_name: str) -> Any:
    from bench import drive
    from bench.scenarios import by_name

    scenario = by_name(scenario_name)
    config = scenario.pattern_config if row == PATTERN_ROW else scenario.config
    if row == "bare":
        return drive.app
    if row == "starlette":
        from starlette.middleware.cors import CORSMiddleware

        return CORSMiddleware(drive.app, **config)
    import fastcors  # (the observed rows' names only in this checkout's: --old trees lack them)
    from fastcors import _loader

    module = _loader.load_pure_python() if row == "fastcors-py" else _loader.load_compiled()
    if row == "fastcors+counting":
        fastcors.count_requests()
    elif row == "fastcors+on_denied":
        config = {**config, "on_denied": lambda event: None}
    elif row.startswith("fastcors+report"):
        candidate = fastcors.CORSSettings(**config) if row == "fastcors+report_same" else fastcors.CORSSettings()
        config = {**config, "report_only": candidate, "on_report": lambda report: None}
    return module.CORSMiddleware(drive.app, **config)


def _run(asgi: Any, scope: Any, first: int, count: int) -> None:
    from bench.drive import SuspendedError, discard, receive

    for i in range(first, first + count):
        coro = asgi(scope(i), receive, discard)
        try:
            coro.send(None)
        except StopIteration:
            continue
        raise SuspendedError(f"{asgi!r} suspended")


def child(args: dict[str, Any]) -> None:
    """Count one row of one scenario (see the module's docstring)."""
    import ctypes
    import gc

    sys.path.insert(0, args["tree"])
    import fastcors

    if not Path(fastcors.__file__).resolve().is_relative_to(Path(args["tree"]).resolve()):
        raise RuntimeError(f"fastcors imported from {fastcors.__file__}, not from {args['tree']}")
    asgi = _middleware(args["row"], args["scenario"])
    scope = _scope_factory(args["scenario"], args["new_origins"])
    _run(asgi, scope, 0, args["warmup"])
    gc.collect()
    gc.disable()
    toggle = ctypes.CDLL(args["helper"]).toggle
    toggle()  # callgrind counts from here...
    _run(asgi, scope, args["warmup"], args["requests"])
    toggle()  # ...to here


# --- in the parent --------------------------------------------------------------------------


def count(tree: Path, row: str, scenario: tuple[str, str, bool], requests: int, helper: Path, scratch: Path) -> int:
    """Instructions of `requests` requests of `row` in `scenario`, in one process under callgrind."""
    name, scenario_name, new_origins = scenario
    out = scratch / f"callgrind.{name}.{row}.{os.getpid()}.{abs(hash(str(tree)))}"
    warmup = HOSTILE_WARMUP if name in HOSTILE_SCENARIOS else WARMUP
    args = {"tree": str(tree), "row": row, "scenario": scenario_name, "new_origins": new_origins, "warmup": warmup}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-c",
        BOOT,
        str(REPO),
        json.dumps({**args, "requests": requests, "helper": str(helper)}),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("FASTCORS_NO_EXTENSIONS", "PYTHONPATH")}
    env["PYTHONHASHSEED"] = "0"
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd=scratch)
    out.unlink(missing_ok=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed ({name}, {row}):\n{done.stderr[-4000:]}")
    return int(found.group(1))


def measure(
    trees: dict[str, Path],
    requests: int,
    jobs: int,
    scratch: Path,
    scenarios: tuple[tuple[str, str, bool], ...],
    observed: bool = False,
) -> dict[str, dict[str, float]]:
    """{scenario: {column: instructions per request over the bare app}}; columns "row" or "row@label"."""
    from bench.scenarios import by_name

    helper = build_helper(scratch)
    here = trees["new"]
    runs: dict[tuple[str, str], Any] = {}
    counted: dict[str, int] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for scenario in scenarios:
            n = counted[scenario[0]] = min(requests, HOSTILE_REQUESTS) if scenario in HOSTILE else requests
            runs[scenario[0], "bare"] = pool.submit(count, here, "bare", scenario, n, helper, scratch)
            rows = (*ROWS, PATTERN_ROW) if by_name(scenario[1]).pattern_config is not None else ROWS
            if observed and scenario not in HOSTILE:
                rows = (*rows, *OBSERVED_ROWS)
            for row in rows:
                runs[scenario[0], row] = pool.submit(count, here, row, scenario, n, helper, scratch)
            if "old" in trees:
                for row in ROWS[1:]:
                    runs[scenario[0], f"{row}@old"] = pool.submit(
                        count, trees["old"], row, scenario, n, helper, scratch
                    )
        done = {key: future.result() for key, future in runs.items()}
    results: dict[str, dict[str, float]] = {}
    for scenario in scenarios:
        name = scenario[0]
        bare = done[name, "bare"]
        n = counted[name]
        results[name] = {
            column: (total - bare) / n
            for (scenario_name, column), total in done.items()
            if scenario_name == name and column != "bare"
        }
        results[name]["bare"] = bare / n
    return results


def table(results: dict[str, dict[str, float]], old_name: str | None, requests: int) -> str:
    columns = ["starlette", "fastcors", "fastcors-py"]
    header = ["scenario", "Starlette", "fastcors compiled", "fastcors pure", "Starlette ÷ compiled"]
    if old_name is not None:
        columns += ["fastcors@old", "fastcors-py@old"]
        header += ["compiled before", "pure before", "compiled after ÷ before", "pure after ÷ before"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|--:" * (len(header) - 1) + "|"]
    for name, values in results.items():
        if name in HOSTILE_SCENARIOS:
            continue
        cells = [name] + [f"{values[column]:,.0f}" for column in columns[:3]]
        cells.append(f"{values['starlette'] / values['fastcors']:.1f}x")
        if old_name is not None:
            cells += [f"{values[column]:,.0f}" for column in columns[3:]]
            cells.append(f"{values['fastcors'] / values['fastcors@old']:.2f}")
            cells.append(f"{values['fastcors-py'] / values['fastcors-py@old']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    miss, hit = results.get("regex_new_origin"), results.get("regex_hit")
    if miss and hit:
        ratios = ", ".join(f"{TITLES[row]} {miss[row] / hit[row]:.2f}x" for row in ROWS)
        lines.append(f"A regex memo miss (a new origin every request) against a hit: {ratios}.")
    patterns = [
        f"{label} {results[name][PATTERN_ROW]:,.0f} against {results[name]['fastcors']:,.0f} "
        f"({results[name][PATTERN_ROW] / results[name]['fastcors']:.2f}x)"
        for name, label in (("pattern_hit", "one origin repeated"), ("pattern_new_origin", "a new origin each time"))
        if PATTERN_ROW in results.get(name, {})
    ]
    if patterns:
        lines.append("An origin pattern against the equivalent regex, compiled: " + "; ".join(patterns) + ".")
    lines.append(
        f"Instructions per request beyond the bare app (callgrind, {requests:,} requests counted after "
        f"{WARMUP:,} of warm-up, fresh bytes objects in every request's scope, PYTHONHASHSEED=0)"
        + (f"; before = {old_name}." if old_name else ".")
    )
    return "\n".join(lines) + "\n"


def observed_table(results: dict[str, dict[str, float]]) -> str:
    """fastcors compiled with counting on, with an on_denied listener, with report-only: the cost of each."""
    header = ["scenario", "fastcors compiled"]
    for title in ("counting", "on_denied", "report-only, agreeing", "report-only, refusing all"):
        header += [title, "extra"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|--:" * (len(header) - 1) + "|"]
    for name, values in results.items():
        if OBSERVED_ROWS[0] not in values:
            continue
        cells = [name, f"{values['fastcors']:,.0f}"]
        for row in OBSERVED_ROWS:
            cells += [f"{values[row]:,.0f}", f"{values[row] - values['fastcors']:+,.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Instructions per request beyond the bare app: fastcors compiled as it is; counting requests "
        "(fastcors.count_requests()); with an on_denied listener that does nothing; with report_only "
        "the same policy (compared, never reported); with report_only refusing every origin (each "
        "allowed request reported to an on_report that does nothing)."
    )
    return "\n".join(lines) + "\n"


def hostile_table(results: dict[str, dict[str, float]]) -> str:
    """The hostile preflights: Starlette, compiled and pure side by side, with the ratios."""
    header = ["scenario", "Starlette", "fastcors compiled", "fastcors pure", "Starlette ÷ compiled", "Starlette ÷ pure"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|--:" * (len(header) - 1) + "|"]
    for name in HOSTILE_SCENARIOS:
        values = results.get(name)
        if values is None:
            continue
        cells = [name] + [f"{values[column]:,.0f}" for column in ROWS]
        cells.append(f"{values['starlette'] / values['fastcors']:.1f}x")
        cells.append(f"{values['starlette'] / values['fastcors-py']:.1f}x")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    small, large = results.get("hostile_16k_allowed"), results.get("hostile_64k_allowed")
    if small and large:
        ratios = ", ".join(f"{TITLES[row]} {large[row] / small[row]:.2f}x" for row in ROWS)
        lines.append(f"64 KB of allowed names against 16 KB: {ratios}.")
    lines.append(
        f"Instructions per request beyond the bare app (callgrind, {HOSTILE_REQUESTS} requests counted after "
        f"{HOSTILE_WARMUP} of warm-up, each with a different requested-headers value in new bytes objects, "
        "PYTHONHASHSEED=0)."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.callgrind", description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", help="also count fastcors at this revision (built in a temporary worktree)")
    parser.add_argument("--requests", type=int, default=5000, help="requests counted per run (default 5000)")
    parser.add_argument("--jobs", type=int, default=1, help="callgrind runs at once (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--hostile", action="store_true", help="only the hostile preflights")
    which.add_argument("--no-hostile", action="store_true", help="without the hostile preflights")
    parser.add_argument("--observed", action="store_true", help="also count with counting on, and with on_denied")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    scratch = Path(tempfile.mkdtemp(prefix="fastcors-callgrind-"))
    trees = {"new": REPO}
    old_name = None
    try:
        if args.old:
            trees["old"] = build_worktree(args.old, scratch / "old")
            old_name = subprocess.run(
                ["git", "-C", str(REPO), "log", "-1", "--format=%h %s", args.old], capture_output=True, text=True
            ).stdout.strip()
        scenarios = HOSTILE if args.hostile else SCENARIOS if args.no_hostile else SCENARIOS + HOSTILE
        results = measure(trees, args.requests, args.jobs, scratch, scenarios, args.observed)
    finally:
        if "old" in trees:
            remove_worktree(trees["old"])
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if not args.hostile:
        print(table(results, old_name, args.requests))
    if args.observed:
        print(observed_table(results))
    if not args.no_hostile:
        print(hostile_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
