"""One middleware hammered from many threads while its settings are swapped from two sides.

Written for free-threaded Python, where the threads really run at once (`make
test-free-threaded`, and under ThreadSanitizer, `scripts/memcheck.sh tsan`), and run on the
GIL build too, with the switch interval at its minimum so threads interleave as often as the
interpreter allows.

Eight threads send simple requests and preflights (fixed origins, and more new origins and
requested headers than the memos hold, so their slots fill and are replaced) on three paths
(a per-path policy, a path with no CORS handling, the rest), while one thread reconfigures
the middleware through its handle and a FileSource swaps in the settings of a file that
another thread keeps replacing. Four settings take turns: origins and a regex, other
origins and regex, origin patterns, and per-path policies. Every swap is logged (in order:
the two writers are serialized), and each request notes how many swaps were logged when it
started and when it ended: its answer must be Starlette's (the installed CORSMiddleware,
configured as the policy for the request's path says) under one of the settings in force
meanwhile. Each of the four must also have been the only one to give some answers, so none
of them was left out; the memos stay bounded, and nothing raises.

FASTCORS_THREAD_ORIGINS (default: twice the memo slots) sets how many new origins are sent;
the TSAN run lowers it.
"""

from __future__ import annotations

import os
import random
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from asgi_harness import http_scope, memo_size, run_sync
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

from fastcors import CORSHandle, CORSSettings, FileSource
from fastcors._rules import MEMO_SLOTS
from fastcors._sources import settings_document

THREADS = 8
ROUNDS = 2  # each thread goes through all the requests this many times, in its own order
PATHS = ("/", "/p/x", "/none")  # the default policy, the "/p" policy, no CORS handling
FIRST = {
    "allow_origins": ["https://a.example", "https://x.example"],
    "allow_origin_regex": r"https://t\d+\.example\.org",
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["x-a"],
    "allow_credentials": True,
    "expose_headers": ["x-e"],
}
SECOND = {
    "allow_origins": ["https://b.example"],
    "allow_origin_regex": r"https://t\d*[02468]\.example\.org",
    "allow_methods": ["GET"],
    "allow_headers": ["x-a", "x-b"],
}
PATTERNS = {
    "allow_origins": ["https://x.example"],
    "allow_origin_patterns": ["https://*.example.org"],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["x-a", "x-1"],
    "allow_credentials": True,
}
# What the pattern allows (one or more labels of lower-case letters, digits, - or _), for Starlette.
PATTERNS_AS_REGEX = {
    **{k: v for k, v in PATTERNS.items() if k != "allow_origin_patterns"},
    "allow_origin_regex": r"https://[a-z0-9_-]+(\.[a-z0-9_-]+)*\.example\.org",
}
PER_PATH = {**SECOND, "paths": {"/p": CORSSettings(**FIRST), "/none": None}}
# Each settings: fastcors' arguments, and Starlette's for each path (None: no middleware).
CONFIGS: tuple[tuple[dict[str, Any], dict[str, dict[str, Any] | None]], ...] = (
    (FIRST, dict.fromkeys(PATHS, FIRST)),
    (SECOND, dict.fromkeys(PATHS, SECOND)),
    (PATTERNS, dict.fromkeys(PATHS, PATTERNS_AS_REGEX)),
    (PER_PATH, {"/": SECOND, "/p/x": FIRST, "/none": None}),
)
Request = tuple[str, tuple[tuple[bytes, bytes], ...], str]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def call(middleware: Any, request: Request) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    method, headers, path = request
    run_sync(middleware(http_scope(method, list(headers), path), receive, send))
    return sent


def requests(new_origins: int) -> list[Request]:
    """Simple requests and preflights: fixed origins on every path, and new origins and
    requested headers (more than the memos hold, by default) spread over the paths."""
    made: list[Request] = []
    for path in PATHS:
        made.append(("GET", (), path))
        for origin in (b"https://a.example", b"https://b.example", b"https://x.example", b"https://evil.example"):
            made.append(("GET", ((b"origin", origin),), path))
            made.append(("OPTIONS", ((b"origin", origin), (b"access-control-request-method", b"GET")), path))
    for i in range(new_origins):
        path = PATHS[i % len(PATHS)]
        origin = b"https://t%d.example.org" % i
        made.append(("GET", ((b"origin", origin), (b"cookie", b"c=1")), path))
        preflight = ((b"origin", origin), (b"access-control-request-method", b"POST"))
        made.append(("OPTIONS", (*preflight, (b"access-control-request-headers", b"x-a, x-%d" % (i % 3))), path))
        made.append(("OPTIONS", (*preflight, (b"access-control-request-headers", b"x-a, y-%d" % i)), path))
    return made


def starlette_answer(by_path: dict[str, dict[str, Any] | None], request: Request) -> list[dict[str, Any]]:
    config = by_path[request[2]]
    return call(app if config is None else StarletteCORSMiddleware(app, **config), request)


