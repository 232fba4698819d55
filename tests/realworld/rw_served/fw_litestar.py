"""Litestar (not built on Starlette) with fastcors as its middleware (`inside`) or wrapping it (`wrapped`).

Litestar applies app-level middleware after routing, so `inside` only sees requests for
existing routes (Litestar answers OPTIONS on `/data` itself, through the middleware).
"""

from __future__ import annotations

from litestar import Litestar, Request, Response, route
from litestar.middleware import DefineMiddleware
from rw_served.endpoint import ROUTE_HEADERS, reply
from rw_served.settings import CORS_OPTIONS

from fastcors import CORSMiddleware


@route("/data", http_method=["GET", "PUT"])
async def data(request: Request) -> Response[bytes]:
    return Response(reply(request.method, await request.body()), media_type="text/plain", headers=ROUTE_HEADERS)


inside = Litestar(route_handlers=[data], middleware=[DefineMiddleware(CORSMiddleware, **CORS_OPTIONS)])

wrapped = CORSMiddleware(Litestar(route_handlers=[data]), **CORS_OPTIONS)
