"""What attacker-controlled sizes cost: `python -m bench.hostile`.

Each case is one request whose size the client (or, for `vary`, the application) chooses, at
growing sizes: the wall time a call of Starlette's CORSMiddleware, fastcors compiled and fastcors
pure-Python add to the bare app, with fresh bytes for the grown value on every call (a copy
made for the bare app too, so it cancels out). The figures the README's security section
states. Prints Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import drive
from bench.scenarios import ALLOWED, BASE_CONFIG, BROWSER_HEADERS, allowed_names

ROWS = ("starlette", "fastcors", "fastcors-py")
TITLES = {"starlette": "Starlette", "fastcors": "fastcors compiled", "fastcors-py": "fastcors pure"}


def _middleware(row: str, app: Any, config: dict[str, Any]) -> Any:
    if row == "bare":
        return app
    if row == "starlette":
        from starlette.middleware.cors import CORSMiddleware

        return CORSMiddleware(app, **config)
    from fastcors import _loader

    module = _loader.load_pure_python() if row == "fastcors-py" else _loader.load_compiled()
    return module.CORSMiddleware(app, **config)


def _scope(method: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "root_path": "", "query_string": b"", "headers": headers}


def _preflight(name: bytes, value: bytes) -> Callable[[bytes], dict[str, Any]]:
    """A preflight whose header `name` is the grown value (the others as a browser sends them)."""
    base = {
        b"origin": ALLOWED.encode(),
        b"access-control-request-method": b"POST",
        b"access-control-request-headers": b"content-type",
    }

    def scope(grown: bytes) -> dict[str, Any]:
        fields = {**base, name: grown}
        return _scope("OPTIONS", [*BROWSER_HEADERS, *fields.items()])

    return scope


def _lines(count: int) -> list[tuple[bytes, bytes]]:
    return [(f"x-line-{i:06d}".encode(), b"v") for i in range(count)]


def _vary_app(count: int) -> Any:
    headers = [(b"vary", f"X-Vary-{i}".encode()) for i in range(count)]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"OK"})

    return app


def _simple(origin: bytes, lines: int = 0) -> dict[str, Any]:
    return _scope("GET", [*_lines(lines), *BROWSER_HEADERS, (b"origin", origin)])


def _preflight_after_lines(lines: int) -> Callable[[bytes], dict[str, Any]]:
    preflight = _preflight(b"access-control-request-headers", b"")
    return lambda grown: _scope("OPTIONS", [*_lines(lines), *preflight(grown)["headers"]])


BYTES = [1 << 10, 1 << 16, 1 << 20]
LINES = [100, 2_000, 20_000]


# (case, sizes, what a size means, config, app factory(size) or None, size -> (grown value, scope(grown)))
def _cases() -> list[tuple[str, list[int], str, dict[str, Any], Any, Any]]:
    requested = _preflight(b"access-control-request-headers", b"")
    long_origin = lambda size: b"https://" + b"a" * (size - 8)  # noqa: E731
    return [
        ("requested headers, allowed names", BYTES, "bytes", BASE_CONFIG, None,
         lambda size: (allowed_names(size, 0), requested)),
        ("requested headers, refused at the first item", BYTES, "bytes", BASE_CONFIG, None,
         lambda size: (b"x-evil," + allowed_names(size - 7, 0), requested)),
        ("Origin, preflight, refused", BYTES, "bytes", BASE_CONFIG, None,
         lambda size: (long_origin(size), _preflight(b"origin", b""))),
        ("Origin, simple request, refused", BYTES, "bytes", BASE_CONFIG, None,
         lambda size: (long_origin(size), _simple)),
        ("Access-Control-Request-Method", BYTES, "bytes", {**BASE_CONFIG, "allow_methods": ["*"]}, None,
         lambda size: (b"P" * size, _preflight(b"access-control-request-method", b""))),
        ("header lines, preflight", LINES, "lines", BASE_CONFIG, None,
         lambda size: (b"content-type", _preflight_after_lines(size))),
        ("header lines, simple request", LINES, "lines", BASE_CONFIG, None,
         lambda size: (ALLOWED.encode(), lambda grown: _simple(grown, size))),
        ("Vary headers from the app", [10, 1_000, 10_000], "headers", {**BASE_CONFIG, "allow_credentials": True},
         _vary_app, lambda size: (ALLOWED.encode(), _simple)),
    ]  # fmt: skip


def _time(asgi: Any, make: Callable[[bytes], dict[str, Any]], grown: bytes, calls: int) -> float:
    """Nanoseconds per call, each call on a fresh copy of `grown` (new bytes: no cached hash)."""
    source = bytearray(grown)
    scopes = [make(bytes(source)) for _ in range(calls)]
    return drive.time_calls(asgi, scopes, calls)


def measure(seconds: float) -> list[dict[str, Any]]:
    results = []
    for case, sizes, unit, config, app_factory, factory in _cases():
        for size in sizes:
            grown, make = factory(size)
            app = drive.app if app_factory is None else app_factory(size)
            rows = {row: _middleware(row, app, config) for row in ("bare", *ROWS)}
            reference = drive.record(rows["starlette"], make(grown))
            for row in ROWS[1:]:
                if drive.record(rows[row], make(grown)) != reference:
                    raise AssertionError(f"{row} differs from Starlette in {case} at {size} {unit}")
            calls = max(20, min(200, int(2e7 // max(size, 1000))))  # (at most 20 MB of fresh copies)
            samples: dict[str, list[float]] = {row: [] for row in rows}
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline or len(samples["bare"]) < 3:
                for row, asgi in rows.items():
                    samples[row].append(_time(asgi, make, grown, calls))
            bare = statistics.median(samples["bare"])
            results.append(
                {"case": case, "size": size, "unit": unit}
                | {row: statistics.median(samples[row]) - bare for row in ROWS}
            )
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| case | size | Starlette µs | compiled µs | pure µs | Starlette ÷ compiled |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        cells = [r["case"], f"{r['size']:,} {r['unit']}"] + [f"{r[row] / 1000:,.1f}" for row in ROWS]
        cells.append(f"{r['starlette'] / r['fastcors']:.0f}x" if r["fastcors"] > 0 else "∞")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Wall time a call adds to the bare app (median of interleaved rounds), fresh bytes on every call.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per case and size (default 1)")
    args = parser.parse_args(argv)
    print(table(measure(args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
