"""An API behind fastcors that records its denial events and counts its requests, for Chromium.

fastcors.CORSMiddleware allows one page origin (RW_PAGE_ORIGIN), the method GET and the
header x-ok, and guards WebSockets; its `on_denied` callback appends every event it is given
(as `dataclasses.asdict`) to EVENTS. Counting is switched on at import
(`fastcors.count_requests()`).

Behind the middleware:
  /api/<anything>  HTTP: 200 JSON {"method", "path"} (the body, if any, is read and dropped)
  /ws              WebSocket: accept, then "echo:<text>" for every text message
Outside it (no CORS, never counted):
  /_events  {"events": [the recorded events, in order],
             "counts": {"kind/outcome/reason": n for fastcors.request_counts()}}
  /_impl    which fastcors implementation runs

Environment of the server process:
  RW_PAGE_ORIGIN            the one allowed origin
  FASTCORS_NO_EXTENSIONS=1  for fastcors' pure-Python implementation
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from rw_served.asgi_parts import read_body, serve_lifespan

import fastcors

PAGE_ORIGIN = os.environ.get("RW_PAGE_ORIGIN", "http://127.0.0.1:1")

fastcors.count_requests()

EVENTS: list[dict[str, Any]] = []


def record(event: fastcors.CORSEvent) -> None:
    EVENTS.append(dataclasses.asdict(event))


async def _reply(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    # no-store: Chromium must ask the server every time.
    headers = [(b"content-type", content_type), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def protected(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Behind the middleware: the HTTP endpoints and the WebSocket echo."""
    if scope["type"] == "websocket":
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            elif message["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": f"echo:{message.get('text')}"})
            else:  # websocket.disconnect
                return
    await read_body(receive)
    if scope["path"].startswith("/api/"):
        body = json.dumps({"method": scope["method"], "path": scope["path"]}).encode()
        await _reply(send, 200, body, b"application/json")
    else:
        await _reply(send, 404, b"not found", b"text/plain")


CORS = fastcors.CORSMiddleware(
    protected,
    allow_origins=[PAGE_ORIGIN],
    allow_methods=["GET"],
    allow_headers=["x-ok"],
    websocket_origin_guard=True,
    on_denied=record,
)


def _counts() -> dict[str, int]:
    return {"/".join(key): value for key, value in fastcors.request_counts().items()}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    path = scope["path"]
    if scope["type"] == "http" and path == "/_events":
        await read_body(receive)
        body = json.dumps({"events": EVENTS, "counts": _counts()}).encode()
        await _reply(send, 200, body, b"application/json")
    elif scope["type"] == "http" and path == "/_impl":
        await read_body(receive)
        await _reply(send, 200, json.dumps({"compiled": fastcors.COMPILED}).encode(), b"application/json")
    else:
        await CORS(scope, receive, send)
