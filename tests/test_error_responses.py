"""CORS headers on error responses, by where fastcors sits in a FastAPI, Starlette or Litestar app.

FastAPI and Starlette put ServerErrorMiddleware (the 500 of an unhandled exception, the
custom 500 handler, the debug traceback page) outside the user's middleware, and the app's
other exception handlers (ExceptionMiddleware) inside it. So with `add_middleware` the 500s
go out without CORS headers; wrapping the whole application, or overriding
`build_middleware_stack`, puts fastcors outside ServerErrorMiddleware. Every answer is
compared with Starlette's CORSMiddleware put in the same place. The apps are those the
browser tests serve (tests/realworld/rw_served/errors_api.py), run here through TestClient,
with both implementations.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient as LitestarTestClient
from realworld.rw_served.errors_api import FRAMEWORKS, SETUPS, build
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.testclient import TestClient

PAGE = "https://app.example.com"
OPTIONS: dict[str, Any] = {
    "allow_origins": [PAGE],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["content-type"],
    "allow_credentials": True,
    "expose_headers": ["x-request-id"],
}
FROM_PAGE = {"origin": PAGE}
PREFLIGHT = {**FROM_PAGE, "access-control-request-method": "POST", "access-control-request-headers": "content-type"}
# The headers fastcors sets on a simple response from an allowed origin, with OPTIONS.
CORS_ON_RESPONSE = {
    "access-control-allow-origin": PAGE,
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": "x-request-id",
}
APPS = [(framework, setup) for framework in FRAMEWORKS for setup in SETUPS]
APP_IDS = [f"{framework}-{setup}" for framework, setup in APPS]


def answer(app: Any, method: str, path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], str]:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.request(method, path, headers=headers)
    return response.status_code, response.headers.multi_items(), response.text


def cors_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.startswith("access-control-")}


def same_as_starlette(framework: str, setup: str, impl: ModuleType, method: str, path: str, **kwargs: Any) -> Any:
    """fastcors' answer, after checking that Starlette's middleware in the same place answers the same."""
    ours = answer(build(framework, setup, impl.CORSMiddleware, OPTIONS, **kwargs)[0], method, path, FROM_PAGE)
    reference = answer(build(framework, setup, StarletteCORSMiddleware, OPTIONS, **kwargs)[0], method, path, FROM_PAGE)
    assert ours == reference
    return ours


@pytest.mark.parametrize("error_handler", [False, True], ids=["default-500", "custom-500-handler"])
@pytest.mark.parametrize(("framework", "setup"), APPS, ids=APP_IDS)
def test_unhandled_exception_500(impl: ModuleType, framework: str, setup: str, error_handler: bool) -> None:
    status, headers, body = same_as_starlette(framework, setup, impl, "GET", "/boom", error_handler=error_handler)
    assert status == 500
    assert body == ('{"error":"kaboom"}' if error_handler else "Internal Server Error")
    if setup == "inside":
        assert cors_headers(headers) == {}  # ServerErrorMiddleware answered outside fastcors
    else:
        assert cors_headers(headers) == CORS_ON_RESPONSE
        assert ("vary", "Origin") in headers


@pytest.mark.parametrize(("framework", "setup"), APPS, ids=APP_IDS)
def test_debug_traceback_page(impl: ModuleType, framework: str, setup: str) -> None:
    # The traceback carries object addresses, so it is not compared with Starlette's.
    app = build(framework, setup, impl.CORSMiddleware, OPTIONS, debug=True)[0]
    status, headers, body = answer(app, "GET", "/boom", {**FROM_PAGE, "accept": "text/html"})
    assert status == 500
    assert "RuntimeError" in body and "kaboom" in body and "<html>" in body
    assert cors_headers(headers) == ({} if setup == "inside" else CORS_ON_RESPONSE)


@pytest.mark.parametrize("path", ["/missing", "/teapot"], ids=["http-exception-404", "custom-handler-418"])
@pytest.mark.parametrize(("framework", "setup"), APPS, ids=APP_IDS)
def test_app_exception_handlers_answer_with_cors_in_every_setup(
    impl: ModuleType, framework: str, setup: str, path: str
) -> None:
    status, headers, _ = same_as_starlette(framework, setup, impl, "GET", path, error_handler=True)
    assert status == (404 if path == "/missing" else 418)
    assert cors_headers(headers) == CORS_ON_RESPONSE


@pytest.mark.parametrize(("framework", "setup"), APPS, ids=APP_IDS)
def test_the_preflight_of_a_failing_route(impl: ModuleType, framework: str, setup: str) -> None:
    app = build(framework, setup, impl.CORSMiddleware, OPTIONS)[0]
    with TestClient(app) as client:
        response = client.options("/boom", headers=PREFLIGHT)
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["access-control-allow-origin"] == PAGE


@pytest.mark.parametrize(("framework", "setup"), APPS, ids=APP_IDS)
def test_lifespan_state_url_for_and_mounts_are_kept(impl: ModuleType, framework: str, setup: str) -> None:
    served, framework_app = build(framework, setup, impl.CORSMiddleware, OPTIONS)
    with TestClient(served, base_url="http://api.test") as client:
        assert framework_app.state.started == "yes"  # lifespan startup ran through the wrapper
        ok = client.get("/ok", headers=FROM_PAGE)
        where = client.get("/where")
        mounted = client.get("/sub/hi", headers=FROM_PAGE)
    assert framework_app.state.stopped == "yes"  # and the shutdown
    assert (ok.status_code, ok.text) == (200, "started=yes")
    assert where.text == "http://api.test/teapot"
    assert (mounted.status_code, mounted.text) == (200, "hi from the mounted app")
    assert cors_headers(mounted.headers.multi_items()) == CORS_ON_RESPONSE


@pytest.mark.parametrize(("framework", "setup"), APPS, ids=APP_IDS)
def test_test_client_still_raises_the_exception(impl: ModuleType, framework: str, setup: str) -> None:
    # ServerErrorMiddleware re-raises after answering, through fastcors, to the server
    # (which logs it) or to TestClient (which raises it unless raise_server_exceptions=False).
    app = build(framework, setup, impl.CORSMiddleware, OPTIONS)[0]
    with TestClient(app) as client, pytest.raises(RuntimeError, match="kaboom"):
        client.get("/boom", headers=FROM_PAGE)


@pytest.mark.parametrize("setup", SETUPS)
def test_fastapi_dependency_overrides_on_the_framework_app(impl: ModuleType, setup: str) -> None:
    served, framework_app = build("fastapi", setup, impl.CORSMiddleware, OPTIONS)
    assert isinstance(framework_app, FastAPI)

    def real_user() -> str:
        return "real"

    @framework_app.get("/user")
    def user(name: str = Depends(real_user)) -> dict[str, str]:
        return {"user": name}

    framework_app.dependency_overrides[real_user] = lambda: "test"
    with TestClient(served) as client:
        response = client.get("/user", headers=FROM_PAGE)
    assert response.json() == {"user": "test"}
    assert response.headers["access-control-allow-origin"] == PAGE


# ---------------------------------------------------------------------------- Litestar


@get("/data")
async def data() -> str:
    return "data"


@get("/boom")
async def litestar_boom() -> str:
    raise RuntimeError("kaboom")


@get("/missing")
async def litestar_missing() -> str:
    raise NotFoundException("no such item")


def litestar_app(setup: str, cors_class: Any) -> Any:
    """Litestar with the middleware in its `middleware` list (inside) or wrapping it."""
    handlers = [data, litestar_boom, litestar_missing]
    if setup == "inside":
        return Litestar(handlers, middleware=[DefineMiddleware(cors_class, **OPTIONS)])
    return cors_class(Litestar(handlers), **OPTIONS)


# (request, status, whether CORS headers come along: inside, wrapped). Litestar runs its
# app-level middleware after routing: what routing itself answers (an unknown path, a
# method the route lacks, the preflight of an unknown path) never passes through it.
LITESTAR_REQUESTS = [
    ("preflight-routed", "OPTIONS", "/data", PREFLIGHT, (200, 200), (True, True)),
    ("preflight-unrouted", "OPTIONS", "/nowhere", PREFLIGHT, (404, 200), (False, True)),
    ("get-unrouted", "GET", "/nowhere", FROM_PAGE, (404, 404), (False, True)),
    ("method-not-allowed", "POST", "/data", FROM_PAGE, (405, 405), (False, True)),
    ("handler-raises", "GET", "/boom", FROM_PAGE, (500, 500), (True, True)),
    ("handler-http-exception", "GET", "/missing", FROM_PAGE, (404, 404), (True, True)),
]


@pytest.mark.parametrize("setup", ["inside", "wrapped"])
@pytest.mark.parametrize(
    ("method", "path", "headers", "statuses", "with_cors"),
    [request[1:] for request in LITESTAR_REQUESTS],
    ids=[request[0] for request in LITESTAR_REQUESTS],
)
def test_litestar(
    impl: ModuleType,
    setup: str,
    method: str,
    path: str,
    headers: dict[str, str],
    statuses: tuple[int, int],
    with_cors: tuple[bool, bool],
) -> None:
    which = 0 if setup == "inside" else 1
    answers = []
    for cors_class in (impl.CORSMiddleware, StarletteCORSMiddleware):
        with LitestarTestClient(litestar_app(setup, cors_class), raise_server_exceptions=False) as client:
            response = client.request(method, path, headers=headers)
        answers.append((response.status_code, response.headers.multi_items(), response.text))
    assert answers[0] == answers[1]  # the same as Starlette's middleware in the same place
    status, response_headers, _ = answers[0]
    assert status == statuses[which]
    allowed = dict(response_headers).get("access-control-allow-origin")
    assert allowed == (PAGE if with_cors[which] else None)
