"""A bare ASGI app wrapped directly by fastcors: `app` is handed straight to the server.

This is the shape that exposes the ASGI 2/3 detection trap: servers look at
`app.__call__` of the middleware object itself, with no framework in between.
"""

from __future__ import annotations

from typing import Any

from rw_served.asgi_parts import read_body, serve_lifespan
from rw_served.settings import CORS_OPTIONS, IMPL_HEADER, impl_value

from fastcors import CORSMiddleware

IMPL = impl_value().encode()


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        # Lifespan passes through the middleware untouched.
        await serve_lifespan(receive, send)
        return
    assert scope["type"] == "http"
    # Echo the request body: proves `receive` reaches the app through the middleware.
    body = await read_body(receive)
    reply = scope["method"].encode() + b" " + scope["path"].encode() + b" " + body
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"vary", b"Accept-Encoding"),  # merged with Origin by the middleware
                (b"x-exposed", b"yes"),
                (IMPL_HEADER.encode(), IMPL),
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply})


app = CORSMiddleware(bare_app, **CORS_OPTIONS)
