"""websocket_origin_guard=True: a WebSocket handshake whose Origin is present and not allowed
is refused before the application sees it; browsers apply no CORS to WebSockets, so this is
the only check a cross-site page meets (cross-site WebSocket hijacking).

On both implementations: the refusal (an HTTP 403 when the server offers the
"websocket.http.response" extension, else a close with code 1008 before accept); allowed
origins (list, regex, pattern, function) and handshakes without Origin reach the app with
the very scope, receive and send; a client gone first gets nothing; with the guard off,
and for lifespan, everything passes untouched; real Starlette and FastAPI WebSocket routes.
"""

from __future__ import annotations

import asyncio
import logging
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import DENIAL_EXTENSION, WsOutcome, http_scope, run, run_ws, ws_scope
from fastapi import FastAPI, WebSocket
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from fastcors import CORSHandle

A = "https://a.example.com"
EVIL = "https://evil.example.net"
DENIAL_BODY = b"Disallowed CORS origin"


def assert_passed_through(outcome: WsOutcome) -> None:
    assert len(outcome.app_calls) == 1
    assert outcome.originals is not None
    app_scope, app_receive, app_send = outcome.app_calls[0]
    assert app_scope is outcome.originals[0]
    assert app_receive is outcome.originals[1]
    assert app_send is outcome.originals[2]
    if app_scope["type"] == "websocket":
        assert outcome.sent == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 1000}]


def assert_refused_with_403(outcome: WsOutcome) -> None:
    assert outcome.app_calls == []
    assert outcome.received == 1  # the websocket.connect, and nothing more
    start, body = outcome.sent
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 403
    headers = dict(start["headers"])
    assert len(headers) == len(start["headers"])
    assert headers[b"content-type"].startswith(b"text/plain")
    assert headers[b"content-length"] == str(len(DENIAL_BODY)).encode()
    assert body == {"type": "websocket.http.response.body", "body": DENIAL_BODY}


def assert_refused_with_close(outcome: WsOutcome) -> None:
    assert outcome.app_calls == []
    assert outcome.received == 1
    assert outcome.sent == [{"type": "websocket.close", "code": 1008}]


class Recorder:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[Any] = []

    def __call__(self, origin: Any) -> Any:
        self.calls.append(origin)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


GUARDED = {
    "allow_origins": [A],
    "allow_origin_regex": r"https://regex\.example\.org",
    "allow_origin_patterns": ["https://*.tenant.example.com", "http://localhost:*"],
    "websocket_origin_guard": True,
}


def guarded(impl: ModuleType, **extra: Any) -> Any:
    return lambda app: impl.CORSMiddleware(app, **{**GUARDED, **extra})


# ---------------------------------------------------------------------------- refusals

REFUSED = [
    EVIL,
    "https://a.example.com.evil.net",
    "https://evila.example.com",
    "http://a.example.com",  # scheme downgrade
    "https://A.example.com",
    "https://a.example.com/",
    "https://tenant.example.com",  # the pattern's apex
    "https://x@a.tenant.example.com",
    "http://localhost:0",
    "http://localhost:65536",
    "https://regex.example.org.evil.net",
    "null",
    "",
    "https://a.example.com\x00",
    "https://\xe9.tenant.example.com",
]


@pytest.mark.parametrize("origin", REFUSED, ids=repr)
def test_refused_with_403_when_the_server_offers_a_denial_response(impl: ModuleType, origin: str) -> None:
    assert_refused_with_403(run_ws(guarded(impl), ws_scope(origin)))


@pytest.mark.parametrize("origin", REFUSED, ids=repr)
def test_refused_with_close_1008_otherwise(impl: ModuleType, origin: str) -> None:
    assert_refused_with_close(run_ws(guarded(impl), ws_scope(origin, extensions=None)))


