"""Targets (reported, never enforced), and the Markdown, JSON and PNG outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench import e2e, rows
from bench.scenarios import HOSTILE_SCENARIOS, PATTERN, PATTERN_PROBES, PATTERN_REGEX

COMPILED_RATIO = 10.0
COMPILED_PREFLIGHT_RATIO = 20.0
PURE_RATIO = 2.5  # the uncompiled twin, in each ordinary scenario
PURE_HOSTILE_RATIO = 1.0  # ... and on a hostile preflight: never above Starlette's cost
E2E_FRACTION = 0.98
E2E_TARGET_SERVER = "uvicorn"


def _ratio_text(ratio: float | None, decimals: int = 1) -> str:
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return "n/a"
    if math.isinf(ratio):
        return "∞ (≤ bare app)"
    return f"{ratio:.{decimals}f}x"


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per target check: what was measured, what was needed, pass or fail."""
    checks: list[dict[str, Any]] = []
    for scenario in results.get("micro", {}).get("scenarios", []):
        starlette = scenario["rows"].get("starlette", {}).get("overhead_ns")
        needs: tuple[tuple[str, float], ...] = (
            ("fastcors", COMPILED_PREFLIGHT_RATIO if scenario["preflight"] else COMPILED_RATIO),
            ("fastcors-py", PURE_RATIO),
        )
        if scenario["name"] in HOSTILE_SCENARIOS:  # the compiled module's: bench.callgrind --hostile
            needs = (("fastcors-py", PURE_HOSTILE_RATIO),)
        for row, needed in needs:
            data = scenario["rows"].get(row, {})
            ratio = data.get("ratio_vs_starlette")
            check = {
                "target": f"{rows.ROW_TITLES[row]} overhead ≥{needed:g}x lower than Starlette's",
                "where": scenario["name"],
                "measured": _ratio_text(ratio) if data.get("status") == "ok" else data.get("status", "missing"),
                "passed": ratio is not None and ratio >= needed,
            }
            if ratio is not None and not check["passed"] and starlette is not None:
                check["shortfall"] = (
                    f"overhead {data['overhead_ns']:.0f} ns, needs ≤{starlette / needed:.0f} ns "
                    f"({data['overhead_ns'] / (starlette / needed):.2f}x too slow)"
                )
            checks.append(check)
        pattern = scenario["rows"].get("fastcors-pattern")
        if pattern is not None:  # origin patterns: faster than the equivalent regex
            ratio = pattern.get("ratio_vs_regex")
            regex = scenario["rows"]["fastcors"]
            check = {
                "target": "fastcors compiled: origin pattern overhead lower than with the equivalent regex",
                "where": scenario["name"],
                "measured": pattern.get("status", "missing") if ratio is None else _ratio_text(ratio, 2),
                "passed": ratio is not None and ratio > 1,
            }
            if ratio is not None:
                ns = f"regex {_ns(regex['overhead_ns'])} ns, pattern {_ns(pattern['overhead_ns'])} ns"
                check["measured"] += f" ({ns})"
                if not check["passed"]:
                    check["shortfall"] = f"pattern {pattern['overhead_ns'] - regex['overhead_ns']:.0f} ns slower"
            checks.append(check)
    servers = results.get("e2e", {}).get("servers", {})
    for workload in e2e.WORKLOADS:
        data = servers.get(E2E_TARGET_SERVER, {}).get(workload, {}).get("fastcors")
        fraction = data["fraction_of_none"] if data else None
        # The ceiling: the app itself sending the same headers, with no middleware at all.
        ceiling = servers.get(E2E_TARGET_SERVER, {}).get(workload, {}).get("headers")
        measured = f"{fraction:.1%}" if fraction is not None else "not measured"
        if fraction is not None and ceiling:
            measured += f" (ceiling: app sending the headers itself {ceiling['fraction_of_none']:.1%})"
        check = {
            "target": f"{E2E_TARGET_SERVER}: fastcors throughput ≥{E2E_FRACTION:.0%} of no middleware",
            "where": workload,
            "measured": measured,
            "passed": fraction is not None and fraction >= E2E_FRACTION,
        }
        if fraction is not None and not check["passed"]:
            check["shortfall"] = f"{(E2E_FRACTION - fraction) * 100:.1f} points below"
        checks.append(check)
    for run in results.get("memory", {}).get("runs", []):
        grew = run.get("grew")
        checks.append(
            {
                "target": "no memory growth after warm-up",
                "where": f"{run['impl']} / {run['config']}",
                "measured": (
                    "error" if "error" in run else f"traced {run['traced_growth']:+,} B, RSS {run['rss_growth']:+,} B"
                ),
                "passed": grew is False,
            }
        )
    return checks


