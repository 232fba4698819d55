"""FastAPI with fastcors added the FastAPI way (`inside`), and wrapped from outside (`wrapped`)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from rw_served.endpoint import ROUTE_HEADERS, reply
from rw_served.settings import CORS_OPTIONS

from fastcors import CORSMiddleware


def build() -> FastAPI:
    api = FastAPI()

    @api.api_route("/data", methods=["GET", "PUT"])
    async def data(request: Request) -> PlainTextResponse:
        return PlainTextResponse(reply(request.method, await request.body()), headers=ROUTE_HEADERS)

    return api


inside = build()
inside.add_middleware(CORSMiddleware, **CORS_OPTIONS)

wrapped = CORSMiddleware(build(), **CORS_OPTIONS)
