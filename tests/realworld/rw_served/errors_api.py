"""FastAPI and Starlette apps whose routes fail, with fastcors in the three places a user can put it.

Setups (`build`):
  inside    `app.add_middleware(CORSMiddleware, ...)`: inside Starlette's ServerErrorMiddleware,
            so the 500 of an unhandled exception goes out without CORS headers
  wrapped   `CORSMiddleware(app, ...)`: the whole application wrapped, the server runs the wrapper
  subclass  the framework class with `build_middleware_stack` overridden to wrap Starlette's
            stack: the application stays a FastAPI / Starlette object

Routes (the same for both frameworks):
  /ok       "started=<value>": what the lifespan startup put in `app.state` ("no" without it)
  /boom     GET and POST raise RuntimeError("kaboom"): a 500 (the default or a custom handler)
  /missing  raises HTTPException(404, "no such item"): the framework's own 4xx answer
  /teapot   raises TeapotError, which an app exception handler answers with 418 "teapot"
  /where    the URL of the /teapot route (`request.url_for`)
  /sub/hi   a route of a mounted Starlette sub-application
  /_impl    which fastcors implementation the process runs

The module-level apps are what the browser tests serve: allowed origin RW_PAGE_ORIGIN,
FASTCORS_NO_EXTENSIONS=1 for the pure-Python implementation. FastAPI's have a custom 500
handler (a JSON body), Starlette's keep the default "Internal Server Error".
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

SETUPS = ["inside", "wrapped", "subclass"]
FRAMEWORKS = {"fastapi": FastAPI, "starlette": Starlette}


class TeapotError(Exception):
    pass


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.started = "yes"
    yield
    app.state.stopped = "yes"


async def ok(request: Request) -> Response:
    # request.app is the framework application in every setup (Starlette sets scope["app"]).
    return PlainTextResponse(f"started={getattr(request.app.state, 'started', 'no')}")


async def boom(request: Request) -> Response:
    raise RuntimeError("kaboom")


async def missing(request: Request) -> Response:
    raise HTTPException(404, "no such item")


async def teapot(request: Request) -> Response:
    raise TeapotError


async def where(request: Request) -> Response:
    return PlainTextResponse(str(request.url_for("teapot")))


async def hello(request: Request) -> Response:
    return PlainTextResponse("hi from the mounted app")


async def implementation(request: Request) -> Response:
    import fastcors

    return JSONResponse({"compiled": fastcors.COMPILED})


async def teapot_handler(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("teapot", status_code=418)


async def error_500_handler(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=500)


ROUTES = [
    Route("/ok", ok),
    Route("/boom", boom, methods=["GET", "POST"]),
    Route("/missing", missing),
    Route("/teapot", teapot),
    Route("/where", where),
    Mount("/sub", app=Starlette(routes=[Route("/hi", hello)])),
    Route("/_impl", implementation),
]


def cors_outermost(base: type[Starlette], cors_class: Any, options: dict[str, Any]) -> type[Starlette]:
    """`base` with CORS wrapped around its whole middleware stack, ServerErrorMiddleware included."""

    class App(base):  # type: ignore[valid-type, misc]
        def build_middleware_stack(self) -> Any:
            return cors_class(super().build_middleware_stack(), **options)

    return App


def build(
    framework: str,
    setup: str,
    cors_class: Any,
    options: dict[str, Any],
    error_handler: bool = False,
    debug: bool = False,
) -> tuple[Any, Starlette]:
    """(what the server runs, the framework application) for one setup; `error_handler`: a custom 500 handler."""
    base = FRAMEWORKS[framework]
    if setup == "subclass":
        base = cors_outermost(base, cors_class, options)
    handlers: dict[Any, Any] = {TeapotError: teapot_handler}
    if error_handler:
        handlers[Exception] = error_500_handler  # Starlette hands it to ServerErrorMiddleware
    app = base(routes=ROUTES, exception_handlers=handlers, lifespan=lifespan, debug=debug)
    if setup == "inside":
        app.add_middleware(cors_class, **options)
    elif setup == "wrapped":
        return cors_class(app, **options), app
    return app, app


def _served(framework: str, setup: str) -> Any:
    from fastcors import CORSMiddleware

    options = {
        "allow_origins": [os.environ.get("RW_PAGE_ORIGIN", "http://127.0.0.1:1")],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["content-type"],
    }
    return build(framework, setup, CORSMiddleware, options, error_handler=framework == "fastapi")[0]


fastapi_inside = _served("fastapi", "inside")
fastapi_wrapped = _served("fastapi", "wrapped")
fastapi_subclass = _served("fastapi", "subclass")
starlette_inside = _served("starlette", "inside")
starlette_wrapped = _served("starlette", "wrapped")