def _ns(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _row_cell(data: dict[str, Any], key: str) -> str:
    status = data.get("status")
    if status != "ok":
        return {"n/a": "n/a", "wrong": "WRONG OUTPUT"}.get(status or "", status or "missing")
    return _ns(data.get(key))


def _machine_lines(machine: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    return [
        f"- CPU: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
        f"load average at start {machine['load_average_at_start']}",
        f"- {machine['python']} on {machine['os']}; wrk: {machine['wrk']}",
        f"- {versions}",
        f"- git {machine['git']}{' + uncommitted changes to fastcors/' if machine.get('core_modified') else ''}; "
        f"compiled extension available: {machine['fastcors_compiled_available']}",
    ]


def _micro_lines(micro: dict[str, Any], detail: bool = True) -> list[str]:
    lines = [
        "## Micro-benchmarks: overhead per request",
        "",
        f"Overhead = median ns/call through the middleware minus the bare app's median in the same run. "
        f"Rows interleaved round-robin (rotated order), {micro['calls_per_batch']} calls per batch, "
        f"~{micro['seconds_per_scenario']:g} s per scenario, driven without an event loop.",
        "",
        "| Scenario | bare app ns/call | Starlette | fastcors compiled | fastcors pure | asgi-cors "
        "| Starlette ÷ compiled | Starlette ÷ pure |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in micro["scenarios"]:
        r = s["rows"]
        lines.append(
            f"| {s['name']} | {_row_cell(r['bare'], 'median_ns')} | {_row_cell(r['starlette'], 'overhead_ns')} "
            f"| {_row_cell(r['fastcors'], 'overhead_ns')} | {_row_cell(r['fastcors-py'], 'overhead_ns')} "
            f"| {_row_cell(r['asgi-cors'], 'overhead_ns')} "
            f"| {_ratio_text(r['fastcors'].get('ratio_vs_starlette'))} "
            f"| {_ratio_text(r['fastcors-py'].get('ratio_vs_starlette'))} |"
        )
    lines += _pattern_lines(micro)
    if not detail:
        return lines
    lines += [
        "",
        "### Every row",
        "",
        "| Scenario | Row | ns/call (median) | IQR | overhead ns | Starlette overhead ÷ this | rounds |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for s in micro["scenarios"]:
        for row, d in s["rows"].items():
            if d.get("status") != "ok":
                lines.append(f"| {s['name']} | {rows.ROW_TITLES[row]} | {_row_cell(d, '')} | | | | |")
                continue
            iqr = f"{d['q1_ns']:,.0f} to {d['q3_ns']:,.0f}"
            ratio = _ratio_text(d.get("ratio_vs_starlette")) if row not in ("bare", "starlette") else ""
            lines.append(
                f"| {s['name']} | {rows.ROW_TITLES[row]} | {d['median_ns']:,.0f} | {iqr} "
                f"| {_ns(d.get('overhead_ns'))} | {ratio} | {s['rounds']} |"
            )
    notes = sorted({d["reason"] for s in micro["scenarios"] for d in s["rows"].values() if d.get("reason")})
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return lines


def _pattern_lines(micro: dict[str, Any]) -> list[str]:
    """Pattern rows against their regex twins: is the pattern faster than the equivalent regex?"""
    scenarios = [s for s in micro["scenarios"] if "fastcors-pattern" in s["rows"]]
    if not scenarios:
        return []
    lines = [
        "",
        "### Origin patterns vs the equivalent allow_origin_regex",
        "",
        f"fastcors given `allow_origin_patterns=[{PATTERN!r}]` against fastcors and Starlette given "
        f'`allow_origin_regex=r"{PATTERN_REGEX}"`, which allows exactly the same origins (every pattern row '
        f"answered exactly as Starlette with the regex, on the timed requests and on {len(PATTERN_PROBES)} "
        "edge-case and look-alike origins, before timing). Overhead ns as above, from the same interleaved "
        "rounds; regex ÷ pattern above 1 means the pattern is faster. fastcors remembers regex verdicts "
        "(1,024 at most): with one origin repeated the regex costs a comparison (its best case); with "
        "4,096 origins cycled nearly every request misses the memo (the multi-tenant or attacker case).",
        "",
        "| Scenario | Starlette, regex | compiled, regex | compiled, pattern | compiled: regex ÷ pattern "
        "| compiled: pattern minus regex ns | Starlette ÷ compiled pattern | pure, regex | pure, pattern "
        "| pure: regex ÷ pattern |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in scenarios:
        r = s["rows"]
        pattern, regex = r["fastcors-pattern"], r["fastcors"]
        difference = (
            f"{pattern['overhead_ns'] - regex['overhead_ns']:+,.0f}"
            if "overhead_ns" in pattern and "overhead_ns" in regex
            else "—"
        )
        lines.append(
            f"| {s['name']} | {_row_cell(r['starlette'], 'overhead_ns')} | {_row_cell(regex, 'overhead_ns')} "
            f"| {_row_cell(pattern, 'overhead_ns')} | {_ratio_text(pattern.get('ratio_vs_regex'), 2)} | {difference} "
            f"| {_ratio_text(pattern.get('ratio_vs_starlette'))} | {_row_cell(r['fastcors-py'], 'overhead_ns')} "
            f"| {_row_cell(r['fastcors-py-pattern'], 'overhead_ns')} "
            f"| {_ratio_text(r['fastcors-py-pattern'].get('ratio_vs_regex'), 2)} |"
        )
    return lines


def _percent(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}%}"


def _e2e_lines(data: dict[str, Any]) -> list[str]:
    lines = ["## End to end", ""]
    if data.get("skipped"):
        return [*lines, f"Skipped: {data['skipped']}"]
    pin = (
        f"server pinned to CPU {data['server_cpus']}, wrk to CPU {data['wrk_cpus']}"
        if data.get("server_cpus")
        else "no CPU pinning (fewer than 2 CPUs)"
    )
    lines += [
        f"wrk, {data['threads']} thread, {data['connections']} connections, {data['rounds']} rounds of "
        f"{data['seconds_per_run']} s per row and workload (rows alternating), {pin}; medians over rounds; "
        "'vs no middleware' is the median of per-round ratios (rows of a round ran back to back). "
        "One worker process per server; the app is a small Starlette app (bench/e2e_app.py).",
        "",
        "| Server | Workload | Row | req/s | p50 ms | p99 ms | vs no middleware | ratio IQR "
        "| server busy | server CPU µs/req | vs no middleware by CPU | errors |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for kind, workloads in data["servers"].items():
        if "error" in workloads:
            lines.append(f"| {kind} | | | failed: {workloads['error'].splitlines()[0]} |" + " |" * 8)
            continue
        for workload, by_row in workloads.items():
            for row in e2e.ROWS:
                d = by_row[row]
                low, high = d["fraction_iqr"]
                spread = "" if row == "none" else f"{low:.1%} to {high:.1%}"
                cost = d.get("server_cpu_us_per_request")
                lines.append(
                    f"| {kind} | {workload} | {e2e.ROW_TITLES[row]} | {d['rps']:,.0f} | {d['p50_us'] / 1000:.2f} "
                    f"| {d['p99_us'] / 1000:.2f} | {d['fraction_of_none']:.1%} | {spread} "
                    f"| {_percent(d.get('server_busy'), 0)} | {'' if cost is None else f'{cost:.1f}'} "
                    f"| {_percent(d.get('cpu_fraction_of_none'), 1)} | {d['errors']} |"
                )
    busy = [
        d["server_busy"]
        for workloads in data["servers"].values()
        if "error" not in workloads
        for by_row in workloads.values()
        for d in by_row.values()
        if d.get("server_busy") is not None
    ]
    lines += [
        "",
        "Server busy = the server's CPU seconds per second under load (1 = a full core). CPU µs/req is the "
        "server's CPU time per request; 'by CPU' = no-middleware CPU per request ÷ this row's, a capacity "
        "ratio that does not depend on wrk keeping the server saturated.",
    ]
    if busy and min(busy) < SATURATED:
        lines.append(
            f"**Warning: a server was busy only {min(busy):.0%} of the time (below {SATURATED:.0%}): throughput was "
            "limited by the load generator or by wake-ups, not by the server, so 'vs no middleware' understates "
            "middleware cost; the 'by CPU' column is the steadier figure on this run.**"
        )
    return lines


def _memory_lines(data: dict[str, Any]) -> list[str]:
    # The runs measure whole memo cycles: their own request count, not the one asked for.
    measured = next((run for run in data["runs"] if "error" not in run), None)
    requests = measured["requests"] if measured else data["requests"]
    windows = ""
    if measured:
        windows = f" in {measured['windows']} windows of one memo cycle ({measured['cycle_requests']:,})"
    lines = [
        "## Memory",
        "",
        f"{requests:,} requests with random origins (listed, regex-shaped, unknown) and random "
        f"preflight header lists{windows}, after {data['warmup']:,} warm-up requests; one child process "
        "per run. Growth is the highest peak of the last third of the windows over that of the first "
        f"third. Growth limits: traced {data['traced_limit']:,} B, RSS {data['rss_limit']:,} B.",
        "",
        "| Implementation | Config | traced growth B | traced peak above start B | RSS before MiB | RSS after MiB "
        "| RSS growth B | growth? |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for run in data["runs"]:
        if "error" in run:
            lines.append(f"| {run['impl']} | {run['config']} | error | | | | | |")
            continue
        lines.append(
            f"| {run['impl']} | {run['config']} | {run['traced_growth']:+,} | {run['traced_peak_above_start']:,} "
            f"| {run['rss_before'] / 2**20:.1f} | {run['rss_after'] / 2**20:.1f} | {run['rss_growth']:+,} "
            f"| {'GREW' if run['grew'] else 'no'} |"
        )
    return lines


BUSY_SHARE = 0.05
SATURATED = 0.9


def _interference_lines(results: dict[str, Any]) -> list[str]:
    measured = {phase: data for phase, data in results.get("interference", {}).items() if data}
    if not measured:
        return []
    parts = ", ".join(
        f"{phase} {data['foreign_cpu_s']:.1f} CPU-s ({data['foreign_share']:.0%})" for phase, data in measured.items()
    )
    lines = [f"- other processes' CPU use during each phase (share of the machine): {parts}"]
    if any(data["foreign_share"] > BUSY_SHARE for data in measured.values()):
        lines.append(
            f"- **warning: the machine was busy with other work (>{BUSY_SHARE:.0%} of it) during this run: "
            "figures are noisier than usual; re-run on a quiet machine before trusting a close call**"
        )
    return lines


def markdown(results: dict[str, Any], detail: bool = True) -> str:
    """The report; without `detail`, the per-row micro table is left out (for the terminal)."""
    checks = targets(results)
    failed = [c for c in checks if not c["passed"]]
    lines = [
        f"# fastcors benchmark ({'quick' if results['quick'] else 'full'} run, {results['date']})",
        "",
        *_machine_lines(results["machine"]),
        f"- duration: {results['duration_s']:.0f} s; load average at end {results['machine']['load_average_at_end']}",
        *_interference_lines(results),
        "",
        f"## Targets: {len(checks) - len(failed)} of {len(checks)} met",
        "",
        "| Target | Where | Measured | Result |",
        "|---|---|---|---|",
    ]
    for c in checks:
        result = "pass" if c["passed"] else f"**FAIL** {c.get('shortfall', '')}".rstrip()
        lines.append(f"| {c['target']} | {c['where']} | {c['measured']} | {result} |")
    lines.append("")
    if "micro" in results:
        lines += [*_micro_lines(results["micro"], detail), ""]
    if "e2e" in results:
        lines += [*_e2e_lines(results["e2e"]), ""]
    if "memory" in results:
        lines += [*_memory_lines(results["memory"]), ""]
    for phase, error in results.get("errors", {}).items():
        lines.append(f"**{phase} failed**: `{error}`")
    return "\n".join(lines) + "\n"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 7.5), gridspec_kw={"width_ratios": [3, 2]})
    series = [
        ("starlette", "#d62728"),
        ("asgi-cors", "#7f7f7f"),
        ("fastcors-py", "#ff7f0e"),
        ("fastcors", "#1f77b4"),
        ("fastcors-pattern", "#17becf"),  # pattern scenarios only (the compiled pattern row)
    ]
    scenarios = results.get("micro", {}).get("scenarios", [])
    names = [s["name"] for s in scenarios]
    if not scenarios:
        left.text(0.5, 0.5, "micro-benchmarks not measured", ha="center", transform=left.transAxes)
        left.set_axis_off()
    else:
        # Each scenario's group holds the series it has (the pattern row only where there is one).
        present = [[row for row, _ in series if row in s["rows"]] for s in scenarios]
        for row, color in series:
            positions, values, labels, heights = [], [], [], []
            for k, s in enumerate(scenarios):
                if row not in s["rows"]:
                    continue
                cell, height = s["rows"][row], 0.8 / len(present[k])
                positions.append(k + (present[k].index(row) - (len(present[k]) - 1) / 2) * height)
                heights.append(height)
                values.append(cell.get("overhead_ns", 0) if cell.get("status") == "ok" else 0)
                labels.append(f"{cell['overhead_ns']:,.0f}" if cell.get("status") == "ok" else cell.get("status", ""))
            if positions:
                bars = left.barh(positions, values, height=heights, color=color, label=rows.ROW_TITLES[row])
                left.bar_label(bars, labels=labels, fontsize=6, padding=2)
        left.set_yticks(range(len(names)), names)
        left.invert_yaxis()
        # Linear on purpose: a log axis makes a 10x gap look small.
        left.set_xlabel("overhead per request, ns (median through middleware minus bare app)")
        title = "Micro-benchmark overhead (lower is better)"
        if any("fastcors-pattern" in s["rows"] for s in scenarios):
            title += "\npattern_*: Starlette and fastcors given the regex equivalent to the origin pattern"
        left.set_title(title, fontsize=10)
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8)

    servers = results.get("e2e", {}).get("servers", {})
    groups = [(k, w) for k, v in servers.items() if "error" not in v for w in v]
    if not groups:  # (an --only run without e2e): no empty axes, lines or legend
        right.text(0.5, 0.5, "end to end not measured", ha="center", transform=right.transAxes)
        right.set_axis_off()
    else:
        e2e_rows = [("headers", "#7f7f7f"), ("starlette", "#d62728"), ("fastcors", "#1f77b4")]
        for i, (row, color) in enumerate(e2e_rows):
            values = [servers[k][w][row]["fraction_of_none"] * 100 for k, w in groups]
            positions = [k + (i - 1) * 0.27 for k in range(len(groups))]
            label = "app sends the CORS headers (ceiling)" if row == "headers" else e2e.ROW_TITLES[row]
            bars = right.bar(positions, values, width=0.27, color=color, label=label)
            right.bar_label(bars, fmt="%.0f%%", fontsize=7)
            # A black tick on each bar: the same ratio by server CPU per request.
            xs, ys = [], []
            for x, (k, w) in zip(positions, groups, strict=True):
                by_cpu = servers[k][w][row].get("cpu_fraction_of_none")
                if by_cpu is not None:
                    xs.append(x)
                    ys.append(by_cpu * 100)
            label = "by server CPU" if i == len(e2e_rows) - 1 else None
            right.scatter(xs, ys, marker="_", s=300, color="black", label=label, zorder=3)
        right.axhline(100, color="black", linewidth=0.8)
        right.axhline(E2E_FRACTION * 100, color="green", linestyle="--", linewidth=0.8, label="target (uvicorn)")
        right.set_xticks(range(len(groups)), [f"{k}\n{w}" for k, w in groups])
        right.set_ylabel("throughput, % of no middleware")
        right.set_title("End to end (wrk, loopback)")
        right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    cpu = results["machine"]["cpu"]
    fig.suptitle(f"fastcors vs Starlette CORSMiddleware — {cpu}, {results['machine']['python']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict[str, Any], out: Path, name: str = "latest") -> dict[str, Path]:
    """`name`.md, .json and .png under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {suffix: out / f"{name}.{suffix}" for suffix in ("md", "json", "png")}
    results = {**results, "targets": targets(results)}
    paths["md"].write_text(markdown(results))
    paths["png"].unlink(missing_ok=True)  # never leave an older run's chart next to this table
    paths["json"].write_text(json.dumps(_json_safe(results), indent=1) + "\n")
    try:
        chart(results, paths["png"])
    except ImportError:  # matplotlib is a bench extra; the table and JSON still stand
        del paths["png"]
    return paths
