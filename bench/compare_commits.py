"""fastcors' default request path at two git revisions: `python -m bench.compare_commits OLD_REF`.

Builds OLD_REF (and `--new REF`, HEAD unless told; `--new worktree` takes this checkout as
built in place) in temporary git worktrees (`python setup.py build_ext --inplace`), then
measures the compiled middleware on the standard scenarios, with Starlette's arguments only
(no opt-in feature), each revision in its own Python processes:

- instructions per request, by valgrind's callgrind (deterministic): a process sets up and
  warms up, then counts only while it sends N requests (collection is switched on and off
  around the loop by a callgrind client request, from a tiny helper compiled with the C
  compiler); middleware minus bare app, per request. Repeated over a few memory layouts,
  since counts move a little with addresses; the largest per-function changes are listed.
- wall time: processes alternate between the revisions for several rounds (which goes first
  alternates too); each times batches of the bare app and the middleware in turn, per
  scenario, and reports the medians. Overhead = middleware median minus bare median; the
  table gives the median over rounds, and the median of the per-round new ÷ old ratios.

Prints Markdown. The worktrees are removed at the end, even on failure. Not part of
`make bench`: it takes a few minutes, and needs valgrind (with its headers) and a C compiler
for the instruction counts (`--no-callgrind` skips them).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import functools
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STANDARD = ("no_origin", "simple_allowed_credentials", "simple_denied", "preflight_allowed", "preflight_denied")
WORKTREE = "worktree"  # --new value: this checkout, as built in place
ROWS = ("bare", "middleware")
WARMUP_CALLS = 300  # per scenario and row, before anything is counted or timed
BATCH = 100  # calls per timed batch
SHOWN_CHANGES = 6  # per scenario: the largest per-function changes listed
SHOWN_CHANGE_MIN = 3.0  # instructions per request
# A child: the repository first on the path (for `bench`), then the revision's tree before it
# (for `fastcors`); -S keeps site-packages, and so the editable install, out of the way.
BOOT = (
    "import sys, json; sys.path.insert(0, sys.argv[1]); "
    "from bench import compare_commits; compare_commits.child(json.loads(sys.argv[2]))"
)
HELPER_SOURCE = "#include <valgrind/callgrind.h>\nvoid toggle(void) { CALLGRIND_TOGGLE_COLLECT; }\n"


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _describe(ref: str) -> str:
    return _git("log", "-1", "--format=%h %s", ref)


def build_worktree(ref: str, path: Path) -> Path:
    """Check `ref` out at `path` (a detached worktree) and build its extension in place."""
    _git("worktree", "add", "--detach", str(path), ref)
    done = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "FASTCORS_NO_EXTENSIONS"},
    )
    if done.returncode != 0 or not list((path / "fastcors").glob("_core*.so")):
        raise RuntimeError(f"building {ref} in {path} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return path


def remove_worktree(path: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], check=False)
    subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], check=False)


# --- in the child process -------------------------------------------------------------------


def child(args: dict[str, Any]) -> None:
    """Run in `python -S`: import fastcors from args['tree'], then count or time (see main)."""
    sys.path.insert(0, args["tree"])
    # Memory layouts differ by what is allocated before anything else: `layout` objects more in
    # each of the allocator's size classes (8 bytes apart, up to 512), so that the state of
    # every class's pools differs from one layout to the next (a free that empties a pool, or an
    # allocation that fills one, costs more: which of a request's objects does depends on it).
    layout = args.get("layout", 0)
    padding = [bytearray(layout * 1000), [bytes(size) for size in range(0, 480, 8) for _ in range(layout * 7)]]
    import ctypes

    from bench import drive
    from bench.scenarios import by_name
    from fastcors import _loader

    module = _loader.load_compiled()  # ImportError if this tree's extension is not built
    if not Path(module.__file__).resolve().is_relative_to(Path(args["tree"]).resolve()):
        raise RuntimeError(f"fastcors imported from {module.__file__}, not from {args['tree']}")
    built = {}
    for name in [args["scenario"]] if args["mode"] == "count" else STANDARD:
        scenario = by_name(name)
        scope = scenario.scope()
        middleware = module.CORSMiddleware(drive.app, **scenario.config)
        for asgi in (drive.app, middleware):
            drive.time_batch(asgi, scope, WARMUP_CALLS)
        built[name] = {"bare": drive.app, "middleware": middleware, "scope": scope}
    if args["mode"] == "count":
        gc.collect()
        gc.disable()
        toggle = ctypes.CDLL(args["helper"]).toggle
        target = built[args["scenario"]]
        toggle()  # callgrind counts from here...
        drive.time_batch(target[args["row"]], target["scope"], args["requests"])
        toggle()  # ...to here
        del padding
        return
    results = {}
    for name, target in built.items():
        timers = {row: functools.partial(drive.time_batch, target[row], target["scope"], BATCH) for row in ROWS}
        samples = drive.interleave(timers, args["seconds"], rounds=6)
        results[name] = {row: statistics.median(values) for row, values in samples.items()}
    print(json.dumps(results))


# --- in the parent --------------------------------------------------------------------------


def _child_command(tree: Path, args: dict[str, Any]) -> list[str]:
    return [sys.executable, "-S", "-c", BOOT, str(REPO), json.dumps({"tree": str(tree), **args})]


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FASTCORS_NO_EXTENSIONS", "PYTHONPATH")}
    env["PYTHONHASHSEED"] = "0"
    return env


def build_helper(scratch: Path) -> Path:
    """A shared library whose toggle() switches callgrind's collection on or off."""
    source, library = scratch / "callgrind_toggle.c", scratch / "callgrind_toggle.so"
    source.write_text(HELPER_SOURCE)
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    done = subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"cannot build the callgrind helper (valgrind headers? {compiler}?):\n{done.stderr}")
    return library


