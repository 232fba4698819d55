"""The middleware under each anyio backend: asyncio, asyncio on uvloop, and trio, in process.

Many requests run concurrently through ONE middleware instance, and the app, `receive`
and `send` all really suspend, so requests interleave the way they do in a server. Every
request's messages must equal what Starlette's CORSMiddleware sends for it under the
same backend. (The real-server runs on these loops are in test_rw_servers.py.)
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import anyio
import pytest
import sniffio
from asgi_harness import require_modules
from starlette.middleware.cors import CORSMiddleware as StarletteCORS

from .rw_served.asgi_parts import read_body
from .rw_served.settings import ALLOWED_ORIGIN, CORS_OPTIONS, DENIED_ORIGIN

BACKENDS = {
    "asyncio": ("asyncio", {}),
    "uvloop": ("asyncio", {"use_uvloop": True}),
    "trio": ("trio", {}),
}
ROUNDS = 8  # each round sends every kind of request once, all concurrently


def _requests() -> list[tuple[str, list[tuple[bytes, bytes]], bytes]]:
    """(method, headers, body) for each kind of request, the path is added per request."""
    allowed, denied = ALLOWED_ORIGIN.encode(), DENIED_ORIGIN.encode()
    preflight = [(b"access-control-request-method", b"PUT"), (b"access-control-request-headers", b"x-custom")]
    return [
        ("GET", [(b"origin", allowed)], b""),
        ("GET", [(b"origin", denied)], b""),
        ("GET", [], b""),
        ("OPTIONS", [(b"origin", allowed), *preflight], b""),
        ("OPTIONS", [(b"origin", denied), *preflight], b""),
        ("OPTIONS", [(b"origin", allowed), (b"access-control-request-method", b"DELETE")], b""),
        ("PUT", [(b"origin", allowed), (b"x-custom", b"1")], b"hello"),
    ]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = await read_body(receive)
    await anyio.sleep(0)  # let other requests run between reading and answering
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"vary", b"Accept-Encoding")],
        }
    )
    await send({"type": "http.response.body", "body": scope["path"].encode() + b" " + body})


async def _serve_one(middleware: Any, index: int, request: tuple[str, list, bytes]) -> list[dict[str, Any]]:
    method, headers, body = request
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": f"/r{index}",
        "raw_path": f"/r{index}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 10000 + index),
        "server": ("127.0.0.1", 8000),
    }
    # The body arrives in two chunks, each after a real suspension.
    chunks = [{"type": "http.request", "body": body[:2], "more_body": True}, {"type": "http.request", "body": body[2:]}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await anyio.sleep(0)
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        await anyio.sleep(0)
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


async def _serve_all(middleware: Any) -> tuple[str, list[list[dict[str, Any]]]]:
    requests = _requests() * ROUNDS
    results: list[Any] = [None] * len(requests)

    async def one(index: int) -> None:
        results[index] = await _serve_one(middleware, index, requests[index])

    async with anyio.create_task_group() as group:
        for index in range(len(requests)):
            group.start_soon(one, index)
    return _running_loop_name(), results


def _running_loop_name() -> str:
    library = sniffio.current_async_library()
    if library == "asyncio":
        loop_type = type(asyncio.get_running_loop())
        return "uvloop" if loop_type.__module__.startswith("uvloop") else "asyncio"
    return library


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_concurrent_requests_match_starlette(impl: ModuleType, backend: str) -> None:
    require_modules({"uvloop": "uvloop", "trio": "trio"}.get(backend, "anyio"))
    name, options = BACKENDS[backend]
    ours = impl.CORSMiddleware(_app, **CORS_OPTIONS)
    reference = StarletteCORS(_app, **CORS_OPTIONS)

    loop_seen, got = anyio.run(_serve_all, ours, backend=name, backend_options=options)
    _, expected = anyio.run(_serve_all, reference, backend=name, backend_options=options)

    assert loop_seen == backend  # the test really ran on the loop it names
    assert len(got) == len(_requests()) * ROUNDS
    for index, (ours_sent, starlette_sent) in enumerate(zip(got, expected, strict=True)):
        assert ours_sent == starlette_sent, f"request {index}: {_requests()[index % len(_requests())]}"
    # Spot-check that the answers are the interesting ones, not two identical failures.
    assert (
        got[0][0]["status"] == 200 and (b"access-control-allow-origin", ALLOWED_ORIGIN.encode()) in got[0][0]["headers"]
    )
    assert [m["status"] for m in (got[3][0], got[4][0], got[5][0])] == [200, 400, 400]
    assert got[6][1]["body"] == b"/r6 hello"
