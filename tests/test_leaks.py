"""Exceptions and leaks, on both implementations.

An exception raised by the application (before or after it starts its response) or by the
server's `send` reaches the caller exactly as through Starlette's middleware: the same
object, after the same messages. And a loop over every request path leaves no growth: in
objects tracked by the garbage collector (by type), in allocated memory blocks, or in the
reference counts of objects shared between requests (the configuration, its constant tuples).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import http_scope, preflight_scope, receive_nothing, run_sync
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

ALLOWED = b"https://app.example.com"
CONFIG = {
    "allow_origins": [ALLOWED.decode()],
    "allow_origin_regex": r"https://[a-z]+\.preview\.example\.com",
    "allow_credentials": True,
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["X-Token"],
    "expose_headers": ["X-Total"],
}


class AppError(Exception):
    pass


class SendError(OSError):
    pass


def make_app(messages: list[dict[str, Any]], error: BaseException | None) -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in messages:
            await send(message)
        if error is not None:
            raise error

    return app


def call(middleware: Any, scope: dict[str, Any], send: Any) -> BaseException | None:
    try:
        run_sync(middleware(scope, receive_nothing, send))
    except BaseException as exc:
        return exc
    return None


START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
BODY = {"type": "http.response.body", "body": b"hello"}


@pytest.mark.parametrize(
    "sent_before",
    [[], [START], [START, BODY]],
    ids=["before-start", "after-start", "after-body"],
)
@pytest.mark.parametrize(
    "error_class",
    [AppError, KeyError, asyncio.CancelledError, KeyboardInterrupt],
    ids=lambda c: c.__name__,
)
@pytest.mark.parametrize("origin", [ALLOWED, b"https://evil.com", None], ids=["allowed", "denied", "no-origin"])
def test_app_exception_reaches_caller_as_through_starlette(
    impl: ModuleType, sent_before: list[dict[str, Any]], error_class: type[BaseException], origin: bytes | None
) -> None:
    headers = [(b"origin", origin)] if origin is not None else []
    results = []
    for factory in (impl.CORSMiddleware, StarletteCORSMiddleware):
        error = error_class("boom")
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append({**message, "headers": list(message.get("headers", []))} if "headers" in message else message)

        middleware = factory(make_app([dict(m) for m in sent_before], error), **CONFIG)
        caught = call(middleware, http_scope("GET", headers), send)
        assert caught is error  # the very object, not a wrapper or a copy
        assert error.__cause__ is None and error.__context__ is None
        results.append(sent)
    assert results[0] == results[1]


@pytest.mark.parametrize("origin", [ALLOWED, b"https://evil.com", None], ids=["allowed", "denied", "no-origin"])
@pytest.mark.parametrize("failing", [0, 1], ids=["start", "body"])
def test_send_exception_reaches_caller_as_through_starlette(
    impl: ModuleType, origin: bytes | None, failing: int
) -> None:
    # The server's send fails (client gone): the app sees it raised by its own await send(),
    # and it propagates to the caller unchanged.
    headers = [(b"origin", origin)] if origin is not None else []
    seen_by_app = []
    for factory in (impl.CORSMiddleware, StarletteCORSMiddleware):
        error = SendError("connection lost")
        calls = []

        async def send(message: dict[str, Any], calls: list[Any] = calls, error: BaseException = error) -> None:
            calls.append(message["type"])
            if len(calls) > failing:
                raise error

        async def app(scope: Any, receive: Any, send: Any, record: list[Any] = seen_by_app) -> None:
            try:
                await send(dict(START, headers=list(START["headers"])))
                await send(dict(BODY))
            except SendError as exc:
                record.append(exc)
                raise

        caught = call(factory(app, **CONFIG), http_scope("GET", headers), send)
        assert caught is error
        assert seen_by_app[-1] is error
        assert calls == ["http.response.start", "http.response.body"][: failing + 1]


def test_preflight_send_exception_propagates(impl: ModuleType) -> None:
    error = SendError("connection lost")

    async def send(message: dict[str, Any]) -> None:
        raise error

    scope = preflight_scope(ALLOWED, b"GET")
    assert call(impl.CORSMiddleware(make_app([], None), **CONFIG), scope, send) is error


# ---------------------------------------------------------------------------- leaks

PREFLIGHT = [(b"access-control-request-method", b"GET")]
REGEX_ORIGIN = b"https://pr.preview.example.com"
EVIL = b"https://evil.com"


def requested(name: str, value: bytes) -> tuple[bytes, bytes]:
    return (f"access-control-request-{name}".encode(), value)


# Every path through the middleware: (name, request headers, method, the app's exception).
PATHS: list[tuple[str, list[tuple[bytes, bytes]], str, BaseException | None]] = [
    ("simple-allowed", [(b"origin", ALLOWED)], "GET", None),
    ("simple-regex", [(b"origin", REGEX_ORIGIN)], "GET", None),
    ("simple-denied", [(b"origin", EVIL)], "GET", None),
    ("no-origin", [(b"host", b"example.com")], "GET", None),
    ("preflight-ok", [(b"origin", ALLOWED), *PREFLIGHT, requested("headers", b"x-token")], "OPTIONS", None),
    ("preflight-regex", [(b"origin", REGEX_ORIGIN), *PREFLIGHT], "OPTIONS", None),
    ("preflight-denied", [(b"origin", EVIL), requested("method", b"PUT")], "OPTIONS", None),
    ("preflight-headers", [(b"origin", ALLOWED), *PREFLIGHT, requested("headers", b"x-no")], "OPTIONS", None),
    ("preflight-pna", [(b"origin", ALLOWED), *PREFLIGHT, requested("private-network", b"true")], "OPTIONS", None),
    ("options-not-preflight", [(b"origin", ALLOWED)], "OPTIONS", None),
    ("app-raises-before", [(b"origin", ALLOWED)], "GET", AppError("before")),
    ("app-raises-after", [(b"origin", EVIL)], "GET", AppError("after")),
]
APP_HEADERS = [(b"content-type", b"text/plain"), (b"vary", b"Accept-Encoding")]


class Workload:
    """Runs every path once per round, reusing one middleware per configuration."""

    def __init__(self, impl: ModuleType) -> None:
        self.sent: list[Any] = []
        self.middlewares = [
            impl.CORSMiddleware(self.app, **CONFIG),
            impl.CORSMiddleware(self.app, allow_origins=["*"], allow_headers=["*"], allow_private_network=True),
        ]
        self.error: BaseException | None = None

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": APP_HEADERS})
        await send({"type": "http.response.body", "body": b"x"})
        if self.error is not None:
            raise self.error

    async def send(self, message: Any) -> None:
        self.sent.append(message)

    def round(self) -> None:
        for middleware in self.middlewares:
            for _, headers, method, error in PATHS:
                self.error = error
                caught = call(middleware, http_scope(method, list(headers)), self.send)
                assert caught is error
                if error is not None:
                    error.__traceback__ = None  # the test keeps the object; drop its frames


def shared_objects(workload: Workload) -> list[Any]:
    """Objects every request touches: configurations, policies, their constant tuples,
    the constants found in responses (the same object in several responses), the app."""
    objects: list[Any] = [workload.app.__func__, APP_HEADERS, *APP_HEADERS]
    for _, headers, _, _ in PATHS:  # the request values: reflected into responses, or cached
        objects += [pair for pair in headers] + [value for pair in headers for value in pair]
    for middleware in workload.middlewares:
        config = middleware.config
        objects += [config, getattr(middleware, "policy", config)]
        for field in ("preflight_headers", "simple_headers", "simple_before_origin", "simple_after_origin"):
            objects += [getattr(config, field), *getattr(config, field)]
        for answer in config.preflight_answers:
            # (Not the status: a small int is shared by the whole interpreter, whose other
            # users may take or drop references to it meanwhile.)
            objects += [answer, *answer[1:]]
    workload.round()
    seen: Counter[int] = Counter()
    candidates: dict[int, Any] = {}
    for message in workload.sent:
        for item in message.get("headers", ()):
            if isinstance(item, tuple):
                seen[id(item)] += 1
                candidates[id(item)] = item
    workload.sent.clear()
    return objects + [candidates[key] for key, count in seen.items() if count > 1]


def counts_by_type() -> Counter[str]:
    gc.collect()
    return Counter(type(obj).__qualname__ for obj in gc.get_objects())


ROUNDS = 300


def test_no_growth_over_every_path(impl: ModuleType) -> None:
    workload = Workload(impl)
    shared = shared_objects(workload)
    for _ in range(50):  # warm-up: caches, freelists, interned values
        workload.round()
        workload.sent.clear()
    counts_by_type()  # its own first call allocates a few objects for good
    gc.collect()
    refcounts = [sys.getrefcount(obj) for obj in shared]
    types_before = counts_by_type()
    blocks_before = sys.getallocatedblocks()

    for _ in range(ROUNDS):
        workload.round()
        workload.sent.clear()

    types_after = counts_by_type()
    blocks_after = sys.getallocatedblocks()
    requests = ROUNDS * len(PATHS) * len(workload.middlewares)
    grown = {name: types_after[name] - types_before[name] for name in types_after}
    grown = {name: n for name, n in grown.items() if n > 0}
    # A leak of one object per request would show as thousands; allow a little noise.
    assert sum(grown.values()) < 20, f"objects grew after {requests} requests: {grown}"
    assert blocks_after - blocks_before < 200, f"{blocks_after - blocks_before} memory blocks after {requests}"
    after = [sys.getrefcount(obj) for obj in shared]  # measured exactly as `refcounts` was
    changed = [
        (type(shared[i]).__name__, repr(shared[i])[:60], refcounts[i], after[i])
        for i in range(len(shared))
        if after[i] != refcounts[i]
    ]
    assert changed == [], f"reference counts changed after {requests} requests: {changed}"
    assert len(shared) > 30  # the harvest found the shared constants


def test_request_values_are_released(impl: ModuleType) -> None:
    # Values from the request (origin, requested headers) are referenced by the response
    # only while it exists. A short value may be kept as a memo's key, and as the last value
    # seen twice (compiled); a long one never is (the memos only hold short keys).
    workload = Workload(impl)
    short_origin = bytes(bytearray(b"https://app.example.com"))  # fresh objects, not constants
    long_origin = bytes(bytearray(b"https://" + b"a" * 5000 + b".preview.example.com"))
    short_header = bytes(bytearray(b"x-token"))
    long_header = bytes(bytearray(b"x-token," * 1000))

    def requests() -> None:
        for middleware in workload.middlewares:
            for origin, requested in ((short_origin, short_header), (long_origin, long_header)):
                headers = [(b"origin", origin), *PREFLIGHT, (b"access-control-request-headers", requested)]
                for method in ("GET", "OPTIONS"):
                    workload.error = None
                    assert call(middleware, http_scope(method, headers), workload.send) is None
        assert workload.sent  # responses were produced (and hold references)...
        workload.sent.clear()  # ...until they are gone

    long_before = [sys.getrefcount(long_origin), sys.getrefcount(long_header)]
    requests()
    gc.collect()  # before each count: a reference held only by a cycle would be gone
    assert [sys.getrefcount(long_origin), sys.getrefcount(long_header)] == long_before
    requests()  # seen twice: the last value seen now, too
    gc.collect()
    short_before = [sys.getrefcount(short_origin), sys.getrefcount(short_header)]
    for _ in range(50):
        requests()
    gc.collect()
    assert [sys.getrefcount(short_origin), sys.getrefcount(short_header)] == short_before
    assert [sys.getrefcount(long_origin), sys.getrefcount(long_header)] == long_before
