"""Run an ASGI middleware on one request in memory and record everything it does."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    sent: list[dict[str, Any]] = field(default_factory=list)  # messages, as sent downstream
    app_scope: dict[str, Any] | None = None  # the scope the application received
    app_headers_after: list[Any] | None = None  # the app's own header lists, after the response
    error: str | None = None  # exception type, if the call raised


def run_sync(awaitable: Any) -> None:
    """Drive a coroutine that never suspends (our send/receive never do)."""

    async def main() -> None:
        await awaitable

    coro = main()
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("the coroutine suspended")


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

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        outcome.sent.append(copy.deepcopy(message))

    middleware = middleware_factory(app)
    try:
        run_sync(middleware(copy.deepcopy(scope), receive, send))
    except Exception as exc:
        outcome.error = type(exc).__name__
    outcome.app_headers_after = copy.deepcopy(app_lists)
    return outcome


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
