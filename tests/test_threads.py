"""One middleware, many threads: concurrent requests (churning both memo caches past their
bound) while another thread reconfigures it through a CORSHandle. Every answer must be the
one the old or the new configuration gives, caches stay bounded, nothing raises.

On a GIL build the switch interval is made tiny so threads interleave often; the same test
runs unchanged on a free-threaded build, where they truly run at once."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from asgi_harness import http_scope, run_sync

from fastcors import CORSHandle, CORSSettings

THREADS = 8
REQUESTS_PER_THREAD = 1500
CONFIGS = [
    CORSSettings(
        allow_origins=["https://a.example"],
        allow_origin_regex=r"https://o[0-9]+\.regex\.example",
        allow_methods=["GET", "PUT"],
        allow_headers=["x-a", "x-shared"],
        allow_credentials=True,
        expose_headers=["x-exposed-a"],
    ),
    CORSSettings(
        allow_origins=["https://b.example"],
        allow_origin_regex=r"https://o[0-9]*[02468]\.regex\.example",
        allow_methods=["GET", "DELETE"],
        allow_headers=["x-b", "x-shared"],
        max_age=60,
    ),
]


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def request(index: int) -> dict[str, Any]:
    """Simple requests and preflights, over more distinct origins and header lists than the caches hold."""
    origin = [b"https://a.example", b"https://b.example", f"https://o{index}.regex.example".encode()][index % 3]
    if index % 2:
        return http_scope("GET", [(b"origin", origin), (b"cookie", b"c=1")])
    requested = f"x-shared, x-h{index % 3000}" if index % 4 == 0 else "x-a, x-shared"
    return http_scope(
        "OPTIONS",
        [
            (b"origin", origin),
            (b"access-control-request-method", b"PUT" if index % 3 else b"DELETE"),
            (b"access-control-request-headers", requested.encode()),
        ],
    )


def answer(middleware: Any, scope: dict[str, Any]) -> tuple[int, tuple[tuple[bytes, bytes], ...]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_sync(middleware(scope, receive, send))
    return sent[0]["status"], tuple(sent[0]["headers"])


@contextmanager
def frequent_switches() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_concurrent_requests_and_reconfiguration(impl: ModuleType) -> None:
    indices = list(range(THREADS * REQUESTS_PER_THREAD))
    # What each configuration answers, one thread, its own middleware: the only correct answers.
    references = [impl.CORSMiddleware(app, **vars(settings)) for settings in CONFIGS]
    valid = {i: {answer(reference, request(i)) for reference in references} for i in indices}

    handle = CORSHandle()
    middleware = impl.CORSMiddleware(app, **vars(CONFIGS[0]), handle=handle)
    start = threading.Barrier(THREADS + 1)
    done = threading.Event()
    wrong: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    reconfigurations = 0

    def serve(mine: list[int]) -> None:
        start.wait()
        try:
            for i in mine:
                got = answer(middleware, request(i))
                if got not in valid[i]:
                    wrong.append((i, got))
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    def reconfigure() -> None:
        nonlocal reconfigurations
        start.wait()
        while not done.is_set():
            handle.reconfigure(CONFIGS[(reconfigurations + 1) % 2])
            reconfigurations += 1

    shuffled = random.Random(7).sample(indices, len(indices))
    workers = [threading.Thread(target=serve, args=(shuffled[n::THREADS],)) for n in range(THREADS)]
    changer = threading.Thread(target=reconfigure)
    with frequent_switches():
        for thread in [*workers, changer]:
            thread.start()
        for thread in workers:
            thread.join(timeout=120)
        done.set()
        changer.join(timeout=10)

    assert not errors, errors[:3]
    assert not wrong, wrong[:3]
    assert reconfigurations > 10  # the configuration really changed under the requests
    policy = middleware.policy
    assert len(policy.regex_verdicts) <= impl.CACHE_ENTRIES
    assert len(policy.header_verdicts) <= impl.CACHE_ENTRIES
