"""Throughput against the number of threads, on one middleware shared by all of them.

    python -m bench.threads [--seconds S] [--threads 1,2,4]

Meant for a free-threaded interpreter with the GIL off (`make test-free-threaded` builds one,
.venv-3.13t), where threads run at once: if the rows scale alike, fastcors adds no contention
of its own. A shared memo slot written on every request, a lock or critical section held long,
or a shared counter would show as a curve flattening before the bare app's. Each thread cycles
through the same requests (a listed origin, a regex origin remembered in the memo, preflights
with requested headers, a refused origin), so all threads read the same memo slots at once.

Rows: the bare app (no middleware), Starlette's CORSMiddleware, fastcors compiled and its
pure-Python twin. Each cell is the best of --repeat runs of --seconds each, all the threads
started together (the rows take turns, so machine noise is spread over all of them): the
requests per second, their ratio to one thread's, and the CPU time per request summed over
the threads (each thread's own clock). With other processes on the cores, throughput says
little, but CPU per request still rises where threads running at once contend (a cache line
passed between cores, a lock spun on). A run with more threads than cores measures the
scheduler as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import threading
import time
from typing import Any

from bench.drive import app, discard, receive
from fastcors import _loader

CONFIG = {
    "allow_origins": ["https://app.example.com"],
    "allow_origin_regex": r"https://[a-z]+\.tenant\.example",
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["x-token", "content-type"],
    "allow_credentials": True,
}
REQUESTS = (
    ("GET", [(b"origin", b"https://app.example.com")]),
    ("GET", [(b"origin", b"https://shop.tenant.example"), (b"cookie", b"s=1")]),
    (
        "OPTIONS",
        [
            (b"origin", b"https://shop.tenant.example"),
            (b"access-control-request-method", b"POST"),
            (b"access-control-request-headers", b"x-token, content-type"),
        ],
    ),
    ("OPTIONS", [(b"origin", b"https://app.example.com"), (b"access-control-request-method", b"GET")]),
    ("GET", [(b"origin", b"https://evil.example")]),
)


def scopes() -> list[dict[str, Any]]:
    """One thread's requests (its own dicts: nothing shared but the middleware)."""
    return [
        {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1234),
            "server": ("127.0.0.1", 8000),
        }
        for method, headers in REQUESTS
    ]


def rows() -> dict[str, Any]:
    """Each row's factory: called once (shared) or once per thread (--separate)."""
    from starlette.middleware.cors import CORSMiddleware

    return {
        "no middleware": lambda: app,
        "starlette": lambda: CORSMiddleware(app, **CONFIG),
        "fastcors (compiled)": lambda: _loader.load_compiled().CORSMiddleware(app, **CONFIG),
        "fastcors (pure Python)": lambda: _loader.load_pure_python().CORSMiddleware(app, **CONFIG),
    }


def run(make: Any, threads: int, seconds: float, separate: bool) -> tuple[float, float]:
    """(requests per second, CPU nanoseconds per request), all `threads` calling the
    middleware `make()` built for `seconds`."""
    shared = make()
    counts = [0] * threads
    cpu = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(slot: int) -> None:
        mine = scopes()
        asgi = make() if separate else shared
        done = 0
        start.wait()
        began = time.thread_time_ns()
        while not stop.is_set():
            for _ in range(50):  # check the flag once per batch, not per request
                for scope in mine:
                    coro = asgi(scope, receive, discard)
                    try:  # noqa: SIM105 (contextlib.suppress would cost a context manager per call)
                        coro.send(None)
                    except StopIteration:
                        pass
                done += len(mine)
        counts[slot] = done
        cpu[slot] = time.thread_time_ns() - began

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - began), sum(cpu) / sum(counts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="each run's length (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell, the best kept (default 3)")
    parser.add_argument("--threads", default="1,2,4", help="thread counts (default 1,2,4)")
    parser.add_argument(
        "--separate", action="store_true", help="one middleware per thread: what sharing one costs, by difference"
    )
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.threads.split(",")]

    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    print(
        f"Python {sys.version.split()[0]}{'t' if free_threaded else ''}, GIL {'on' if gil else 'off'}, "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}: other processes take cores too); "
        f"{args.repeat} x {args.seconds:g} s per cell; "
        + ("one middleware per thread" if args.separate else "one middleware shared by all threads")
    )
    if gil:
        print("(with the GIL on, threads take turns: no row can scale)")
    table = rows()
    best: dict[tuple[str, int], float] = {}
    cpu: dict[tuple[str, int], float] = {}
    for _ in range(args.repeat):
        for threads in counts:
            for name, asgi in table.items():
                rate, ns = run(asgi, threads, args.seconds, args.separate)
                best[name, threads] = max(best.get((name, threads), 0.0), rate)
                cpu[name, threads] = min(cpu.get((name, threads), ns), ns)

    head = "| row | " + " | ".join(f"{n} thread{'s' * (n > 1)}" for n in counts) + " |"
    print(head)
    print("|---" * (len(counts) + 1) + "|")
    for name in table:
        one = best[name, counts[0]]
        cells = [
            f"{best[name, n] / 1e3:,.0f}k/s"
            + ("" if n == counts[0] else f" (x{best[name, n] / one:.2f})")
            + f", {cpu[name, n]:,.0f} ns CPU"
            for n in counts
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
