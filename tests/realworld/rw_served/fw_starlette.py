"""Starlette with fastcors in its middleware list (`inside`), and wrapped from outside (`wrapped`)."""

from __future__ import annotations

from rw_served.endpoint import ROUTE_HEADERS, reply
from rw_served.settings import CORS_OPTIONS
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fastcors import CORSMiddleware


async def data(request: Request) -> PlainTextResponse:
    return PlainTextResponse(reply(request.method, await request.body()), headers=ROUTE_HEADERS)


ROUTES = [Route("/data", data, methods=["GET", "PUT"])]

inside = Starlette(routes=ROUTES, middleware=[Middleware(CORSMiddleware, **CORS_OPTIONS)])

wrapped = CORSMiddleware(Starlette(routes=ROUTES), **CORS_OPTIONS)
