"""Run-time reconfiguration: `middleware.reconfigure(...)`, `middleware.settings`, and
`fastcors.CORSHandle` for apps whose framework builds the middleware (FastAPI, Starlette).

On both implementations: new requests see the new configuration, a request in flight
finishes under the one it started with, a refused configuration changes nothing, and a
handle reaches every middleware built with it, including one built after it was
reconfigured (Starlette builds its middleware stack on the first request).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import hmac
import logging
import re
import threading
import time
import weakref
from types import ModuleType
from typing import Any

import httpx
import pytest
from asgi_harness import ACAO, VARY_ORIGIN, acao, preflight_scope, receive_nothing, run_sync, simple_scope
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fastcors import CORSConfigError, CORSHandle, CORSSettings

A = "https://a.example"
B = "https://b.example"


async def ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def call(middleware: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages `middleware` sends for `scope` (its app must never suspend)."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_sync(middleware(scope, receive_nothing, send))
    return sent


def status(sent: list[dict[str, Any]]) -> int:
    return sent[0]["status"]


REQUESTS = [
    simple_scope(A),
    simple_scope(B),
    simple_scope("https://x.a.example"),
    preflight_scope(A),
    preflight_scope(B),
    preflight_scope(A, "PUT"),
]


def answers(middleware: Any) -> list[list[dict[str, Any]]]:
    """What `middleware` sends for each of REQUESTS (fresh scopes every time)."""
    return [call(middleware, dict(scope, headers=list(scope["headers"]))) for scope in REQUESTS]


# ---------------------------------------------------------------------------- settings


def test_settings_are_the_constructor_arguments(impl: ModuleType) -> None:
    def func(origin: str) -> bool:
        return False

    keywords: dict[str, Any] = {
        "allow_credentials": True,
        "max_age": 5,
        "allow_origin_patterns": ["https://*.example.com"],
        "allow_origin_func": func,
        "websocket_origin_guard": True,
        "debug": True,
    }
    middleware = impl.CORSMiddleware(ok_app, [A], ["GET", "PUT"], **keywords)  # the first two by position
    settings = middleware.settings
    assert isinstance(settings, CORSSettings)
    assert settings == CORSSettings(allow_origins=[A], allow_methods=["GET", "PUT"], **keywords)
    assert impl.CORSMiddleware(ok_app).settings == CORSSettings()


def test_settings_are_frozen(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A])
    with pytest.raises(dataclasses.FrozenInstanceError):
        middleware.settings.allow_origins = [B]  # type: ignore[misc]
    assert middleware.settings.allow_origins == [A]
    assert acao(call(middleware, simple_scope(A))) == [A.encode()]


def test_settings_defaults_are_the_constructors(impl: ModuleType) -> None:
    import inspect

    parameters = inspect.signature(impl.CORSMiddleware.__init__).parameters
    defaults = {name: p.default for name, p in parameters.items() if name not in ("self", "app", "handle")}
    assert defaults == vars(CORSSettings())


# ---------------------------------------------------------------------------- reconfigure


def test_reconfigure_with_keywords_replaces_the_whole_configuration(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A], allow_methods=["GET", "PUT"], allow_credentials=True)
    assert status(call(middleware, preflight_scope(A, "PUT"))) == 200
    middleware.reconfigure(allow_origins=[B])
    # Arguments left out take their defaults, as in the constructor: PUT and credentials are gone.
    assert middleware.settings == CORSSettings(allow_origins=[B])
    assert acao(call(middleware, simple_scope(A))) == []
    assert call(middleware, simple_scope(B))[0]["headers"] == [(ACAO, B.encode()), VARY_ORIGIN]
    assert status(call(middleware, preflight_scope(B))) == 200
    refused = call(middleware, preflight_scope(B, "PUT"))
    assert (status(refused), refused[1]["body"]) == (400, b"Disallowed CORS method")


def test_reconfigure_from_settings_changes_only_what_is_given(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A], allow_methods=["GET", "PUT"], allow_credentials=True)
    before = middleware.settings
    middleware.reconfigure(middleware.settings, allow_origins=[B])
    assert middleware.settings == dataclasses.replace(before, allow_origins=[B])
    assert before.allow_origins == [A]  # the old settings value is untouched
    assert acao(call(middleware, simple_scope(A))) == []
    assert call(middleware, simple_scope(B))[0]["headers"] == [
        (b"access-control-allow-credentials", b"true"),
        (ACAO, B.encode()),
        VARY_ORIGIN,
    ]
    assert status(call(middleware, preflight_scope(B, "PUT"))) == 200


def test_reconfigure_with_a_settings_value_alone(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A])
    wanted = CORSSettings(allow_origins=[B], allow_methods=["PUT"])
    middleware.reconfigure(wanted)
    assert middleware.settings == wanted
    assert status(call(middleware, preflight_scope(B, "PUT"))) == 200
    assert status(call(middleware, preflight_scope(A, "PUT"))) == 400


CONFIGS: list[dict[str, Any]] = [
    {"allow_origins": [A]},
    {"allow_origins": ["*"], "allow_credentials": True, "expose_headers": ["X-T"]},
    {"allow_origin_regex": r"https://[ab]\.example", "allow_methods": ["*"], "allow_headers": ["*"], "max_age": 1},
    {"allow_origins": [B], "allow_headers": ["X-A"], "allow_private_network": True},
    {},
]
STARLETTE_ONLY = [dict(c) for c in CONFIGS]
CONFIGS += [
    {"allow_origin_patterns": ["https://*.a.example"], "allow_origins": [B], "allow_credentials": True},
    {"allow_origin_func": lambda origin: origin == B, "allow_methods": ["PUT"]},
]


@pytest.mark.parametrize("index", range(len(CONFIGS)))
def test_reconfigured_middleware_answers_like_a_fresh_one(impl: ModuleType, index: int) -> None:
    config = CONFIGS[index]
    middleware = impl.CORSMiddleware(ok_app, **CONFIGS[index - 1])
    middleware.reconfigure(**config)
    assert answers(middleware) == answers(impl.CORSMiddleware(ok_app, **config))
    if config in STARLETTE_ONLY:
        assert answers(middleware) == answers(StarletteCORSMiddleware(ok_app, **config))


def test_reconfigure_back_to_defaults_is_starlette_again(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(
        ok_app, allow_origin_patterns=["https://*.example"], allow_origin_func=bool, websocket_origin_guard=True
    )
    middleware.reconfigure(allow_origins=[A])
    assert answers(middleware) == answers(StarletteCORSMiddleware(ok_app, allow_origins=[A]))
    assert acao(call(middleware, simple_scope(B))) == []  # neither the pattern nor the func is left


async def async_func(origin: str) -> bool:
    return True


INVALID: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"allow_origin_patterns": ["https://*example.com"]}, CORSConfigError, "evilexample"),
    ({"allow_origin_patterns": ["https://*.com"], "allow_credentials": True}, CORSConfigError, "public suffix"),
    ({"allow_origin_patterns": "https://*.example.com"}, CORSConfigError, "list of patterns"),
    ({"allow_origin_regex": "https://(a"}, re.error, "missing )"),
    ({"allow_origin_regex": b"https://a"}, TypeError, "str pattern"),
    ({"allow_origin_func": async_func}, CORSConfigError, "async"),
    ({"allow_origin_func": "https://a.example"}, CORSConfigError, "callable"),
    ({"websocket_origin_guard": "yes"}, CORSConfigError, "True or False"),
    ({"allow_methods": ["G\u0100T"]}, CORSConfigError, "latin-1"),
    ({"allow_origins": ["https://a.example/"], "strict": True}, CORSConfigError, "origin-trailing-slash"),
    ({"allow_origins": ["*"], "allow_origin_func": bool, "strict": True}, CORSConfigError, "wildcard-shadows"),
    ({"allow_origin": [B]}, TypeError, "allow_origin"),  # a typo
    ({"handle": CORSHandle()}, TypeError, "handle"),
    ({"app": ok_app}, TypeError, "app"),
]


@pytest.mark.parametrize("with_base", [False, True])
@pytest.mark.parametrize(("arguments", "error", "fragment"), INVALID, ids=[repr(a) for a, _, _ in INVALID])
def test_a_refused_configuration_leaves_the_old_one_in_force(
    impl: ModuleType, arguments: dict[str, Any], error: type[Exception], fragment: str, with_base: bool
) -> None:
    middleware = impl.CORSMiddleware(
        ok_app,
        allow_origins=[A],
        allow_methods=["GET", "PUT"],
        allow_credentials=True,
        expose_headers=["X-Old"],
        allow_origin_patterns=["https://*.old.example"],
    )
    settings = middleware.settings
    before = answers(middleware)
    with pytest.raises(error, match=re.escape(fragment) if fragment else None):
        if with_base:
            middleware.reconfigure(middleware.settings, **arguments)
        else:
            middleware.reconfigure(**arguments)
    assert middleware.settings is settings
    assert answers(middleware) == before
    assert acao(call(middleware, simple_scope("https://x.old.example"))) == [b"https://x.old.example"]
    assert acao(call(middleware, simple_scope(A))) == [A.encode()]


def test_reconfigure_reports_problems_like_the_constructor(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A])
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        middleware.reconfigure(allow_origins=["https://b.example/"])
    messages = [r.getMessage() for r in caplog.records if r.name == "fastcors"]
    assert len(messages) == 1
    assert "'https://b.example/' ends with '/'" in messages[0]
    assert middleware.settings.allow_origins == ["https://b.example/"]  # a warning does not refuse


def test_reconfigure_can_switch_debug_on_and_off(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A])
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        call(middleware, simple_scope(B))
        assert caplog.records == []
        middleware.reconfigure(middleware.settings, debug=True)
        call(middleware, simple_scope(B))
        assert len(caplog.records) == 1
        assert "origin 'https://b.example' is not allowed" in caplog.records[0].getMessage()
        middleware.reconfigure(middleware.settings, debug=False)
        call(middleware, simple_scope(B))
        assert len(caplog.records) == 1


def test_reconfigure_switches_on_the_new_features(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A])
    assert acao(call(middleware, simple_scope("https://x.tenant.example"))) == []
    middleware.reconfigure(
        allow_origin_patterns=["https://*.tenant.example"],
        allow_origin_func=lambda origin: origin == B,
    )
    assert acao(call(middleware, simple_scope("https://x.tenant.example"))) == [b"https://x.tenant.example"]
    assert acao(call(middleware, simple_scope(B))) == [B.encode()]
    assert acao(call(middleware, simple_scope(A))) == []


# ---------------------------------------------------------------------------- requests in flight


async def call_async(middleware: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive_nothing, send)
    return sent


class SlowApp:
    """Paths starting with /slow wait for `release` before responding; others respond at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered: dict[str, asyncio.Event] = {}

    def entered_event(self, path: str) -> asyncio.Event:
        return self.entered.setdefault(path, asyncio.Event())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"].startswith("/slow"):
            self.entered_event(scope["path"]).set()
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_request_in_flight_finishes_under_the_old_configuration(impl: ModuleType) -> None:
    async def main() -> dict[str, list[dict[str, Any]]]:
        app = SlowApp()
        middleware = impl.CORSMiddleware(app, allow_origins=[A], allow_credentials=True, expose_headers=["X-Old"])
        slow_a = asyncio.create_task(call_async(middleware, simple_scope(A, path="/slow-a")))
        slow_b = asyncio.create_task(call_async(middleware, simple_scope(B, path="/slow-b")))
        await app.entered_event("/slow-a").wait()
        await app.entered_event("/slow-b").wait()
        middleware.reconfigure(allow_origins=[B], expose_headers=["X-New"])
        results = {
            "new_a": await call_async(middleware, simple_scope(A)),
            "new_b": await call_async(middleware, simple_scope(B)),
        }
        assert not slow_a.done() and not slow_b.done()  # they really were in flight
        app.release.set()
        results["old_a"] = await slow_a
        results["old_b"] = await slow_b
        return results

    results = asyncio.run(main())
    old = [(b"access-control-allow-credentials", b"true"), (b"access-control-expose-headers", b"X-Old")]
    assert results["old_a"][0]["headers"] == [*old, (ACAO, A.encode()), VARY_ORIGIN]
    assert results["old_b"][0]["headers"] == [*old, VARY_ORIGIN]  # B was not allowed when it started
    assert results["new_a"][0]["headers"] == [(b"access-control-expose-headers", b"X-New"), VARY_ORIGIN]
    assert results["new_b"][0]["headers"] == [
        (b"access-control-expose-headers", b"X-New"),
        (ACAO, B.encode()),
        VARY_ORIGIN,
    ]