def _function_name(name: str) -> str:
    """A function's name, the same for both revisions: no path, clone suffix or Cython index."""
    name = name.split(" [")[0].rsplit(":", 1)[-1]
    name = re.sub(r"'\d+$", "", name)  # callgrind's recursion depth
    name = re.sub(r"\.(constprop|isra|part|cold)\.\d+", "", name)
    return re.sub(r"_\d+(__[a-z]\w*__)$", r"\1", name)  # Cython numbers the methods of a class


def read_profile(path: Path) -> dict[str, int]:
    """Instructions per function (exclusive) from a callgrind output file."""
    done = subprocess.run(
        ["callgrind_annotate", "--threshold=100", "--inclusive=no", "--auto=no", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    functions: dict[str, int] = collections.Counter()
    for line in done.stdout.splitlines():
        found = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*)$", line)
        if found and "PROGRAM TOTALS" not in line:
            functions[_function_name(found.group(2))] += int(found.group(1).replace(",", ""))
    return functions


def count_instructions(
    tree: Path, scenario: str, row: str, requests: int, layout: int, helper: Path, scratch: Path
) -> tuple[int, dict[str, int]]:
    """Instructions of `requests` requests (and per function), in one child process."""
    out = scratch / f"callgrind.{os.getpid()}.{time.monotonic_ns()}"
    args = {"mode": "count", "scenario": scenario, "row": row, "requests": requests, "layout": layout}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--callgrind-out-file={out}",
        *_child_command(tree, {**args, "helper": str(helper)}),
    ]
    env = {**_child_env(), "FASTCORS_COMPARE_PAD": "p" * (layout * 37)}  # moves the stack too
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd=scratch)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        out.unlink(missing_ok=True)
        raise RuntimeError(f"callgrind run failed ({command}):\n{done.stderr[-4000:]}")
    functions = read_profile(out) if layout == 0 else {}
    out.unlink(missing_ok=True)
    return int(found.group(1)), functions


