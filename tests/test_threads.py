"""One middleware hammered from many threads while a handle reconfigures it.

Written for free-threaded Python (where the threads really run at once) and run on the GIL
build too, with the switch interval at its minimum so threads interleave as often as the
interpreter allows. Every request gets Starlette's answer under one of the two
configurations (a request finishes under the configuration it started with), the memo
caches stay bounded while new origins and new requested headers churn them, and nothing
raises.
"""

from __future__ import annotations

import random
import sys
import threading
from types import ModuleType
from typing import Any

from asgi_harness import http_scope, memo_size, run_sync
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

from fastcors import CORSHandle

THREADS = 8
ROUNDS = 2  # each thread goes through all the requests this many times, in its own order
CONFIGS = (
    {
        "allow_origins": ["https://a.example", "https://x.example"],
        "allow_origin_regex": r"https://t\d+\.example\.org",
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["x-a"],
        "allow_credentials": True,
        "expose_headers": ["x-e"],
    },
    {
        "allow_origins": ["https://b.example"],
        "allow_origin_regex": r"https://t\d*[02468]\.example\.org",
        "allow_methods": ["GET"],
        "allow_headers": ["x-a", "x-b"],
    },
)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def call(middleware: Any, request: tuple[str, tuple[tuple[bytes, bytes], ...]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    method, headers = request
    run_sync(middleware(http_scope(method, list(headers)), receive, send))
    return sent


def requests(cache_entries: int) -> list[tuple[str, tuple[tuple[bytes, bytes], ...]]]:
    """Simple requests and preflights: fixed origins, and more new origins and requested
    headers than the caches hold."""
    made: list[tuple[str, tuple[tuple[bytes, bytes], ...]]] = [("GET", ())]
    for origin in (b"https://a.example", b"https://b.example", b"https://x.example", b"https://evil.example"):
        made.append(("GET", ((b"origin", origin),)))
        made.append(("OPTIONS", ((b"origin", origin), (b"access-control-request-method", b"GET"))))
    for i in range(2 * cache_entries):
        origin = b"https://t%d.example.org" % i
        made.append(("GET", ((b"origin", origin), (b"cookie", b"c=1"))))
        preflight = ((b"origin", origin), (b"access-control-request-method", b"POST"))
        made.append(("OPTIONS", (*preflight, (b"access-control-request-headers", b"x-a, x-%d" % (i % 3)))))
        made.append(("OPTIONS", (*preflight, (b"access-control-request-headers", b"x-a, y-%d" % i))))
    return made


def test_many_threads_one_middleware(impl: ModuleType) -> None:
    made = requests(impl.MEMO_SLOTS)
    expected = [
        [call(StarletteCORSMiddleware(app, **config), request) for request in made] for config in CONFIGS
    ]
    handle = CORSHandle()
    middleware = impl.CORSMiddleware(app, handle=handle, **CONFIGS[0])
    failures: list[str] = []
    sizes: list[int] = []
    under = [0, 0]  # answers only the first, or only the second, configuration gives
    done = threading.Event()
    start = threading.Barrier(THREADS + 1)
    bound = impl.MEMO_SLOTS + THREADS  # racing stores overshoot a dict's bound by at most one each

    def worker(seed: int) -> None:
        order = list(range(len(made))) * ROUNDS
        random.Random(seed).shuffle(order)
        start.wait()
        try:
            for i in order:
                sent = call(middleware, made[i])
                first, second = sent == expected[0][i], sent == expected[1][i]
                if not (first or second):
                    failures.append(f"{made[i]!r}: {sent!r}")
                elif first != second:
                    under[second] += 1
                policy = middleware.policy
                sizes.append(max(memo_size(policy.regex_verdicts), memo_size(policy.header_verdicts)))
        except Exception as exc:  # a RuntimeError from a shared dict, say
            failures.append(f"{type(exc).__name__}: {exc}")

    def reconfigure() -> None:
        start.wait()
        turn = 1
        while not done.wait(0.002):
            handle.reconfigure(**CONFIGS[turn])
            turn = 1 - turn

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
        swapper = threading.Thread(target=reconfigure)
        for thread in [*threads, swapper]:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        swapper.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
    assert len(sizes) == THREADS * ROUNDS * len(made)
    assert 0 < max(sizes) <= bound
    # Both configurations were in force while requests ran (the swaps were not all before or after).
    assert under[0] > 0 and under[1] > 0