@pytest.mark.parametrize(
    "extensions",
    [
        {},
        {"http.response.trailers": {}},
        {"websocket.http.response.start": {}},
        None,
        [("websocket.http.response", {})],
    ],
    ids=repr,
)
def test_close_1008_unless_the_denial_extension_is_offered(impl: ModuleType, extensions: Any) -> None:
    scope = ws_scope(EVIL, extensions=extensions)
    if extensions is None:
        scope["extensions"] = None  # present, but null
    assert_refused_with_close(run_ws(guarded(impl), scope))


def test_denial_extension_among_others(impl: ModuleType) -> None:
    extensions = {"http.response.trailers": {}, "websocket.http.response": {}, "tls": {"client_cert_chain": []}}
    assert_refused_with_403(run_ws(guarded(impl), ws_scope(EVIL, extensions=extensions)))


@pytest.mark.parametrize("extensions", [DENIAL_EXTENSION, None])
def test_client_gone_before_connect_gets_nothing(impl: ModuleType, extensions: Any) -> None:
    outcome = run_ws(guarded(impl), ws_scope(EVIL, extensions), [{"type": "websocket.disconnect", "code": 1001}])
    assert outcome.app_calls == []
    assert outcome.received == 1
    assert outcome.sent == []


def test_first_origin_header_decides(impl: ModuleType) -> None:
    scope = ws_scope(EVIL)
    scope["headers"].append((b"origin", A.encode()))
    assert_refused_with_403(run_ws(guarded(impl), scope))
    scope = ws_scope(A)
    scope["headers"].append((b"origin", EVIL.encode()))
    assert_passed_through(run_ws(guarded(impl), scope))


def test_origin_header_name_is_exact(impl: ModuleType) -> None:
    """ASGI header names are lower case; an `Origin` spelled otherwise is not the Origin (as for http)."""
    scope = ws_scope(None)
    scope["headers"].append((b"Origin", EVIL.encode()))
    assert_passed_through(run_ws(guarded(impl), scope))


# ---------------------------------------------------------------------------- what passes

ALLOWED = [
    A,  # allow_origins
    "https://regex.example.org",  # allow_origin_regex
    "https://a.tenant.example.com",  # allow_origin_patterns
    "https://a.b.tenant.example.com",
    "http://localhost",
    "http://localhost:5173",
]


@pytest.mark.parametrize("origin", ALLOWED)
@pytest.mark.parametrize("extensions", [DENIAL_EXTENSION, None])
def test_allowed_origin_reaches_the_app_untouched(impl: ModuleType, origin: str, extensions: Any) -> None:
    scope = ws_scope(origin, extensions)
    headers_before = list(scope["headers"])
    outcome = run_ws(guarded(impl), scope)
    assert_passed_through(outcome)
    assert outcome.app_calls[0][0]["headers"] == headers_before


def test_handshake_without_origin_reaches_the_app_untouched(impl: ModuleType) -> None:
    func = Recorder(False)
    outcome = run_ws(guarded(impl, allow_origin_func=func), ws_scope(None))
    assert_passed_through(outcome)
    assert func.calls == []


def test_tuple_headers_are_not_normalised(impl: ModuleType) -> None:
    scope = ws_scope(A)
    scope["headers"] = tuple(scope["headers"])
    outcome = run_ws(guarded(impl), scope)
    assert_passed_through(outcome)
    assert type(outcome.app_calls[0][0]["headers"]) is tuple


def test_func_decides_after_the_static_rules(impl: ModuleType) -> None:
    yes = Recorder(True)
    assert_passed_through(run_ws(guarded(impl, allow_origin_func=yes), ws_scope(EVIL)))
    assert yes.calls == [EVIL]
    assert all(type(call) is str for call in yes.calls)
    no = Recorder(False)
    assert_refused_with_403(run_ws(guarded(impl, allow_origin_func=no), ws_scope(EVIL)))
    assert_passed_through(run_ws(guarded(impl, allow_origin_func=no), ws_scope(A)))
    assert no.calls == [EVIL]  # not asked for A, which the list allows


