"""Call an ASGI app without an event loop, time it, and record what it sends.

Nothing here ever suspends (the app, `receive` and `send` are coroutines that return at
once), so a call is `coro.send(None)` until StopIteration: the timing is the middleware and
the app, not an event loop.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
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


def call_once(asgi: Callable[..., Any], scope: dict[str, Any], send: Callable[..., Any] = discard) -> None:
    coro = asgi(scope, receive, send)
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise SuspendedError(f"{asgi!r} suspended")


def time_batch(asgi: Callable[..., Any], scope: dict[str, Any], calls: int) -> float:
    """Nanoseconds per call, averaged over `calls` back-to-back calls."""
    # The loop body is call_once inlined: the same fixed cost for every row, so it cancels
    # out of "middleware minus bare app".
    timer = time.perf_counter_ns
    start = timer()
    for _ in range(calls):
        coro = asgi(scope, receive, discard)
        try:
            coro.send(None)
        except StopIteration:
            continue
        coro.close()
        raise SuspendedError(f"{asgi!r} suspended")
    return (timer() - start) / calls


def time_batch_cycling(asgi: Callable[..., Any], scopes: Iterator[dict[str, Any]], calls: int) -> float:
    """Nanoseconds per call, averaged over `calls` calls, each on the next scope of `scopes`."""
    # time_batch's loop plus one next(): every row of a scenario pays it alike.
    timer = time.perf_counter_ns
    start = timer()
    for _ in range(calls):
        coro = asgi(next(scopes), receive, discard)
        try:
            coro.send(None)
        except StopIteration:
            continue
        coro.close()
        raise SuspendedError(f"{asgi!r} suspended")
    return (timer() - start) / calls


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