def test_a_request_in_flight_asks_the_old_func(impl: ModuleType) -> None:
    old_calls: list[str] = []
    new_calls: list[str] = []

    def old_func(origin: str) -> bool:
        old_calls.append(origin)
        return True

    def new_func(origin: str) -> bool:
        new_calls.append(origin)
        return False

    async def main() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        app = SlowApp()
        middleware = impl.CORSMiddleware(app, allow_origin_func=old_func)
        slow = asyncio.create_task(call_async(middleware, simple_scope(A, path="/slow")))
        await app.entered_event("/slow").wait()
        middleware.reconfigure(allow_origin_func=new_func)
        fresh = await call_async(middleware, simple_scope(A))
        app.release.set()
        return await slow, fresh

    in_flight, fresh = asyncio.run(main())
    assert acao(in_flight) == [A.encode()]
    assert acao(fresh) == []
    assert old_calls == [A]
    assert new_calls == [A]


def test_reconfigure_from_other_threads_never_mixes_two_configurations(impl: ModuleType) -> None:
    one = {"allow_origins": [A], "allow_credentials": True, "expose_headers": ["X-One"], "allow_methods": ["PUT"]}
    two = {"allow_origins": [B], "expose_headers": ["X-Two"], "max_age": 1}
    scopes = [simple_scope(A), simple_scope(B), preflight_scope(A, "PUT"), preflight_scope(B, "PUT")]

    def fresh(scope: dict[str, Any]) -> dict[str, Any]:
        return dict(scope, headers=list(scope["headers"]))

    acceptable = [
        {repr(call(impl.CORSMiddleware(ok_app, **config), fresh(scope))) for config in (one, two)} for scope in scopes
    ]
    assert all(len(outcomes) == 2 for outcomes in acceptable)  # the two configurations really differ
    middleware = impl.CORSMiddleware(ok_app, **one)
    stop = threading.Event()
    seen: list[set[str]] = [set() for _ in scopes]
    wrong: list[str] = []

    def worker() -> None:
        while not stop.is_set():
            for i, scope in enumerate(scopes):
                outcome = repr(call(middleware, fresh(scope)))
                seen[i].add(outcome)
                if outcome not in acceptable[i]:
                    wrong.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for i in range(50):
            middleware.reconfigure(**(two if i % 2 == 0 else one))
            time.sleep(0.001)  # let the workers run under each configuration
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert wrong == []
    assert seen == acceptable  # both configurations were seen, for every request


