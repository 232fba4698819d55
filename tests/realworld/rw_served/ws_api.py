"""A WebSocket echo app behind fastcors' `websocket_origin_guard`, for real servers and Chromium.

WebSocket paths, all answered by the same echo endpoint (accept, then "echo:<text>" for
every text message until the client leaves):
  /ws             fastcors with websocket_origin_guard=True
  /unguarded/ws   fastcors with the same origins, guard off: handshakes pass untouched
  /noext/ws       /ws as a server without the "websocket.http.response" extension calls it
                  (the extension taken out of the scope): fastcors closes before accepting
  /starlette/ws   Starlette's CORSMiddleware (reference: it never looks at websockets)
Every handshake that reaches the endpoint is logged with the `case` query parameter that
the test gives it, the Origin header and the extensions the server advertised in the scope,
so a test can confirm that a refused handshake never reached the app.

HTTP paths (no CORS): `/_log` (the handshakes the endpoint saw, with what happened to
them), `/_impl` (which fastcors implementation runs), anything else: 200 "ws api".

Environment of the server process: FASTCORS_NO_EXTENSIONS=1 for fastcors' pure-Python
implementation.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from rw_served.asgi_parts import read_body, request_header, serve_lifespan
from rw_served.settings import ALLOWED_ORIGIN
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

from fastcors import CORSMiddleware

ALLOWED_PATTERNS = ["http://*.example.test:*"]
CORS_OPTIONS: dict[str, Any] = {"allow_origins": [ALLOWED_ORIGIN], "allow_methods": ["GET"]}

# What reached the endpoint: one entry per handshake, updated as the connection goes on.
HANDSHAKES: list[dict[str, Any]] = []


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Behind the middleware: logs the handshake, accepts it, echoes text until the client leaves."""
    entry = {
        "case": parse_qs(scope["query_string"].decode("latin-1")).get("case", [""])[0],
        "path": scope["path"],
        "origin": request_header(scope, b"origin"),
        "extensions": sorted(scope.get("extensions") or {}),
        "events": [],
    }
    HANDSHAKES.append(entry)
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
            entry["events"].append("accepted")
        elif kind == "websocket.receive":
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("latin-1")
            entry["events"].append(f"message:{text}")
            await send({"type": "websocket.send", "text": f"echo:{text}"})
        else:  # websocket.disconnect
            entry["events"].append(f"disconnect:{message.get('code')}")
            return


def without_denial_extension(inner: Any) -> Any:
    """`inner` as a server without the "websocket.http.response" extension would call it."""

    async def call(scope: dict[str, Any], receive: Any, send: Any) -> None:
        extensions = {k: v for k, v in (scope.get("extensions") or {}).items() if k != "websocket.http.response"}
        await inner({**scope, "extensions": extensions}, receive, send)

    return call


GUARDED = CORSMiddleware(echo, **CORS_OPTIONS, allow_origin_patterns=ALLOWED_PATTERNS, websocket_origin_guard=True)
ROUTES = {
    "/ws": GUARDED,
    "/noext/ws": without_denial_extension(GUARDED),
    "/unguarded/ws": CORSMiddleware(echo, **CORS_OPTIONS, allow_origin_patterns=ALLOWED_PATTERNS),
    "/starlette/ws": StarletteCORSMiddleware(echo, **CORS_OPTIONS),
}


def _implementation() -> dict[str, Any]:
    import fastcors

    return {"middleware": "fastcors", "compiled": fastcors.COMPILED}


async def _reply(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    path = scope["path"]
    if scope["type"] == "websocket":
        route = ROUTES.get(path)
        if route is None:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        await route(scope, receive, send)
        return
    await read_body(receive)
    if path == "/_log":
        await _reply(send, 200, json.dumps(HANDSHAKES).encode(), b"application/json")
    elif path == "/_impl":
        await _reply(send, 200, json.dumps(_implementation()).encode(), b"application/json")
    else:
        await _reply(send, 200, b"ws api", b"text/plain")