def callgrind(trees: dict[str, Path], requests: int, layouts: int, jobs: int, scratch: Path) -> dict[str, Any]:
    """Per scenario and revision: instructions per request of the middleware beyond the bare app.

    Per layout (environment and heap padded differently, which moves addresses), middleware
    run minus bare app run, over N, both in processes of the same revision and layout: counts
    depend a little on addresses (glibc's memcpy and memset pick paths by alignment, for one),
    and the spread over layouts shows by how much.
    """
    helper = build_helper(scratch)
    runs: dict[tuple[str, str, str, int], Any] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for label, tree in trees.items():
            for layout in range(layouts):
                for name in STANDARD:
                    for row in ("middleware", "bare"):
                        runs[label, name, row, layout] = pool.submit(
                            count_instructions, tree, name, row, requests, layout, helper, scratch
                        )
            # The first run again: whether the counts repeat exactly.
            runs[label, STANDARD[0], "again", 0] = pool.submit(
                count_instructions, tree, STANDARD[0], "middleware", requests, 0, helper, scratch
            )
        done = {key: future.result() for key, future in runs.items()}
    results: dict[str, Any] = {
        "requests": requests,
        "layouts": layouts,
        "repeat": {
            label: done[label, STANDARD[0], "again", 0][0] - done[label, STANDARD[0], "middleware", 0][0]
            for label in trees
        },
    }
    for name in STANDARD:
        per_layout = {
            label: [
                (done[label, name, "middleware", layout][0] - done[label, name, "bare", layout][0]) / requests
                for layout in range(layouts)
            ]
            for label in trees
        }
        differences = [new - old for old, new in zip(per_layout["old"], per_layout["new"], strict=True)]
        old_functions, new_functions = done["old", name, "middleware", 0][1], done["new", name, "middleware", 0][1]
        changes = {
            function: (new_functions.get(function, 0) - old_functions.get(function, 0)) / requests
            for function in set(old_functions) | set(new_functions)
        }
        results[name] = {
            **{label: statistics.median(values) for label, values in per_layout.items()},
            "difference": statistics.median(differences),
            "difference_range": (min(differences), max(differences)),
            "bare": {label: done[label, name, "bare", 0][0] / requests for label in trees},
            "changes": sorted(
                ((function, change) for function, change in changes.items() if abs(change) >= SHOWN_CHANGE_MIN),
                key=lambda item: -abs(item[1]),
            )[:SHOWN_CHANGES],
        }
    return results