# ---------------------------------------------------------------------------- CORSHandle


def test_handle_reconfigures_every_middleware_built_with_it(impl: ModuleType) -> None:
    handle = CORSHandle()
    assert handle.settings is None
    first = impl.CORSMiddleware(ok_app, allow_origins=[A], handle=handle)
    second = impl.CORSMiddleware(ok_app, allow_origins=["https://c.example"], allow_credentials=True, handle=handle)
    other = impl.CORSMiddleware(ok_app, allow_origins=[A])  # no handle: never touched
    assert first.settings.allow_origins == [A]  # until the handle is used, their own arguments
    handle.reconfigure(allow_origins=[B])
    assert handle.settings == CORSSettings(allow_origins=[B])
    for middleware in (first, second):
        assert middleware.settings == CORSSettings(allow_origins=[B])
        assert call(middleware, simple_scope(B))[0]["headers"] == [(ACAO, B.encode()), VARY_ORIGIN]
        assert acao(call(middleware, simple_scope(A))) == []
    assert other.settings == CORSSettings(allow_origins=[A])
    assert acao(call(other, simple_scope(A))) == [A.encode()]


def test_handle_reconfigure_from_its_settings(impl: ModuleType) -> None:
    handle = CORSHandle()
    middleware = impl.CORSMiddleware(ok_app, handle=handle)
    handle.reconfigure(allow_origins=[A], allow_methods=["PUT"])
    handle.reconfigure(handle.settings, allow_origins=[B])
    assert middleware.settings == CORSSettings(allow_origins=[B], allow_methods=["PUT"])
    assert status(call(middleware, preflight_scope(B, "PUT"))) == 200
    assert status(call(middleware, preflight_scope(A, "PUT"))) == 400


