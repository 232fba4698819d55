"""A FastAPI app whose routers need different CORS policies, for test_rw_browser_paths.py.

Routes (every one `GET` and `PUT` on `<prefix>/{name}`, answering what it saw as JSON):
  /public/...     APIRouter: any origin, no credentials
  /partner/...    APIRouter: the partner page only, credentials and a preflighted PUT
  /internal/...   APIRouter: no CORS handling at all
  /top/..., /publicity/...   top-level routes: the app's own policy (the boundary:
                  /publicity is not below /public)

RW_MIDDLEWARE chooses how the policies are applied:
  fastcors   one fastcors CORSMiddleware with the top-level policy and `paths=`
  starlette  the established workaround: Starlette's CORSMiddleware on a sub-application per
             router, mounted at its prefix; the top-level routes in a sub-application mounted
             at "/" (after the others), so that no request passes two CORS middlewares
Other environment: RW_PAGE_ORIGIN (the partner), RW_OTHER_ORIGIN (the top level's one origin).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from rw_served.browser_api import COOKIE_NAME, MIDDLEWARE, with_service

PAGE_ORIGIN = os.environ.get("RW_PAGE_ORIGIN", "http://127.0.0.1:1")
OTHER_ORIGIN = os.environ.get("RW_OTHER_ORIGIN", "http://localhost:1")

# Starlette's arguments, per policy. None: no CORS handling.
TOP: dict[str, Any] = {"allow_origins": [OTHER_ORIGIN]}
POLICIES: dict[str, dict[str, Any] | None] = {
    "/public": {"allow_origins": ["*"]},
    "/partner": {
        "allow_origins": [PAGE_ORIGIN],
        "allow_credentials": True,
        "allow_methods": ["GET", "PUT"],
        "allow_headers": ["x-custom"],
    },
    "/internal": None,
}
TOP_LEVEL_PREFIXES = ["/top", "/publicity"]


def router() -> APIRouter:
    routes = APIRouter()

    @routes.api_route("/{name}", methods=["GET", "PUT"])
    async def answer(name: str, request: Request, response: Response) -> dict[str, str]:
        response.headers["cache-control"] = "no-store"  # Chromium asks the server every time
        return {"method": request.method, "path": request.url.path, "cookie": request.cookies.get(COOKIE_NAME, "")}

    return routes


def _with_fastcors() -> FastAPI:
    from fastcors import CORSMiddleware, CORSSettings

    app = FastAPI()
    for prefix in [*POLICIES, *TOP_LEVEL_PREFIXES]:
        app.include_router(router(), prefix=prefix)
    paths = {prefix: None if policy is None else CORSSettings(**policy) for prefix, policy in POLICIES.items()}
    app.add_middleware(CORSMiddleware, **TOP, paths=paths)
    return app


def _mounted_starlette() -> FastAPI:
    from starlette.middleware.cors import CORSMiddleware

    def sub_app(policy: dict[str, Any] | None, prefixes: list[str]) -> FastAPI:
        app = FastAPI()
        for prefix in prefixes:
            app.include_router(router(), prefix=prefix)
        if policy is not None:
            app.add_middleware(CORSMiddleware, **policy)
        return app

    app = FastAPI()
    for prefix, policy in POLICIES.items():
        app.mount(prefix, sub_app(policy, [""]))
    app.mount("/", sub_app(TOP, TOP_LEVEL_PREFIXES))  # the rest: the top-level policy
    return app


app = with_service(_mounted_starlette() if MIDDLEWARE == "starlette" else _with_fastcors())
