"""Apps with per-path policies (`paths=`) served under a root path, for test_rw_root_path.py.

One ASGI entry point, `app`, serves four apps, chosen per request by the `x-rw-app` header (so
that one server process serves them all, with the scope the server made left untouched):

  starlette-outer   Starlette, fastcors on the app itself; Mount("/v1", app=sub) without a
                    middleware of its own (its routes take the outer policies: /v1/admin/x is
                    not under /admin)
  starlette-mounted Starlette without CORS; the same sub-app, with fastcors inside it, mounted
                    at /v1 and at /public (its `paths` prefixes are relative to the sub-app)
  fastapi-outer     FastAPI, include_router(router, prefix=...) per policy, fastcors added
                    with add_middleware; a FastAPI sub-app mounted at /v1
  fastapi-mounted   FastAPI without CORS; a FastAPI sub-app with fastcors mounted at /v1

The routes, relative to the app that holds the middleware (every one GET):
  /admin, /admin/{name}         /admin: no origin allowed
  /internal/{name}              /internal: None, no CORS handling
  /public/locked/{name}         /public/locked: no origin allowed (more specific than /public)
  /public/{rest:path}           /public: any origin
  /publicity/{name}, /top/{name}  top-level policy (/publicity is not below /public)

What the test reads from each answer:
  x-route       the template of the route that answered, relative to the middleware's app
                (absent: no route answered, e.g. a 404, a redirect, a preflight)
  x-rw-scope    JSON of the scope the middleware got: path, root_path and route_path, the
                path the installed Starlette's router matches (starlette._utils.get_route_path);
                added outside the middleware, so it is there on the middleware's own answers
                (absent: the request never reached the middleware)
  access-control-expose-headers: x-policy-<name>, and access-control-max-age: the policy
                that answered (each policy has its own, see POLICIES)
"""

from __future__ import annotations

import json
from typing import Any

from .asgi_parts import serve_lifespan

TOP_ORIGIN = "https://app.example"  # the one origin the top level allows
EVIL_ORIGIN = "https://evil.example"  # allowed by no policy but /public's "*"

# Starlette's arguments per policy (None: no CORS handling), relative to the middleware's app.
# Each names itself in expose_headers and max_age, so an answer says which policy made it.
TOP: dict[str, Any] = {
    "allow_origins": [TOP_ORIGIN],
    "allow_credentials": True,
    "allow_methods": ["GET", "PUT"],
    "expose_headers": ["x-policy-top"],
    "max_age": 601,
}
POLICIES: dict[str, dict[str, Any] | None] = {
    # Listed before the shorter /public: the longest prefix wins whatever the order.
    "/public/locked": {"allow_origins": [], "expose_headers": ["x-policy-public-locked"], "max_age": 604},
    "/admin": {"allow_origins": [], "allow_credentials": True, "expose_headers": ["x-policy-admin"], "max_age": 602},
    "/internal": None,
    "/public": {
        "allow_origins": ["*"],
        "allow_methods": ["GET", "PUT"],
        "expose_headers": ["x-policy-public"],
        "max_age": 603,
    },
}
# The policies' names as the test reports them ("top": the top level's arguments).
POLICY_NAMES = {"": "top", **{prefix: prefix.strip("/").replace("/", "-") for prefix in POLICIES}}

ROUTE_TEMPLATES = [
    "/admin",
    "/admin/{name}",
    "/internal/{name}",
    "/public/locked/{name}",
    "/public/{rest:path}",
    "/publicity/{name}",
    "/top/{name}",
]
SUB_MOUNT = "/v1"
APPS = ["starlette-outer", "starlette-mounted", "fastapi-outer", "fastapi-mounted"]
# Where each app's middleware sits: the mounts in front of the app that holds it.
MIDDLEWARE_MOUNTS = {
    "starlette-outer": [""],
    "starlette-mounted": ["/v1", "/public"],
    "fastapi-outer": [""],
    "fastapi-mounted": ["/v1"],
}


def scope_report(scope: dict[str, Any]) -> bytes:
    from starlette._utils import get_route_path

    seen = {"path": scope["path"], "root_path": scope.get("root_path", ""), "route_path": get_route_path(scope)}
    return json.dumps(seen).encode()  # ASCII (non-ASCII escaped): a valid header value


