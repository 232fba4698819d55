"""The small Starlette app the end-to-end benchmark serves (`bench.e2e_app:app`).

The environment variable FASTCORS_BENCH_ROW picks the CORS middleware: `none`, `starlette`
or `fastcors` (the compiled extension, never the pure-Python fallback: the server refuses
to start without it, so a missing build cannot pass for a compiled figure).
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


async def items(request: Request) -> PlainTextResponse:
    return PlainTextResponse("OK")


def _middleware(row: str) -> list[Middleware]:
    if row == "none":
        return []
    if row == "starlette":
        from starlette.middleware.cors import CORSMiddleware

        return [Middleware(CORSMiddleware, **CORS_CONFIG)]
    if row == "fastcors":
        from fastcors import _loader

        return [Middleware(_loader.load_compiled().CORSMiddleware, **CORS_CONFIG)]
    raise ValueError(f"{ROW_ENV}={row!r}: expected none, starlette or fastcors")


def create_app(row: str) -> Starlette:
    # OPTIONS is routed too, so without middleware a preflight gets the same small 200 from
    # the app (instead of a 405) and every row answers every request with a 2xx.
    routes = [Route("/api/items", items, methods=["GET", "OPTIONS"])]
    return Starlette(routes=routes, middleware=_middleware(row))


app = create_app(os.environ.get(ROW_ENV, "none"))
