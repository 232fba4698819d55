"""Call an ASGI app without an event loop, time it, and record what it sends.

Nothing here ever suspends (the app, `receive` and `send` are coroutines that return at
once), so a call is `coro.send(None)` until StopIteration: the timing is the middleware and
the app, not an event loop.
"""

from __future__ import annotations

import copy
import gc
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

APP_HEADERS = ((b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2"))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The benchmark's application: the smallest realistic answer (start + body)."""
    # A fresh header list per response, as a framework's Response builds one.
    await send({"type": "http.response.start", "status": 200, "headers": list(APP_HEADERS)})
    await send({"type": "http.response.body", "body": b"OK"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def discard(message: dict[str, Any]) -> None:
    """The `send` used while timing: a server that costs nothing."""


class SuspendedError(RuntimeError):
    """The call suspended: it cannot be driven without an event loop."""


def time_calls(
    asgi: Callable[..., Any], scopes: Iterable[dict[str, Any]], calls: int, send: Callable[..., Any] = discard
) -> float:
    """Nanoseconds per call, averaged over one call per scope of `scopes` (`calls` of them)."""
    # The one timed loop: the same fixed cost for every row, so it cancels out of "middleware
    # minus bare app". Iterating `scopes` is the loop's own step, whether it repeats one scope
    # (itertools.repeat) or cycles through many.
    timer = time.perf_counter_ns
    start = timer()
    for scope in scopes:
        coro = asgi(scope, receive, send)
        try:
            coro.send(None)
        except StopIteration:
            continue
        coro.close()
        raise SuspendedError(f"{asgi!r} suspended")
    return (timer() - start) / calls


def time_batch(asgi: Callable[..., Any], scope: dict[str, Any], calls: int) -> float:
    """Nanoseconds per call, averaged over `calls` back-to-back calls on `scope`."""
    return time_calls(asgi, itertools.repeat(scope, calls), calls)


def time_batch_cycling(asgi: Callable[..., Any], scopes: Iterator[dict[str, Any]], calls: int) -> float:
    """Nanoseconds per call, averaged over `calls` calls, each on the next scope of `scopes`."""
    return time_calls(asgi, itertools.islice(scopes, calls), calls)


def call_once(asgi: Callable[..., Any], scope: dict[str, Any], send: Callable[..., Any] = discard) -> None:
    time_calls(asgi, (scope,), 1, send)


def interleave(
    timers: dict[str, Callable[[], float]],
    seconds: float = 0.0,
    rounds: int = 3,
    warmup: float = 0.0,
    on_round: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Each timer's samples (ns per call) from rounds that run every timer once, in turn.

    Each round rotates the order by one, so no row always runs right after another. Rounds
    run for `warmup` seconds unrecorded, then until `seconds` have passed and at least
    `rounds` rounds are recorded; `on_round(recorded rounds)` after each. The garbage
    collector is paused meanwhile (as timeit does): a collection would land on whichever row
    runs then.
    """
    order = list(timers)
    samples: dict[str, list[float]] = {name: [] for name in order}
    if not order:
        return samples
    warmup_until = time.monotonic() + warmup
    deadline = warmup_until + seconds
    recorded = 0
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        while True:
            now = time.monotonic()
            if now >= deadline and recorded >= rounds:
                break
            shift = recorded % len(order)
            for name in order[shift:] + order[:shift]:
                per_call = timers[name]()
                if now >= warmup_until:
                    samples[name].append(per_call)
            if now >= warmup_until:
                recorded += 1
            if on_round is not None:
                on_round(recorded)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def record(asgi: Callable[..., Any], scope: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages `asgi` sends for one call on a copy of `scope`."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(copy.deepcopy(message))

    call_once(asgi, copy.deepcopy(scope), send)
    return sent


def header_value(message: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in message.get("headers", ()):
        if bytes(key).lower() == name:
            return value if isinstance(value, bytes) else str(value).encode()
    return None