def test_a_middleware_built_after_the_handle_was_reconfigured_starts_with_its_settings(impl: ModuleType) -> None:
    handle = CORSHandle()
    handle.reconfigure(allow_origins=[B], allow_credentials=True)
    late = impl.CORSMiddleware(ok_app, allow_origins=[A], handle=handle)
    assert late.settings == handle.settings
    assert acao(call(late, simple_scope(A))) == []
    assert call(late, simple_scope(B))[0]["headers"] == [
        (b"access-control-allow-credentials", b"true"),
        (ACAO, B.encode()),
        VARY_ORIGIN,
    ]
    handle.reconfigure(allow_origins=[A])  # and it follows later changes too
    assert acao(call(late, simple_scope(A))) == [A.encode()]


def test_a_refused_handle_configuration_changes_nothing(impl: ModuleType) -> None:
    handle = CORSHandle()
    first = impl.CORSMiddleware(ok_app, allow_origins=[A], handle=handle)
    with pytest.raises(CORSConfigError):
        handle.reconfigure(allow_origin_patterns=["https://*example.com"])
    assert handle.settings is None
    assert first.settings == CORSSettings(allow_origins=[A])
    late = impl.CORSMiddleware(ok_app, allow_origins=["https://c.example"], handle=handle)
    assert late.settings == CORSSettings(allow_origins=["https://c.example"])  # nothing to replay
    handle.reconfigure(allow_origins=[B])
    good = handle.settings
    with pytest.raises(TypeError):
        handle.reconfigure(handle.settings, allow_origin=[A])
    with pytest.raises(CORSConfigError):
        handle.reconfigure(allow_origins=["*"], websocket_origin_guard=True, strict=True)
    assert handle.settings is good
    for middleware in (first, late, impl.CORSMiddleware(ok_app, handle=handle)):
        assert middleware.settings is good
        assert acao(call(middleware, simple_scope(B))) == [B.encode()]
        assert acao(call(middleware, simple_scope(A))) == []