@pytest.mark.parametrize("answer", [RuntimeError("lookup failed"), None, 1, "yes"], ids=repr)
def test_func_failure_refuses_the_handshake_and_is_logged(
    impl: ModuleType, answer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        outcome = run_ws(guarded(impl, allow_origin_func=Recorder(answer)), ws_scope(EVIL))
    assert_refused_with_403(outcome)
    errors = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert repr(EVIL) in errors[0].getMessage()


@pytest.mark.parametrize("credentials", [False, True])
def test_wildcard_origins_let_every_handshake_through(impl: ModuleType, credentials: bool) -> None:
    factory = lambda app: impl.CORSMiddleware(  # noqa: E731
        app, allow_origins=["*"], allow_credentials=credentials, websocket_origin_guard=True
    )
    for origin in (EVIL, "null", A):
        assert_passed_through(run_ws(factory, ws_scope(origin)))


# ---------------------------------------------------------------------------- guard off, other scopes


@pytest.mark.parametrize("origin", [EVIL, "null", A, None])
def test_without_the_guard_websockets_pass_whatever_the_origin(impl: ModuleType, origin: str | None) -> None:
    func = Recorder(False)
    config = {**GUARDED, "websocket_origin_guard": False, "allow_origin_func": func}
    outcome = run_ws(lambda app: impl.CORSMiddleware(app, **config), ws_scope(origin))
    assert_passed_through(outcome)
    assert func.calls == []  # not even asked
    default = run_ws(lambda app: impl.CORSMiddleware(app, allow_origins=[A]), ws_scope(origin))
    assert_passed_through(default)


@pytest.mark.parametrize("guard", [True, False])
def test_lifespan_always_passes_through(impl: ModuleType, guard: bool) -> None:
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    factory = lambda app: impl.CORSMiddleware(app, allow_origins=[A], websocket_origin_guard=guard)  # noqa: E731
    outcome = run_ws(factory, scope, [])
    assert_passed_through(outcome)
    assert outcome.sent == []
    assert outcome.received == 0


def test_the_guard_changes_nothing_for_http(impl: ModuleType) -> None:
    scopes = [
        http_scope(headers=[(b"origin", EVIL.encode())]),
        http_scope(headers=[(b"origin", A.encode())]),
        http_scope("OPTIONS", [(b"origin", EVIL.encode()), (b"access-control-request-method", b"GET")]),
        http_scope("OPTIONS", [(b"origin", A.encode()), (b"access-control-request-method", b"GET")]),
        http_scope(),
    ]
    config = {key: value for key, value in GUARDED.items() if key != "websocket_origin_guard"}
    for scope in scopes:
        with_guard = run(lambda app: impl.CORSMiddleware(app, **config, websocket_origin_guard=True), scope)
        without = run(lambda app: impl.CORSMiddleware(app, **config), scope)
        assert with_guard == without
        assert with_guard.error is None


# ---------------------------------------------------------------------------- debug


def test_debug_explains_a_refused_handshake(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        run_ws(guarded(impl, debug=True), ws_scope(EVIL))
        run_ws(guarded(impl, debug=True), ws_scope(A))  # allowed: nothing to say
    messages = [r.getMessage() for r in caplog.records if r.name == "fastcors"]
    assert len(messages) == 1
    assert messages[0].startswith("CORS: WebSocket handshake refused (403)")
    assert f"origin {EVIL!r} is not allowed" in messages[0]
    assert "'https://*.tenant.example.com'" in messages[0]
    assert [r.levelno for r in caplog.records if r.name == "fastcors"] == [logging.WARNING]


def test_no_explanation_without_debug(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        assert_refused_with_403(run_ws(guarded(impl), ws_scope(EVIL)))
    assert [r for r in caplog.records if r.name == "fastcors"] == []


# ---------------------------------------------------------------------------- reconfigure


def test_reconfigure_switches_the_guard(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(None, allow_origins=[A])
    factory = lambda app: _with_app(middleware, app)  # noqa: E731
    assert_passed_through(run_ws(factory, ws_scope(EVIL)))
    middleware.reconfigure(middleware.settings, websocket_origin_guard=True)
    assert_refused_with_403(run_ws(factory, ws_scope(EVIL)))
    assert_passed_through(run_ws(factory, ws_scope(A)))
    middleware.reconfigure(middleware.settings, allow_origins=[EVIL])
    assert_passed_through(run_ws(factory, ws_scope(EVIL)))
    assert_refused_with_403(run_ws(factory, ws_scope(A)))
    middleware.reconfigure(middleware.settings, websocket_origin_guard=False)
    assert_passed_through(run_ws(factory, ws_scope(A)))


def _with_app(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware


@pytest.mark.parametrize("new", [{"allow_origins": [EVIL], "websocket_origin_guard": True}, {}], ids=["allow", "off"])
def test_a_handshake_in_flight_keeps_the_verdict_it_started_with(impl: ModuleType, new: dict[str, Any]) -> None:
    async def main() -> tuple[list[dict[str, Any]], list[Any]]:
        connect = asyncio.Event()
        waiting = asyncio.Event()
        sent: list[dict[str, Any]] = []
        app_calls: list[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            app_calls.append(scope)

        async def receive() -> dict[str, Any]:
            waiting.set()
            await connect.wait()
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        middleware = impl.CORSMiddleware(app, allow_origins=[A], websocket_origin_guard=True)
        task = asyncio.ensure_future(middleware(ws_scope(EVIL), receive, send))
        await waiting.wait()
        middleware.reconfigure(**new)  # EVIL allowed now, or the guard off
        connect.set()
        await task
        return sent, app_calls

    sent, app_calls = asyncio.run(main())
    assert app_calls == []
    assert [m["type"] for m in sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert sent[0]["status"] == 403


# ---------------------------------------------------------------------------- real frameworks


def starlette_ws_app(impl: ModuleType, entered: list[str], **config: Any) -> Starlette:
    async def endpoint(websocket: Any) -> None:
        entered.append(websocket.headers.get("origin", ""))
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    app.add_middleware(impl.CORSMiddleware, **config)
    return app


def fastapi_ws_app(impl: ModuleType, entered: list[str], **config: Any) -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        entered.append(websocket.headers.get("origin", ""))
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app.add_middleware(impl.CORSMiddleware, **config)
    return app


def handshake(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


@pytest.mark.parametrize("build", [starlette_ws_app, fastapi_ws_app], ids=lambda b: b.__name__)
def test_framework_websocket_routes(impl: ModuleType, build: Any) -> None:
    entered: list[str] = []
    app = build(impl, entered, allow_origin_patterns=["https://*.example.com"], websocket_origin_guard=True)
    accepted = handshake(app, ws_scope("https://app.example.com"))
    assert [m["type"] for m in accepted] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert accepted[1]["text"] == "hello"
    assert handshake(app, ws_scope(None))[0]["type"] == "websocket.accept"
    assert entered == ["https://app.example.com", ""]
    refused = handshake(app, ws_scope("https://example.com.evil.net"))
    assert refused[0]["type"] == "websocket.http.response.start"
    assert refused[0]["status"] == 403
    assert refused[1]["body"] == DENIAL_BODY
    closed = handshake(app, ws_scope("https://example.com.evil.net", extensions=None))
    assert closed == [{"type": "websocket.close", "code": 1008}]
    assert entered == ["https://app.example.com", ""]  # the endpoint never saw the refused ones


def test_framework_guard_switched_on_through_a_handle(impl: ModuleType) -> None:
    entered: list[str] = []
    handle = CORSHandle()
    app = starlette_ws_app(impl, entered, allow_origins=[A], handle=handle)
    assert handshake(app, ws_scope(EVIL))[0]["type"] == "websocket.accept"  # the guard is off by default
    handle.reconfigure(allow_origins=[A], websocket_origin_guard=True)
    assert handshake(app, ws_scope(EVIL))[0]["status"] == 403
    assert handshake(app, ws_scope(A))[0]["type"] == "websocket.accept"
    assert entered == [EVIL, A]