class ScopeReporter:
    """Adds x-rw-scope (the scope as the middleware inside it got it) to every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        report = scope_report(scope)

        async def send_with_report(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-rw-scope", report)]}
            await send(message)

        await self.app(scope, receive, send_with_report)


def _answer(template: str) -> Any:
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"route": template}, headers={"x-route": template, "cache-control": "no-store"})

    return endpoint


def _starlette_routes(mount: str) -> list[Any]:
    from starlette.routing import Route

    return [Route(template, _answer(mount + template), methods=["GET"]) for template in ROUTE_TEMPLATES]


def _fastapi_routers(app: Any, mount: str) -> None:
    """The routes as FastAPI users write them: an APIRouter per prefix, include_router(prefix=...)."""
    from fastapi import APIRouter

    groups: dict[str, list[str]] = {}
    for template in ROUTE_TEMPLATES:
        head, _, last = template.rpartition("/")
        prefix, subpath = (head, "/" + last) if last.startswith("{") else (template, "")
        groups.setdefault(prefix, []).append(subpath)
    for prefix, subpaths in groups.items():
        router = APIRouter()
        for subpath in subpaths:
            router.add_api_route(subpath, _fastapi_endpoint(mount + prefix + subpath), methods=["GET"])
        app.include_router(router, prefix=prefix)


def _fastapi_endpoint(template: str) -> Any:
    from starlette.responses import JSONResponse

    async def endpoint() -> JSONResponse:
        return JSONResponse({"route": template}, headers={"x-route": template, "cache-control": "no-store"})

    return endpoint


def build_apps(cors_middleware: Any, cors_settings: Any) -> dict[str, Any]:
    """The four apps, with fastcors' CORSMiddleware and CORSSettings (either implementation's)."""
    from fastapi import FastAPI
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount, Route

    paths = {prefix: None if policy is None else cors_settings(**policy) for prefix, policy in POLICIES.items()}
    # ScopeReporter first: the outer of the two, so it sees the scope the middleware gets.
    cors_stack = [Middleware(ScopeReporter), Middleware(cors_middleware, **TOP, paths=paths)]

    def no_cors_route() -> Any:
        return Route("/outside", _answer("/outside"), methods=["GET"])

    starlette_outer = Starlette(
        routes=[*_starlette_routes(""), Mount(SUB_MOUNT, app=Starlette(routes=_starlette_routes(SUB_MOUNT)))],
        middleware=cors_stack,
    )
    starlette_sub = Starlette(routes=_starlette_routes(""), middleware=cors_stack)
    starlette_mounted = Starlette(
        routes=[Mount(SUB_MOUNT, app=starlette_sub), Mount("/public", app=starlette_sub), no_cors_route()]
    )

    fastapi_outer = FastAPI()
    _fastapi_routers(fastapi_outer, "")
    fastapi_outer_sub = FastAPI()
    _fastapi_routers(fastapi_outer_sub, SUB_MOUNT)
    fastapi_outer.mount(SUB_MOUNT, fastapi_outer_sub)
    # add_middleware: the last added is the outermost.
    fastapi_outer.add_middleware(cors_middleware, **TOP, paths=paths)
    fastapi_outer.add_middleware(ScopeReporter)

    fastapi_sub = FastAPI()
    _fastapi_routers(fastapi_sub, "")
    fastapi_sub.add_middleware(cors_middleware, **TOP, paths=paths)
    fastapi_sub.add_middleware(ScopeReporter)
    fastapi_mounted = FastAPI()
    fastapi_mounted.mount(SUB_MOUNT, fastapi_sub)
    fastapi_mounted.router.routes.append(no_cors_route())

    return {
        "starlette-outer": starlette_outer,
        "starlette-mounted": starlette_mounted,
        "fastapi-outer": fastapi_outer,
        "fastapi-mounted": fastapi_mounted,
    }


def dispatcher(apps: dict[str, Any], impl: str) -> Any:
    """One ASGI app: the app named by the request's x-rw-app header; GET /_impl without one
    says which implementation runs."""

    async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the apps need no startup: answer it here
            await serve_lifespan(receive, send)
            return
        name = next((value.decode("latin-1") for key, value in scope["headers"] if key == b"x-rw-app"), None)
        if name in apps:
            await apps[name](scope, receive, send)
            return
        body = json.dumps({"compiled": impl == "1", "scope": json.loads(scope_report(scope))}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200 if name is None else 421, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return dispatch


def _served() -> Any:
    import fastcors

    return dispatcher(build_apps(fastcors.CORSMiddleware, fastcors.CORSSettings), "1" if fastcors.COMPILED else "0")


app = _served()
