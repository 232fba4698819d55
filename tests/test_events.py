"""Denial events (`on_denied`) and the production denial log (`log_denials`), both implementations."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import http_scope, preflight_scope, run, run_ws, simple_scope, ws_scope

from fastcors import CORSConfigError, CORSEvent, CORSHandle, CORSSettings
from fastcors._events import EVENT_CHARS, LOG_INTERVAL, LOG_REMEMBERED, DenialLog

A = "https://a.example.com"
EVIL = "https://evil.example.net"
ARGS: dict[str, Any] = {"allow_origins": [A], "allow_methods": ["GET", "POST"], "allow_headers": ["x-ok"]}


class Recorder(list):
    def __call__(self, event: CORSEvent) -> None:
        self.append(event)


def answer(impl: ModuleType, scope: dict[str, Any], **arguments: Any) -> tuple[Any, Recorder]:
    events = Recorder()
    outcome = run(lambda app: impl.CORSMiddleware(app, **{**ARGS, **arguments, "on_denied": events}), scope)
    return outcome, events


def status(outcome: Any) -> int:
    return outcome.sent[0]["status"]


# ---------------------------------------------------------------------------- each kind and reason


@pytest.mark.parametrize(
    ("scope", "reasons", "method", "headers"),
    [
        (preflight_scope(EVIL), ("origin",), "GET", None),
        (preflight_scope(A, "PUT"), ("method",), "PUT", None),
        (preflight_scope(A, "GET", "x-ok, x-bad"), ("headers",), "GET", "x-ok, x-bad"),
        (preflight_scope(EVIL, "PUT", "x-bad"), ("origin", "method", "headers"), "PUT", "x-bad"),
    ],
)
def test_a_refused_preflight_is_an_event(
    impl: ModuleType, scope: dict[str, Any], reasons: tuple[str, ...], method: str, headers: str | None
) -> None:
    outcome, events = answer(impl, scope)
    assert status(outcome) == 400
    origin = dict(scope["headers"])[b"origin"].decode()
    assert events == [CORSEvent("preflight", reasons, origin, "/", method, headers)]


def test_a_preflight_refused_for_private_network_access(impl: ModuleType) -> None:
    scope = preflight_scope(A)
    scope["headers"].append((b"access-control-request-private-network", b"true"))
    outcome, events = answer(impl, scope, starlette_version="newest")
    assert status(outcome) == 400
    assert events == [CORSEvent("preflight", ("private-network",), A, "/", "GET", None)]


def test_a_simple_request_from_a_refused_origin_is_an_event(impl: ModuleType) -> None:
    outcome, events = answer(impl, simple_scope(EVIL, path="/api/items"))
    assert b"access-control-allow-origin" not in dict(outcome.sent[0].get("headers", []))
    assert events == [CORSEvent("simple", ("origin",), EVIL, "/api/items")]


def test_a_refused_websocket_handshake_is_an_event(impl: ModuleType) -> None:
    events = Recorder()
    outcome = run_ws(
        lambda app: impl.CORSMiddleware(app, **ARGS, websocket_origin_guard=True, on_denied=events), ws_scope(EVIL)
    )
    assert outcome.sent[0]["status"] == 403
    assert events == [CORSEvent("websocket", ("origin",), EVIL, "/ws")]


@pytest.mark.parametrize(
    "scope",
    [
        simple_scope(A),
        simple_scope(None),
        preflight_scope(A),
        preflight_scope(A, "POST", "x-ok"),
        http_scope("OPTIONS"),  # not a preflight: no Origin
    ],
)
def test_allowed_requests_are_no_event(impl: ModuleType, scope: dict[str, Any]) -> None:
    outcome, events = answer(impl, scope)
    assert outcome.error is None
    assert events == []


def test_allowed_handshakes_are_no_event(impl: ModuleType) -> None:
    events = Recorder()
    guarded = {**ARGS, "websocket_origin_guard": True, "on_denied": events}
    for origin in (A, None):
        run_ws(lambda app: impl.CORSMiddleware(app, **guarded), ws_scope(origin))
    assert events == []


def test_an_origin_allowed_by_star_is_no_event(impl: ModuleType) -> None:
    _, events = answer(impl, simple_scope(EVIL), allow_origins=["*"])
    assert events == []


def test_a_path_policy_reports_its_own_refusals(impl: ModuleType) -> None:
    # The strict /admin policy refuses what the top level allows: the event says where.
    paths = {"/admin": CORSSettings(allow_origins=["https://admin.example.com"])}
    _, events = answer(impl, simple_scope(A, path="/admin/users"), paths=paths)
    assert events == [CORSEvent("simple", ("origin",), A, "/admin/users")]
    _, events = answer(impl, simple_scope(A, path="/public"), paths=paths)
    assert events == []


def test_values_are_bounded(impl: ModuleType) -> None:
    origin = "https://" + "a" * 5000 + ".example"
    scope = preflight_scope(origin, "P" * 5000, "x-" * 5000)
    scope["path"] = "/" + "p" * 5000
    _, [event] = answer(impl, scope)
    for value in (event.origin, event.path, event.requested_method, event.requested_headers):
        assert value is not None and len(value) == EVENT_CHARS
    assert event.origin == origin[:EVENT_CHARS]


def test_a_value_that_is_not_latin1_text_arrives_as_latin1(impl: ModuleType) -> None:
    _, [event] = answer(impl, simple_scope(b"https://\xe9vil.example\r\n"))
    assert event.origin == "https://\xe9vil.example\r\n"


def test_events_are_frozen() -> None:
    event = CORSEvent("simple", ("origin",), EVIL, "/")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.origin = A  # type: ignore[misc]


def test_the_answers_are_the_same_with_and_without_a_listener(impl: ModuleType) -> None:
    scopes = [preflight_scope(EVIL, "PUT", "x-bad"), simple_scope(EVIL), preflight_scope(A), simple_scope(A)]
    for scope in scopes:
        plain = run(lambda app: impl.CORSMiddleware(app, **ARGS), scope)
        observed, _ = answer(impl, scope, log_denials=True, debug=True)
        assert observed == plain


# ---------------------------------------------------------------------------- a listener that fails


def test_a_raising_listener_is_logged_once_and_changes_nothing(impl: ModuleType, caplog: Any) -> None:
    def broken(event: CORSEvent) -> None:
        raise RuntimeError("listener bug")

    middleware_answers = []
    for _ in range(3):
        outcome = run(lambda app: impl.CORSMiddleware(app, **ARGS, on_denied=broken), preflight_scope(EVIL))
        middleware_answers.append(outcome)
    plain = run(lambda app: impl.CORSMiddleware(app, **ARGS), preflight_scope(EVIL))
    assert all(outcome == plain for outcome in middleware_answers)
    # Once per configuration: each middleware above is a configuration of its own.
    errors = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 3 and all(r.exc_info and "listener bug" in str(r.exc_info[1]) for r in errors)

    caplog.clear()
    middleware = impl.CORSMiddleware(None, **ARGS, on_denied=broken)
    for _ in range(5):
        run(lambda app: _rewire(middleware, app), simple_scope(EVIL))
    errors = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "on_denied raised" in errors[0].getMessage()


def _rewire(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware


async def _async_listener(event: CORSEvent) -> None:
    pass


class _AsyncCallable:
    async def __call__(self, event: CORSEvent) -> None:
        pass


@pytest.mark.parametrize("listener", [_async_listener, _AsyncCallable()])
def test_an_async_listener_is_refused_at_construction(impl: ModuleType, listener: Any) -> None:
    with pytest.raises(CORSConfigError, match=r"on_denied .* is an async function"):
        impl.CORSMiddleware(None, **ARGS, on_denied=listener)
    with pytest.raises(CORSConfigError, match="is an async function"):
        CORSSettings(on_denied=listener).validate()


def test_a_listener_returning_an_awaitable_is_said_once(impl: ModuleType, caplog: Any) -> None:
    # (A lambda around an async function is not recognisable as one until it is called.)
    middleware = impl.CORSMiddleware(None, **ARGS, on_denied=lambda event: _async_listener(event))
    for _ in range(2):
        run(lambda app: _rewire(middleware, app), simple_scope(EVIL))
    errors = [r.getMessage() for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "returned an awaitable" in errors[0]


@pytest.mark.parametrize("value", ["print", 3])
def test_a_listener_that_is_not_callable_is_refused(impl: ModuleType, value: Any) -> None:
    with pytest.raises(CORSConfigError, match="on_denied must be a callable"):
        impl.CORSMiddleware(None, **ARGS, on_denied=value)


def test_log_denials_must_be_a_bool(impl: ModuleType) -> None:
    with pytest.raises(CORSConfigError, match="log_denials must be True or False"):
        impl.CORSMiddleware(None, **ARGS, log_denials="yes")


def test_a_path_may_not_contradict_the_top_levels_listener(impl: ModuleType) -> None:
    paths = {"/admin": CORSSettings(on_denied=print)}
    with pytest.raises(CORSConfigError, match=r"on_denied=.* contradicts the top level"):
        impl.CORSMiddleware(None, **ARGS, paths=paths)


# ---------------------------------------------------------------------------- listeners follow the settings


def test_reconfigure_and_the_handle_carry_the_listener(impl: ModuleType) -> None:
    events = Recorder()
    handle = CORSHandle()
    middleware = impl.CORSMiddleware(None, **ARGS, handle=handle)
    run(lambda app: _rewire(middleware, app), simple_scope(EVIL))
    assert events == []
    handle.reconfigure(CORSSettings(**ARGS), on_denied=events)
    run(lambda app: _rewire(middleware, app), simple_scope(EVIL))
    assert [event.kind for event in events] == ["simple"]
    middleware.reconfigure(middleware.settings, on_denied=None)
    run(lambda app: _rewire(middleware, app), simple_scope(EVIL))
    assert len(events) == 1


def test_the_listener_runs_where_the_request_is_answered(impl: ModuleType) -> None:
    # Called synchronously, in the request's own thread and task: nothing is scheduled.
    seen: list[Any] = []

    def listener(event: CORSEvent) -> None:
        seen.append(asyncio.current_task())

    middleware = impl.CORSMiddleware(None, **ARGS, on_denied=listener)

    async def main() -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})

        async def send(message: Any) -> None:
            pass

        middleware.app = app
        await middleware(simple_scope(EVIL), None, send)
        return asyncio.current_task()

    assert seen == [asyncio.run(main())]


# ---------------------------------------------------------------------------- the denial log


def log_lines(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fastcors" and r.levelno == logging.INFO]


def test_log_denials_says_each_reason_and_origin_once(impl: ModuleType, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="fastcors")
    middleware = impl.CORSMiddleware(None, **ARGS, log_denials=True)
    for scope in [simple_scope(EVIL)] * 3 + [preflight_scope(A, "PUT")] * 2 + [preflight_scope(EVIL)]:
        run(lambda app: _rewire(middleware, app), scope)
    assert log_lines(caplog) == [
        f"CORS: simple request refused (origin): origin {EVIL!r}, path '/'",
        f"CORS: preflight request refused (method): origin {A!r}, path '/', asking for method 'PUT'",
        # (The preflight from EVIL is refused for its origin too: the same pair, not said again.)
    ]


def test_a_request_cannot_forge_a_log_line(impl: ModuleType, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="fastcors")
    middleware = impl.CORSMiddleware(None, **ARGS, log_denials=True)
    forged = b"https://evil.example\r\nINFO:fastcors:CORS: all good\x1b[2J\x00"
    scope = preflight_scope(forged, b"GET\nX", b"x-a\r\nx-b")
    scope["path"] = "/p\n\rq\u2028"
    run(lambda app: _rewire(middleware, app), scope)
    [line] = log_lines(caplog)
    assert not re.search(r"[\x00-\x1f\x7f\u2028]", line), line
    assert "\\r\\nINFO:fastcors" in line and "\\x1b" in line


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def info_lines() -> Any:
    """The messages the "fastcors" logger gets at INFO, from any thread."""
    lines: list[str] = []
    handler = _ListHandler(lines)
    logging.getLogger("fastcors").addHandler(handler)
    logging.getLogger("fastcors").setLevel(logging.INFO)
    yield lines
    logging.getLogger("fastcors").removeHandler(handler)
    logging.getLogger("fastcors").setLevel(logging.NOTSET)


def test_the_log_says_a_pair_again_after_the_interval(info_lines: list[str]) -> None:
    now = [0.0]
    log = DenialLog(clock=lambda: now[0])
    event = CORSEvent("simple", ("origin",), EVIL, "/")
    log.log(event)
    now[0] = LOG_INTERVAL - 1
    log.log(event)
    assert len(info_lines) == 1
    now[0] = LOG_INTERVAL + 0.5
    log.log(event)
    assert len(info_lines) == 2


def test_the_already_said_set_is_bounded_and_what_it_left_out_is_said(info_lines: list[str]) -> None:
    now = [0.0]
    log = DenialLog(clock=lambda: now[0])
    for i in range(LOG_REMEMBERED + 500):  # a flood of distinct origins within one interval
        log.log(CORSEvent("simple", ("origin",), f"https://{i}.evil.example", "/"))
    assert log.remembered() == LOG_REMEMBERED
    assert len(info_lines) == LOG_REMEMBERED
    now[0] = LOG_INTERVAL + 1  # the interval over: the old pairs are forgotten
    log.log(CORSEvent("simple", ("origin",), "https://next.evil.example", "/"))
    assert log.remembered() == 1
    assert info_lines[-2] == "CORS: 500 more refused requests were not logged (too many origins at once)"
    assert "next.evil.example" in info_lines[-1]


def test_log_denials_can_come_from_a_settings_document() -> None:
    from fastcors._sources import parse_settings_document

    assert parse_settings_document('{"log_denials": true}') == {"log_denials": True}


def test_the_log_is_exact_across_threads(info_lines: list[str]) -> None:
    # Without the GIL (free-threaded builds) too: one line per pair, whatever the threads.
    import threading

    log = DenialLog()
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for i in range(400):
            log.log(CORSEvent("simple", ("origin",), f"https://{i % 50}.evil.example", "/"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(info_lines) == sorted(
        f"CORS: simple request refused (origin): origin 'https://{i}.evil.example', path '/'" for i in range(50)
    )
    assert log.remembered() == 50


@pytest.mark.parametrize("version", ["1.6", "newest"])
def test_requests_without_origin_pass_as_before_with_a_listener(impl: ModuleType, version: str) -> None:
    # Before Starlette 1.7 their messages reach the server untouched.
    scope = simple_scope(None)
    plain = run(lambda app: impl.CORSMiddleware(app, **ARGS, starlette_version=version), scope)
    observed, events = answer(impl, simple_scope(None), starlette_version=version)
    assert observed == plain and observed.error is None
    assert events == []