@pytest.mark.parametrize("handle", [object(), "handle", CORSSettings(), CORSHandle], ids=repr)
def test_handle_must_be_a_cors_handle(impl: ModuleType, handle: Any) -> None:
    with pytest.raises(TypeError, match="CORSHandle"):
        impl.CORSMiddleware(ok_app, handle=handle)


@pytest.mark.parametrize("base", [{"allow_origins": [A]}, "settings", 1], ids=repr)
def test_reconfigure_base_must_be_settings(impl: ModuleType, base: Any) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A])
    with pytest.raises(TypeError, match="CORSSettings"):
        middleware.reconfigure(base, allow_origins=[B])
    with pytest.raises(TypeError, match="CORSSettings"):
        CORSHandle().reconfigure(base, allow_origins=[B])
    assert middleware.settings.allow_origins == [A]


def test_a_middleware_built_during_a_handle_reconfigure_gets_the_new_settings(impl: ModuleType) -> None:
    # The handle registers a new middleware and gives it the latest settings in one step,
    # so a reconfigure racing with the construction cannot be overwritten by old settings.
    class RacingHandle(CORSHandle):
        def _attach(self, middleware: Any) -> None:
            racer = threading.Thread(target=self.reconfigure, kwargs={"allow_origins": [B]})
            racer.start()
            time.sleep(0.05)  # the racer now waits for the handle's lock
            super()._attach(middleware)
            racer.join()

    handle = RacingHandle()
    middleware = impl.CORSMiddleware(ok_app, allow_origins=[A], handle=handle)
    assert handle.settings is not None and handle.settings.allow_origins == [B]
    assert middleware.settings.allow_origins == [B]
    assert acao(call(middleware, simple_scope(B))) == [B.encode()]


def test_handle_does_not_keep_middlewares_alive(impl: ModuleType) -> None:
    handle = CORSHandle()
    middleware = impl.CORSMiddleware(ok_app, handle=handle)
    ref = weakref.ref(middleware)
    del middleware
    gc.collect()
    assert ref() is None
    handle.reconfigure(allow_origins=[A])  # nothing left to update: no error
    assert handle.settings == CORSSettings(allow_origins=[A])