def test_many_threads_one_middleware(impl: ModuleType, tmp_path: Path) -> None:
    made = requests(int(os.environ.get("FASTCORS_THREAD_ORIGINS", 2 * MEMO_SLOTS)))
    expected = [[starlette_answer(by_path, request) for request in made] for _, by_path in CONFIGS]
    index = {settings_document(CORSSettings(**arguments)): k for k, (arguments, _) in enumerate(CONFIGS)}

    # Every swap, by either writer, is logged once it is done; the lock keeps the log in the
    # order of the swaps (a request reading len(log) sees at most one swap not yet logged).
    handle = CORSHandle()
    log: list[int] = []
    log_lock = threading.Lock()

    def logged_reconfigure(base: CORSSettings | None = None, /, **arguments: Any) -> None:
        with log_lock:
            CORSHandle.reconfigure(handle, base, **arguments)
            assert handle.settings is not None
            log.append(index.get(settings_document(handle.settings), -1))

    handle.reconfigure = logged_reconfigure  # type: ignore[method-assign]
    middleware = impl.CORSMiddleware(app, handle=handle, **FIRST)
    log.append(0)

    # For each request, the settings under which it is the only answer of its kind.
    alone = [
        [k for k in range(len(CONFIGS)) if sum(e[i] == expected[k][i] for e in expected) == 1] for i in range(len(made))
    ]
    only = [0] * len(CONFIGS)  # answers that only one settings gives, summed over the threads
    failures: list[str] = []
    unsure: list[tuple[int, int, int, list[dict[str, Any]]]] = []  # checked once the log is complete
    sizes: list[int] = []
    bound = MEMO_SLOTS + THREADS  # racing stores overshoot a dict's bound by at most one each
    done = threading.Event()
    start = threading.Barrier(THREADS + 3)
    settings_file = tmp_path / "cors.json"
    documents = [settings_document(CORSSettings(**CONFIGS[k][0])) for k in (2, 3)]
    settings_file.write_bytes(documents[0])

    def worker(seed: int) -> None:
        order = list(range(len(made))) * ROUNDS
        random.Random(seed).shuffle(order)
        mine = [0] * len(CONFIGS)
        start.wait()
        try:
            for n, i in enumerate(order):
                before = max(len(log) - 1, 0)  # the swap logged last, or one being made
                sent = call(middleware, made[i])
                after = len(log)  # a swap made meanwhile may not be logged yet: checked later
                for k in alone[i]:
                    mine[k] += sent == expected[k][i]
                if not any(sent == expected[k][i] for k in log[before:after]):
                    unsure.append((i, before, after, sent))
                if n % 64 == 0:
                    policy = middleware.policy
                    memos = (policy.origins.regex_verdicts, policy.preflight.headers.verdicts)
                    sizes.append(max(memo_size(memo) for memo in memos))
        except Exception as exc:  # a RuntimeError from a shared dict, say
            failures.append(f"{type(exc).__name__}: {exc}")
        with log_lock:
            only[:] = [a + b for a, b in zip(only, mine, strict=True)]

    def reconfigure() -> None:  # through the handle: the first two settings in turn
        start.wait()
        turn = 1
        while not done.wait(0.002):
            handle.reconfigure(**CONFIGS[turn][0])
            turn = 1 - turn

    def rewrite() -> None:  # the file the source follows, replaced atomically: the other two
        start.wait()
        turn = 1
        while not done.wait(0.003):
            replacement = settings_file.with_suffix(".new")
            replacement.write_bytes(documents[turn])
            replacement.replace(settings_file)
            turn = 1 - turn

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with FileSource(handle, settings_file, interval=0.001):
            threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
            writers = [threading.Thread(target=reconfigure), threading.Thread(target=rewrite)]
            for thread in [*threads, *writers]:
                thread.start()
            start.wait()
            for thread in threads:
                thread.join()
            done.set()
            for thread in writers:
                thread.join()
    finally:
        sys.setswitchinterval(interval)

    assert failures == []
    assert -1 not in log, "a swap installed settings that are none of the four"
    for i, before, after, sent in unsure:
        if not any(sent == expected[k][i] for k in log[before : after + 1]):
            failures.append(f"{made[i]!r} under settings {sorted(set(log[before : after + 1]))}: {sent!r}")
    assert failures == []
    assert len(sizes) == THREADS * -(-ROUNDS * len(made) // 64)
    assert 0 < max(sizes) <= bound
    # Each settings was the only one to give some answers: all four were in force while
    # requests ran (the swaps were not all before or after them).
    assert all(only), f"answers only each settings gives, by settings: {only}"


def test_many_threads_counted_observed_and_reported(impl: ModuleType) -> None:
    """Counting, on_denied, log_denials and report_only on one middleware from eight threads:
    every request counted once, every refusal told once, every report counted and tabled."""
    import fastcors

    events: list[Any] = []
    reports: list[Any] = []
    events_lock = threading.Lock()

    def on_denied(event: Any) -> None:
        with events_lock:
            events.append(event)

    def on_report(report: Any) -> None:
        with events_lock:
            reports.append(report)

    middleware = impl.CORSMiddleware(
        app,
        **FIRST,
        on_denied=on_denied,
        log_denials=True,
        report_only=CORSSettings(allow_origins=["https://a.example"], allow_credentials=True),
        on_report=on_report,
    )
    origins = ["https://a.example", "https://x.example", "https://evil.example"]
    each = 300
    start = threading.Barrier(THREADS)
    failures: list[str] = []

    def worker(seed: int) -> None:
        start.wait()
        try:
            for i in range(each):
                origin = origins[(i + seed) % 3].encode()
                call(middleware, ("GET", ((b"origin", origin),), "/"))
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")

    fastcors.count_requests()
    before = fastcors.request_counts()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        fastcors.count_requests(False)
    after = fastcors.request_counts()
    assert failures == []
    per_origin = THREADS * each // 3
    assert after[("simple", "allowed", "none")] - before[("simple", "allowed", "none")] == 2 * per_origin
    assert after[("simple", "denied", "origin")] - before[("simple", "denied", "origin")] == per_origin
    assert len(events) == per_origin and {event.origin for event in events} == {"https://evil.example"}
    # x.example: allowed in force, refused by the candidate.
    assert len(reports) == per_origin and {report.change for report in reports} == {"would_deny"}
    assert middleware.would_deny_origins() == [("https://x.example", per_origin)]
