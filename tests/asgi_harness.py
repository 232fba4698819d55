"""The tests' shared plumbing: the CI rule, request builders, and running an ASGI middleware on
one request in memory, recording everything it does.

On the path through `pythonpath` in pyproject.toml: `from asgi_harness import ...`.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NoReturn

import pytest

# In CI (CI set) a missing browser, server, tool or compiled extension is a failure, never a skip.
IN_CI = bool(os.environ.get("CI"))

ACAO = b"access-control-allow-origin"
VARY_ORIGIN = (b"vary", b"Origin")


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_modules(*names: str) -> None:
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        unavailable(f"Python package(s) not installed: {', '.join(missing)}")


def compiled_module() -> ModuleType:
    """The compiled implementation, or `unavailable` when the extension is not built."""
    from fastcors import _loader

    try:
        return _loader.load_compiled()
    except ImportError as exc:
        unavailable(f"compiled extension not built: {exc}")


# ---------------------------------------------------------------------------- requests


def outcome(factory: Any, config: dict[str, Any], scope: dict[str, Any], responses: Any) -> Outcome | str:
    """What `factory(app, **config)` does with one request, or the exception that constructing it raised."""
    try:
        factory(lambda scope, receive, send: None, **config)
    except Exception as exc:
        return f"construction: {type(exc).__name__}"
    return run(lambda app: factory(app, **config), scope, responses)


def http_scope(
    method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None, path: str = "/"
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers or [],
        "client": ("127.0.0.1", 12345),
        "server": ("127.0.0.1", 8000),
    }


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def simple_scope(origin: str | bytes | None, *headers: tuple[bytes, bytes], path: str = "/") -> dict[str, Any]:
    """A GET with `origin` (none when None) and any further `headers`."""
    items = [] if origin is None else [(b"origin", _bytes(origin))]
    return http_scope("GET", [*items, *headers], path)


def preflight_scope(
    origin: str | bytes, method: str | bytes = b"GET", requested_headers: str | bytes | None = None
) -> dict[str, Any]:
    """An OPTIONS request asking for `method` (and `requested_headers`, when given) from `origin`."""
    items = [(b"origin", _bytes(origin)), (b"access-control-request-method", _bytes(method))]
    if requested_headers is not None:
        items.append((b"access-control-request-headers", _bytes(requested_headers)))
    return http_scope("OPTIONS", items)


# ---------------------------------------------------------------------------- running


@dataclass
class Outcome:
    sent: list[dict[str, Any]] = field(default_factory=list)  # messages, as sent downstream
    app_scope: dict[str, Any] | None = None  # the scope the application received
    app_headers_after: list[Any] | None = None  # the app's own header lists, after the response
    error: str | None = None  # exception type, if the call raised


def run_sync(awaitable: Any) -> None:
    """Drive a coroutine that never suspends (our send/receive never do); its exception propagates."""
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration:
        return
    steps.close()
    raise RuntimeError("the coroutine suspended")


async def receive_nothing() -> dict[str, Any]:
    """`receive` for a request without a body."""
    return {"type": "http.request", "body": b"", "more_body": False}


def run(middleware_factory: Any, scope: dict[str, Any], responses: list[list[dict[str, Any]]] | None = None) -> Outcome:
    """Call middleware(scope) where the app sends `responses[0]` (a list of messages).

    The app reuses the very header list objects it was given (apps do), so a middleware
    that mutates them would show up in `app_headers_after`.
    """
    outcome = Outcome()
    messages = responses[0] if responses else [{"type": "http.response.start", "status": 200}]
    app_lists = [m["headers"] for m in messages if isinstance(m.get("headers"), list)]

    async def app(app_scope: dict[str, Any], receive: Any, send: Any) -> None:
        outcome.app_scope = copy.deepcopy(app_scope)
        for message in messages:
            await send(dict(message))

    async def send(message: dict[str, Any]) -> None:
        outcome.sent.append(copy.deepcopy(message))

    middleware = middleware_factory(app)
    try:
        run_sync(middleware(copy.deepcopy(scope), receive_nothing, send))
    except Exception as exc:
        outcome.error = type(exc).__name__
    outcome.app_headers_after = copy.deepcopy(app_lists)
    return outcome


def through(impl: ModuleType, config: dict[str, Any], scope: dict[str, Any], responses: Any = None) -> Outcome:
    """`impl`'s middleware with `config` on one request; it must not raise."""
    outcome = run(lambda app: impl.CORSMiddleware(app, **config), scope, responses)
    assert outcome.error is None
    return outcome


def same_as_starlette(
    impl: ModuleType, config: dict[str, Any], scope: dict[str, Any], responses: Any = None
) -> Outcome:
    """`impl`'s outcome, which must equal Starlette's CORSMiddleware's with the same `config`."""
    from starlette.middleware.cors import CORSMiddleware

    ours = run(lambda app: impl.CORSMiddleware(app, **config), scope, responses)
    theirs = run(lambda app: CORSMiddleware(app, **config), scope, responses)
    assert ours == theirs
    return ours


# The "websocket.http.response" extension: a server that offers it lets a middleware refuse a
# handshake with an HTTP response.
DENIAL_EXTENSION = {"websocket.http.response": {}}


def ws_scope(origin: str | bytes | None, extensions: Any = DENIAL_EXTENSION, path: str = "/ws") -> dict[str, Any]:
    headers = [(b"host", b"testserver"), (b"sec-websocket-version", b"13")]
    if origin is not None:
        headers.append((b"origin", origin.encode("latin-1") if isinstance(origin, str) else origin))
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 12345),
        "server": ("testserver", 80),
        "subprotocols": [],
        "state": {},
    }
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


@dataclass
class WsOutcome:
    sent: list[dict[str, Any]] = field(default_factory=list)  # everything sent towards the client
    app_calls: list[tuple[Any, Any, Any]] = field(default_factory=list)  # what the app was called with
    received: int = 0  # how many messages were taken from the client
    originals: tuple[Any, Any, Any] | None = None  # the scope, receive and send handed to the middleware


def run_ws(middleware_factory: Any, scope: dict[str, Any], incoming: list[dict[str, Any]] | None = None) -> WsOutcome:
    """One handshake: the client sends `incoming` (connect by default); the app accepts and closes."""
    outcome = WsOutcome()
    messages = list(incoming if incoming is not None else [{"type": "websocket.connect"}])

    async def app(app_scope: Any, receive: Any, send: Any) -> None:
        outcome.app_calls.append((app_scope, receive, send))
        if app_scope["type"] != "websocket":
            return
        message = await receive()
        assert message["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})

    async def receive() -> dict[str, Any]:
        outcome.received += 1
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1006}

    async def send(message: dict[str, Any]) -> None:
        outcome.sent.append(message)

    outcome.originals = (scope, receive, send)
    run_sync(middleware_factory(app)(scope, receive, send))
    return outcome


def acao(result: Outcome | list[dict[str, Any]]) -> list[bytes]:
    """The Access-Control-Allow-Origin values of the first message sent (an Outcome's or a list's)."""
    sent = result.sent if isinstance(result, Outcome) else result
    return [value for name, value in sent[0]["headers"] if name == ACAO]


def remembered(memo: Any, key: bytes) -> bool | None:
    """The verdict a policy's memo holds for `key`, or None."""
    return memo.known(key)


def memo_size(memo: Any) -> int:
    """How many keys a policy's memo holds."""
    return len(memo)