# ---------------------------------------------------------------------------- real frameworks


async def homepage(request: Request) -> PlainTextResponse:
    return PlainTextResponse("home", headers={"x-app": "1"})


def starlette_app(impl: ModuleType, handle: CORSHandle, **config: Any) -> Starlette:
    app = Starlette(routes=[Route("/", homepage, methods=["GET", "PUT"])])
    app.add_middleware(impl.CORSMiddleware, handle=handle, **config)
    return app


def fastapi_app(impl: ModuleType, handle: CORSHandle, **config: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def root() -> dict[str, str]:
        return {"hello": "world"}

    app.add_middleware(impl.CORSMiddleware, handle=handle, **config)
    return app


def fastapi_app_with_middleware_list(impl: ModuleType, handle: CORSHandle, **config: Any) -> FastAPI:
    app = FastAPI(middleware=[Middleware(impl.CORSMiddleware, handle=handle, **config)])

    @app.get("/")
    def root() -> dict[str, str]:
        return {"hello": "world"}

    return app


async def fetch(app: Any, origin: str, method: str = "GET", preflight_method: str | None = None) -> httpx.Response:
    headers = {"origin": origin}
    if preflight_method is not None:
        headers["access-control-request-method"] = preflight_method
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, "/", headers=headers)


BUILDERS = [starlette_app, fastapi_app, fastapi_app_with_middleware_list]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_framework_app_reconfigured_before_its_first_request(impl: ModuleType, build: Any) -> None:
    handle = CORSHandle()
    app = build(impl, handle, allow_origins=[A])
    assert app.middleware_stack is None  # built on the first request
    handle.reconfigure(allow_origins=[B], allow_credentials=True, allow_methods=["GET", "PUT"])

    async def main() -> list[httpx.Response]:
        return [
            await fetch(app, B),
            await fetch(app, A),
            await fetch(app, B, "OPTIONS", "PUT"),
            await fetch(app, A, "OPTIONS", "GET"),
        ]

    from_b, from_a, preflight_b, preflight_a = asyncio.run(main())
    assert app.middleware_stack is not None
    assert from_b.status_code == 200
    assert from_b.headers["access-control-allow-origin"] == B
    assert from_b.headers["access-control-allow-credentials"] == "true"
    assert from_b.headers["vary"] == "Origin"
    assert from_a.status_code == 200
    assert "access-control-allow-origin" not in from_a.headers
    assert preflight_b.status_code == 200
    assert preflight_b.headers["access-control-allow-origin"] == B
    assert preflight_b.headers["access-control-allow-methods"] == "GET, PUT"
    assert preflight_a.status_code == 400
    assert preflight_a.text == "Disallowed CORS origin"


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_framework_app_reconfigured_while_serving(impl: ModuleType, build: Any) -> None:
    handle = CORSHandle()
    app = build(impl, handle, allow_origins=[A])
    second_app = build(impl, handle, allow_origins=["https://c.example"])

    async def main() -> dict[str, httpx.Response]:
        responses = {"before_a": await fetch(app, A), "before_b": await fetch(app, B)}
        responses["before_c"] = await fetch(second_app, "https://c.example")
        handle.reconfigure(allow_origin_patterns=["https://*.tenant.example"], allow_origins=[B])
        responses["after_a"] = await fetch(app, A)
        responses["after_b"] = await fetch(app, B)
        responses["after_tenant"] = await fetch(app, "https://x.tenant.example")
        responses["after_preflight"] = await fetch(app, "https://y.tenant.example", "OPTIONS", "GET")
        responses["second_c"] = await fetch(second_app, "https://c.example")
        responses["second_b"] = await fetch(second_app, B)
        return responses

    r = asyncio.run(main())
    assert r["before_a"].headers.get("access-control-allow-origin") == A
    assert "access-control-allow-origin" not in r["before_b"].headers
    assert r["before_c"].headers.get("access-control-allow-origin") == "https://c.example"
    assert "access-control-allow-origin" not in r["after_a"].headers
    assert r["after_b"].headers.get("access-control-allow-origin") == B
    assert r["after_tenant"].headers.get("access-control-allow-origin") == "https://x.tenant.example"
    assert r["after_preflight"].status_code == 200
    assert r["after_preflight"].headers.get("access-control-allow-origin") == "https://y.tenant.example"
    assert "access-control-allow-origin" not in r["second_c"].headers  # both apps follow the handle
    assert r["second_b"].headers.get("access-control-allow-origin") == B
    assert all(response.status_code == 200 for response in r.values())