def wall_time(trees: dict[str, Path], rounds: int, seconds: float) -> dict[str, dict[str, Any]]:
    """Per scenario and revision: overhead ns per round (middleware median minus bare median)."""
    overheads: dict[str, dict[str, list[float]]] = {name: {label: [] for label in trees} for name in STANDARD}
    labels = list(trees)
    for round_number in range(rounds):
        order = labels if round_number % 2 == 0 else labels[::-1]
        for label in order:
            command = _child_command(trees[label], {"mode": "time", "seconds": seconds})
            done = subprocess.run(command, capture_output=True, text=True, check=False, env=_child_env())
            if done.returncode != 0:
                raise RuntimeError(f"timing run failed ({label}):\n{done.stderr[-4000:]}")
            for name, medians in json.loads(done.stdout).items():
                overheads[name][label].append(medians["middleware"] - medians["bare"])
        _progress(f"wall time: round {round_number + 1} of {rounds} done")
    results: dict[str, dict[str, Any]] = {}
    for name, by_label in overheads.items():
        ratios = [new / old for old, new in zip(by_label["old"], by_label["new"], strict=True)]
        results[name] = {
            **{label: statistics.median(values) for label, values in by_label.items()},
            "ratio": statistics.median(ratios),
            "ratio_range": (min(ratios), max(ratios)),
            "rounds": rounds,
        }
    return results


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def table(names: dict[str, str], counts: dict[str, Any] | None, times: dict[str, dict[str, Any]] | None) -> str:
    lines = [
        f"Default request path, old = {names['old']}, new = {names['new']}; compiled, Starlette's arguments only.",
        "",
        "| Scenario | instructions old | instructions new | new minus old | over layouts | change "
        "| ns old | ns new | new ÷ old (ns) | per-round range |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name in STANDARD:
        cells = [name]
        if counts is not None:
            c = counts[name]
            low, high = c["difference_range"]
            cells += [
                f"{c['old']:,.0f}",
                f"{c['new']:,.0f}",
                f"{c['difference']:+,.0f}",
                f"{low:+,.0f} to {high:+,.0f}",
                f"{c['difference'] / c['old']:+.1%}",
            ]
        else:
            cells += ["—"] * 5
        if times is not None:
            t = times[name]
            low, high = t["ratio_range"]
            cells += [f"{t['old']:,.0f}", f"{t['new']:,.0f}", f"{t['ratio']:.3f}", f"{low:.3f} to {high:.3f}"]
        else:
            cells += ["—"] * 4
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if counts is not None:
        bare = "; ".join(
            f"{name} " + ", ".join(f"{label} {value:,.0f}" for label, value in counts[name]["bare"].items())
            for name in STANDARD
        )
        repeat = ", ".join(f"{label} {difference:+,}" for label, difference in counts["repeat"].items())
        lines += [
            f"Instructions: per request, middleware minus bare app, callgrind counting only the "
            f"{counts['requests']:,} requests (after set-up and warm-up), each revision in its own processes "
            f"(PYTHONHASHSEED=0); median over {counts['layouts']} memory layouts, and the range of new minus old "
            f"over them. The same run repeated differed by {repeat} instructions in all. The bare app alone, "
            f"per request: {bare}.",
            "",
            f"Largest per-function changes, instructions per request, new minus old (at least "
            f"{SHOWN_CHANGE_MIN:g}; first layout; exclusive counts):",
            "",
        ]
        for name in STANDARD:
            changes = ", ".join(f"`{function}` {change:+,.1f}" for function, change in counts[name]["changes"])
            lines.append(f"- {name}: {changes or 'none'}")
        lines.append("")
    if times is not None:
        lines.append(
            f"ns: overhead per request (middleware median minus bare app median, batches of {BATCH} calls "
            f"alternating in each process); medians over {times[STANDARD[0]]['rounds']} rounds of processes "
            "alternating between the revisions; new ÷ old is the median of the per-round ratios."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_commits", description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="the revision to compare against (e.g. 49af37e)")
    parser.add_argument(
        "--new", default="HEAD", help=f"the revision measured (default HEAD; {WORKTREE!r}: this checkout as built)"
    )
    parser.add_argument(
        "--requests", type=int, default=20000, help="requests counted per callgrind run (default 20000)"
    )
    parser.add_argument("--layouts", type=int, default=3, help="memory layouts counted (default 3)")
    parser.add_argument("--rounds", type=int, default=12, help="wall-time rounds, each revision once (default 12)")
    parser.add_argument("--seconds", type=float, default=0.5, help="wall time per scenario and process (default 0.5)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="callgrind runs at once")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    parser.add_argument("--no-time", action="store_true", help="skip the wall-time rounds")
    args = parser.parse_args(argv)
    use_callgrind = not args.no_callgrind
    if use_callgrind and shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind), or pass --no-callgrind")

    scratch = Path(tempfile.mkdtemp(prefix="fastcors-compare-"))
    worktrees: list[Path] = []
    try:
        trees: dict[str, Path] = {}
        names: dict[str, str] = {}
        for label, ref in (("old", args.old), ("new", args.new)):
            if label == "new" and ref == WORKTREE:
                trees[label] = REPO
                dirty = _git("status", "--porcelain", "--", "fastcors")
                names[label] = f"this checkout ({_describe('HEAD')}{' + uncommitted changes' if dirty else ''})"
                continue
            _progress(f"building {ref} ...")
            path = scratch / label
            worktrees.append(path)
            trees[label] = build_worktree(ref, path)
            names[label] = _describe(ref)
        if use_callgrind:
            _progress("counting instructions ...")
        counts = callgrind(trees, args.requests, args.layouts, args.jobs, scratch) if use_callgrind else None
        times = None if args.no_time else wall_time(trees, args.rounds, args.seconds)
    finally:
        for path in worktrees:
            remove_worktree(path)
        shutil.rmtree(scratch, ignore_errors=True)
    print(table(names, counts, times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
