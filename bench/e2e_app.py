"""The small Starlette app the end-to-end benchmark serves (`bench.e2e_app:app`).

The environment variable FASTCORS_BENCH_ROW picks the CORS middleware: `none`, `starlette`
or `fastcors` (the compiled extension, never the pure-Python fallback: the server refuses
to start without it, so a missing build cannot pass for a compiled figure). `headers` has no
middleware: the handler itself returns the headers a CORS middleware would add, so that row
is the ceiling for any CORS middleware (the server's cost of sending those headers included).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

ORIGIN = "https://app.example.com"
CORS_CONFIG: dict[str, Any] = {
    "allow_origins": [ORIGIN, "https://admin.example.com"],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["Content-Type", "X-Requested-With"],
    "allow_credentials": True,
}
ROW_ENV = "FASTCORS_BENCH_ROW"


# What Starlette's CORSMiddleware adds for CORS_CONFIG and the benchmark's two requests.
SIMPLE_CORS_HEADERS = {
    "access-control-allow-origin": ORIGIN,
    "access-control-allow-credentials": "true",
    "vary": "Origin",
}
PREFLIGHT_CORS_HEADERS = {
    "vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network",
    "access-control-allow-methods": "GET, POST",
    "access-control-max-age": "600",
    "access-control-allow-headers": "Accept, Accept-Language, Content-Language, Content-Type, X-Requested-With",
    "access-control-allow-credentials": "true",
    "access-control-allow-origin": ORIGIN,
}


async def items(request: Request) -> PlainTextResponse:
    return PlainTextResponse("OK")


async def items_with_cors_headers(request: Request) -> PlainTextResponse:
    headers = PREFLIGHT_CORS_HEADERS if request.method == "OPTIONS" else SIMPLE_CORS_HEADERS
    return PlainTextResponse("OK", headers=headers)


def _middleware(row: str) -> list[Middleware]:
    if row in ("none", "headers"):
        return []
    if row == "starlette":
        from starlette.middleware.cors import CORSMiddleware

        return [Middleware(CORSMiddleware, **CORS_CONFIG)]
    if row == "fastcors":
        from fastcors import _loader

        return [Middleware(_loader.load_compiled().CORSMiddleware, **CORS_CONFIG)]
    raise ValueError(f"{ROW_ENV}={row!r}: expected none, headers, starlette or fastcors")


def create_app(row: str) -> Starlette:
    # OPTIONS is routed too, so without middleware a preflight gets the same small 200 from
    # the app (instead of a 405) and every row answers every request with a 2xx.
    handler = items_with_cors_headers if row == "headers" else items
    routes = [Route("/api/items", handler, methods=["GET", "OPTIONS"])]
    return Starlette(routes=routes, middleware=_middleware(row))


app = create_app(os.environ.get(ROW_ENV, "none"))