def test_framework_app_added_after_the_handle_was_reconfigured(impl: ModuleType) -> None:
    handle = CORSHandle()
    handle.reconfigure(allow_origins=[B])
    app = starlette_app(impl, handle, allow_origins=[A])

    async def main() -> tuple[httpx.Response, httpx.Response]:
        return await fetch(app, A), await fetch(app, B)

    from_a, from_b = asyncio.run(main())
    assert "access-control-allow-origin" not in from_a.headers
    assert from_b.headers["access-control-allow-origin"] == B
    assert from_b.text == "home"
    assert from_b.headers["x-app"] == "1"


def test_fastapi_endpoint_reconfiguring_its_own_cors(impl: ModuleType) -> None:
    """The README's pattern: an authenticated admin endpoint replaces the origins through the
    handle. Without the token nothing changes. Its own request is in flight meanwhile, so it is
    answered under the configuration it started with; a refused configuration fails the
    endpoint and changes nothing."""
    base = CORSSettings(allow_origins=[A], allow_credentials=True, allow_methods=["GET", "PUT"])
    handle = CORSHandle()
    app = FastAPI()
    app.add_middleware(impl.CORSMiddleware, **vars(base), handle=handle)
    token = b"s3cret-admin-token"

    def admin(credentials: HTTPAuthorizationCredentials = Depends(HTTPBearer())) -> None:  # noqa: B008
        if not hmac.compare_digest(credentials.credentials.encode(), token):
            raise HTTPException(status_code=403, detail="not allowed")

    @app.put("/admin/cors-origins", dependencies=[Depends(admin)])
    def set_origins(origins: list[str]) -> dict[str, list[str]]:
        handle.reconfigure(base, allow_origins=origins)
        return {"origins": origins}

    @app.put("/admin/cors-patterns", dependencies=[Depends(admin)])
    def set_patterns(patterns: list[str]) -> dict[str, list[str]]:
        handle.reconfigure(handle.settings, allow_origin_patterns=patterns)
        return {"patterns": patterns}

    @app.get("/")
    def root() -> dict[str, str]:
        return {"hello": "world"}

    async def main() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            anonymous = await client.put("/admin/cors-origins", json=[B], headers={"origin": A})
            wrong = {"origin": A, "authorization": "Bearer guessed"}
            guessed = await client.put("/admin/cors-origins", json=[B], headers=wrong)
            unchanged = handle.settings
            bearer = "Bearer " + token.decode()
            put = await client.put("/admin/cors-origins", json=[B], headers={"origin": A, "authorization": bearer})
            pattern = ["https://*example.com"]
            bad = await client.put("/admin/cors-patterns", json=pattern, headers={"origin": B, "authorization": bearer})
            return {
                "anonymous": anonymous,
                "guessed": guessed,
                "unchanged": unchanged,
                "put": put,
                "bad": bad,
                "from_a": await client.get("/", headers={"origin": A}),
                "from_b": await client.get("/", headers={"origin": B}),
            }

    responses = asyncio.run(main())
    assert responses["anonymous"].status_code in (401, 403)  # HTTPBearer's answer: 403 or 401 by FastAPI version
    assert responses["guessed"].status_code == 403
    assert responses["unchanged"] is None  # neither changed anything
    assert responses["put"].status_code == 200
    assert responses["put"].headers.get("access-control-allow-origin") == A  # answered under the old origins
    assert responses["put"].headers.get("access-control-allow-credentials") == "true"
    assert responses["bad"].status_code == 500  # the endpoint failed: CORSConfigError
    assert responses["from_a"].headers.get("access-control-allow-origin") is None
    assert responses["from_b"].headers.get("access-control-allow-origin") == B
    assert handle.settings == dataclasses.replace(base, allow_origins=[B])
