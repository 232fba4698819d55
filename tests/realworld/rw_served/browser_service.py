"""What every API of the browser tests serves besides its CORS routes.

`with_service(app)` answers `/_log`, `/_impl` and `/_set_cookie` itself, outside any CORS
middleware, and logs every other request before handing it to `app`: preflights too, which
a middleware answers itself, so that a test sees what the browser really sent.

Environment of the server process:
  RW_MIDDLEWARE      "fastcors" or "starlette" (the reference)
  FASTCORS_NO_EXTENSIONS=1 for fastcors' pure-Python implementation
"""

from __future__ import annotations

import json
import os
from typing import Any

from rw_served.asgi_parts import request_header

MIDDLEWARE = os.environ.get("RW_MIDDLEWARE", "fastcors")
COOKIE_NAME = "rwsession"
COOKIE_VALUE = "abc"

REQUEST_LOG: list[dict[str, Any]] = []


def request_cookie(scope: dict[str, Any]) -> str:
    """The value of the test cookie in the request, or ""."""
    for part in (request_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == COOKIE_NAME:
            return value
    return ""


async def reply(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    # no-store: Chromium must ask the server every time, so the log shows every fetch.
    headers = [*headers, (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _implementation() -> dict[str, Any]:
    if MIDDLEWARE == "starlette":
        return {"middleware": "starlette"}
    import fastcors

    return {"middleware": "fastcors", "compiled": fastcors.COMPILED}


def with_service(app: Any) -> Any:
    """`app` behind the service endpoints and the request log."""

    async def served(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        json_type = [(b"content-type", b"application/json")]
        if path == "/_log":
            await reply(send, 200, json.dumps(REQUEST_LOG).encode(), json_type)
        elif path == "/_impl":
            await reply(send, 200, json.dumps(_implementation()).encode(), json_type)
        elif path == "/_set_cookie":
            # A first-party page of the API origin sets the cookie. SameSite=Lax: sent on
            # same-site requests (127.0.0.1:page -> 127.0.0.1:api, ports do not split sites),
            # not on cross-site ones (localhost -> 127.0.0.1).
            cookie = f"{COOKIE_NAME}={COOKIE_VALUE}; Path=/; SameSite=Lax; HttpOnly".encode()
            headers = [(b"content-type", b"text/html"), (b"set-cookie", cookie)]
            await reply(send, 200, b"<!doctype html><title>cookie set</title>", headers)
        else:
            origin = request_header(scope, b"origin")
            REQUEST_LOG.append(
                {"method": scope["method"], "path": path, "origin": origin, "cookie": request_cookie(scope)}
            )
            await app(scope, receive, send)

    return served
