"""allow_origin_func: a plain callable(origin: str) -> bool, asked only when the static rules
(allow_origins, allow_origin_regex, allow_origin_patterns) have not allowed the origin.

On both implementations: True allows exactly as a listed origin would, False refuses; it is
never asked when the static rules decide or when allow_origins=['*']; an exception or an
answer that is not a bool refuses and is logged at ERROR (never a 500); an async function
or a non-callable is refused at construction.
"""

from __future__ import annotations

import functools
import gc
import logging
import warnings
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import acao, http_scope, preflight_scope, run, simple_scope, through

from fastcors import CORSConfigError

ORIGIN = "https://tenant.example.net"
# With a cookie, Starlette echoes the origin even where allow_origins=["*"] would send "*".
COOKIE = (b"cookie", b"a=1")


class Recorder:
    """An allow_origin_func that records what it was asked and answers from a fixed set."""

    def __init__(self, allowed: tuple[str, ...] = (ORIGIN,), answer: Any = None) -> None:
        self.allowed = allowed
        self.answer = answer
        self.calls: list[Any] = []

    def __call__(self, origin: Any) -> Any:
        self.calls.append(origin)
        if self.answer is not None:
            return self.answer
        return origin in self.allowed


EXTRAS: list[dict[str, Any]] = [
    {},
    {"allow_credentials": True, "expose_headers": ["X-Total"]},
    {"allow_methods": ["GET", "PUT"], "allow_headers": ["X-A"], "max_age": 5, "allow_private_network": True},
]
APP_RESPONSE = [
    [
        {"type": "http.response.start", "status": 200, "headers": [(b"vary", b"Accept"), (b"x-app", b"1")]},
        {"type": "http.response.body", "body": b"hello"},
    ]
]


# ---------------------------------------------------------------------------- True allows, False refuses


@pytest.mark.parametrize("extras", EXTRAS)
def test_true_allows_exactly_as_a_listed_origin(impl: ModuleType, extras: dict[str, Any]) -> None:
    func = Recorder()
    by_func = {"allow_origins": ["https://listed.example"], "allow_origin_func": func, **extras}
    by_list = {"allow_origins": ["https://listed.example", ORIGIN], **extras}
    raw = ORIGIN.encode()
    for scope in (simple_scope(raw, COOKIE), preflight_scope(raw), preflight_scope(raw, b"PUT")):
        assert through(impl, by_func, scope, APP_RESPONSE) == through(impl, by_list, scope, APP_RESPONSE)
    assert func.calls == [ORIGIN, ORIGIN, ORIGIN]
    assert acao(through(impl, by_func, simple_scope(raw, COOKIE), APP_RESPONSE)) == [raw]
    assert through(impl, by_func, preflight_scope(raw), APP_RESPONSE).sent[0]["status"] == 200


@pytest.mark.parametrize("extras", EXTRAS)
def test_false_refuses_exactly_as_an_unlisted_origin(impl: ModuleType, extras: dict[str, Any]) -> None:
    func = Recorder(allowed=())
    by_func = {"allow_origins": ["https://listed.example"], "allow_origin_func": func, **extras}
    without = {"allow_origins": ["https://listed.example"], **extras}
    raw = ORIGIN.encode()
    for scope in (simple_scope(raw, COOKIE), preflight_scope(raw)):
        assert through(impl, by_func, scope, APP_RESPONSE) == through(impl, without, scope, APP_RESPONSE)
    assert func.calls == [ORIGIN, ORIGIN]
    assert acao(through(impl, by_func, simple_scope(raw, COOKIE), APP_RESPONSE)) == []
    refused = through(impl, by_func, preflight_scope(raw), APP_RESPONSE)
    assert refused.sent[0]["status"] == 400
    assert refused.sent[1]["body"] == b"Disallowed CORS origin"


def test_func_alone_decides_per_origin(impl: ModuleType) -> None:
    func = Recorder(allowed=("https://a.example", "https://b.example"))
    config = {"allow_origin_func": func}
    for origin, allowed in [(b"https://a.example", True), (b"https://c.example", False), (b"https://b.example", True)]:
        assert acao(through(impl, config, simple_scope(origin, COOKIE))) == ([origin] if allowed else [])
        assert through(impl, config, preflight_scope(origin)).sent[0]["status"] == (200 if allowed else 400)
    assert func.calls == [o for o in ["https://a.example", "https://c.example", "https://b.example"] for _ in "12"]


def test_func_is_asked_on_every_request_not_cached(impl: ModuleType) -> None:
    """An allow list that changes (a database, a tenant table) is seen by the very next request."""
    answers = [True, False, True]
    calls: list[str] = []

    def func(origin: str) -> bool:
        calls.append(origin)
        return answers[len(calls) - 1]

    middleware = impl.CORSMiddleware(None, allow_origin_func=func)
    verdicts = []
    for _ in answers:
        outcome = run(lambda app: _with_app(middleware, app), simple_scope(ORIGIN.encode(), COOKIE))
        verdicts.append(acao(outcome) == [ORIGIN.encode()])
    assert verdicts == answers
    assert calls == [ORIGIN] * 3


# ---------------------------------------------------------------------------- when it is asked


@pytest.mark.parametrize(
    ("static", "origin"),
    [
        ({"allow_origins": [ORIGIN]}, ORIGIN),
        ({"allow_origin_regex": r"https://[a-z]+\.example\.net"}, ORIGIN),
        ({"allow_origin_patterns": ["https://*.example.net"]}, ORIGIN),
        ({"allow_origins": ("https://x.example", ORIGIN)}, ORIGIN),
    ],
)
@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_not_asked_when_a_static_rule_allows(impl: ModuleType, static: dict[str, Any], origin: str, kind: str) -> None:
    func = Recorder(answer=False)  # would refuse, if it were asked
    scope = simple_scope(origin.encode(), COOKIE) if kind == "simple" else preflight_scope(origin.encode())
    outcome = through(impl, {**static, "allow_origin_func": func}, scope)
    assert func.calls == []
    assert acao(outcome) == [origin.encode()]


@pytest.mark.parametrize("credentials", [False, True])
@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_never_asked_with_wildcard_origins(impl: ModuleType, credentials: bool, kind: str) -> None:
    func = Recorder(answer=False)
    origin = b"https://anyone.example"
    scope = simple_scope(origin, COOKIE) if kind == "simple" else preflight_scope(origin)
    outcome = through(
        impl, {"allow_origins": ["*"], "allow_credentials": credentials, "allow_origin_func": func}, scope
    )
    assert func.calls == []
    assert acao(outcome) == ([origin] if credentials else [b"*"])


def test_asked_after_static_rules_refuse(impl: ModuleType) -> None:
    func = Recorder(allowed=())
    config = {
        "allow_origins": ["https://listed.example"],
        "allow_origin_regex": r"https://regex\.example",
        "allow_origin_patterns": ["https://*.pattern.example"],
        "allow_origin_func": func,
    }
    for origin in (b"https://listed.example", b"https://regex.example", b"https://a.pattern.example"):
        through(impl, config, simple_scope(origin, COOKIE))
        through(impl, config, preflight_scope(origin))
    assert func.calls == []
    through(impl, config, simple_scope(b"https://pattern.example", COOKIE))
    through(impl, config, preflight_scope(b"https://evil.example"))
    assert func.calls == ["https://pattern.example", "https://evil.example"]


def test_not_asked_without_an_origin(impl: ModuleType) -> None:
    func = Recorder(answer=True)
    outcome = through(impl, {"allow_origin_func": func}, simple_scope(None, COOKIE))
    assert func.calls == []
    assert outcome.sent[0]["headers"] == [(b"vary", b"Origin")]
    # OPTIONS without Origin is no preflight: it reaches the app, nothing asked either.
    outcome = through(
        impl, {"allow_origin_func": func}, http_scope("OPTIONS", [(b"access-control-request-method", b"GET")])
    )
    assert func.calls == []
    assert outcome.app_scope is not None


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"https://tenant.example.net", "https://tenant.example.net"),
        (b"https://\xe9t\xe9.example", "https://\xe9t\xe9.example"),  # latin-1, as Starlette decodes headers
        (b"https://\xc3\xa9.example", "https://\xc3\xa9.example"),  # UTF-8 bytes are not decoded as UTF-8
        (b"null", "null"),
        (b"", ""),
        (b"https://a.example\x00\r\n", "https://a.example\x00\r\n"),
    ],
)
def test_receives_the_origin_as_str(impl: ModuleType, raw: bytes, text: str) -> None:
    func = Recorder(allowed=(text,))
    outcome = through(impl, {"allow_origin_func": func}, simple_scope(raw, COOKIE))
    assert func.calls == [text]
    assert all(type(call) is str for call in func.calls)
    assert acao(outcome) == [raw]  # reflected byte for byte


def test_asked_once_per_simple_request_even_with_a_streamed_body(impl: ModuleType) -> None:
    func = Recorder()
    response = [
        [
            {"type": "http.response.start", "status": 200, "headers": []},
            {"type": "http.response.body", "body": b"a", "more_body": True},
            {"type": "http.response.body", "body": b"b", "more_body": False},
        ]
    ]
    outcome = through(impl, {"allow_origin_func": func}, simple_scope(ORIGIN.encode(), COOKIE), response)
    assert func.calls == [ORIGIN]
    assert [m["type"] for m in outcome.sent] == ["http.response.start", "http.response.body", "http.response.body"]


# ---------------------------------------------------------------------------- failures refuse, and are logged


class Boom(RuntimeError):
    pass


def raising(origin: str) -> bool:
    raise Boom(f"database down while checking {origin}")


@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_an_exception_refuses_and_is_logged(impl: ModuleType, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    raw = ORIGIN.encode()
    scope = simple_scope(raw, COOKIE) if kind == "simple" else preflight_scope(raw)
    config = {"allow_origins": ["https://listed.example"], "allow_credentials": True, "allow_origin_func": raising}
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        outcome = through(impl, config, scope, APP_RESPONSE)
    expected = through(
        impl, {"allow_origins": ["https://listed.example"], "allow_credentials": True}, scope, APP_RESPONSE
    )
    assert outcome == expected  # the same answer as for any refused origin: no 500, nothing raised
    if kind == "simple":
        assert outcome.sent[0]["status"] == 200
        assert outcome.sent[1]["body"] == b"hello"
    else:
        assert outcome.sent[0]["status"] == 400
    errors = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert repr(ORIGIN) in errors[0].getMessage()
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is Boom


def test_an_exception_is_not_remembered(impl: ModuleType) -> None:
    calls: list[str] = []

    def flaky(origin: str) -> bool:
        calls.append(origin)
        if len(calls) == 1:
            raise Boom("first call fails")
        return True

    middleware = impl.CORSMiddleware(None, allow_origin_func=flaky)
    results = [
        acao(run(lambda app: _with_app(middleware, app), simple_scope(ORIGIN.encode(), COOKIE))) for _ in range(2)
    ]
    assert results == [[], [ORIGIN.encode()]]


def _with_app(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware


@pytest.mark.parametrize("answer", [None, 1, 0, "yes", "", [], [True], 1.0, object()], ids=repr)
@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_an_answer_that_is_not_a_bool_refuses_and_is_logged(
    impl: ModuleType, answer: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw = ORIGIN.encode()
    scope = simple_scope(raw, COOKIE) if kind == "simple" else preflight_scope(raw)
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        outcome = through(impl, {"allow_origin_func": lambda origin: answer}, scope)
    assert acao(outcome) == []
    if kind == "preflight":
        assert outcome.sent[0]["status"] == 400
        assert outcome.sent[1]["body"] == b"Disallowed CORS origin"
    errors = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert type(answer).__name__ in errors[0].getMessage()
    assert repr(ORIGIN) in errors[0].getMessage()


def test_a_plain_function_returning_a_coroutine_refuses_and_closes_it(
    impl: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    """Written as `lambda origin: lookup(origin)` around an async lookup: the coroutine is truthy."""
    made: list[Any] = []

    async def lookup(origin: str) -> bool:
        return True

    def func(origin: str) -> Any:
        made.append(lookup(origin))
        return made[-1]

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, logger="fastcors"):
        warnings.simplefilter("always")
        outcome = through(impl, {"allow_origin_func": func}, simple_scope(ORIGIN.encode(), COOKIE))
        del made[:]
        gc.collect()
    assert acao(outcome) == []
    assert [r.levelno for r in caplog.records if r.name == "fastcors"] == [logging.ERROR]
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_the_error_log_cannot_be_forged_by_the_origin(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    forged = b"https://evil.example\r\nERROR fastcors: forged line" + b"x" * 5000
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        through(impl, {"allow_origin_func": lambda origin: None}, simple_scope(forged, COOKIE))
    (record,) = [r for r in caplog.records if r.name == "fastcors"]
    message = record.getMessage()
    assert "\r" not in message and "\n" not in message
    assert len(message) < 1000


# ---------------------------------------------------------------------------- refused at construction


async def async_func(origin: str) -> bool:
    return True


class AsyncCallable:
    async def __call__(self, origin: str) -> bool:
        return True


class SyncCallable:
    def __call__(self, origin: str) -> bool:
        return origin == ORIGIN


@pytest.mark.parametrize(
    "func",
    [async_func, AsyncCallable(), functools.partial(async_func)],
    ids=["async def", "async __call__", "partial of async def"],
)
def test_async_functions_are_refused(impl: ModuleType, func: Any) -> None:
    with pytest.raises(CORSConfigError, match="async function"):
        impl.CORSMiddleware(None, allow_origin_func=func)


@pytest.mark.parametrize("func", [True, 1, "https://a.example", ["https://a.example"], b"x"], ids=repr)
def test_non_callables_are_refused(impl: ModuleType, func: Any) -> None:
    with pytest.raises(CORSConfigError, match="must be a callable"):
        impl.CORSMiddleware(None, allow_origin_func=func)


@pytest.mark.parametrize(
    "func", [SyncCallable(), functools.partial(lambda suffix, origin: origin.endswith(suffix), ".net")]
)
def test_sync_callables_are_accepted(impl: ModuleType, func: Any) -> None:
    outcome = through(impl, {"allow_origin_func": func}, simple_scope(ORIGIN.encode(), COOKIE))
    assert acao(outcome) == [ORIGIN.encode()]
    outcome = through(impl, {"allow_origin_func": func}, simple_scope(b"https://evil.example", COOKIE))
    assert acao(outcome) == []


# ---------------------------------------------------------------------------- debug


def test_debug_explanation_names_the_func(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    config = {"allow_origins": ["https://listed.example"], "allow_origin_func": Recorder(allowed=()), "debug": True}
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        through(impl, config, preflight_scope(b"https://evil.example"))
        through(impl, config, simple_scope(ORIGIN.encode().replace(b"tenant", b"other"), COOKIE))
    messages = [r.getMessage() for r in caplog.records if r.name == "fastcors"]
    assert len(messages) == 2
    assert messages[0].startswith("CORS: preflight refused (400 Disallowed CORS origin)")
    assert messages[1].startswith("CORS: response sent without Access-Control-Allow-Origin")
    for message in messages:
        assert "'https://listed.example'" in message
        assert "allow_origin_func" in message


def test_debug_says_nothing_when_the_func_allows(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    config = {"allow_origin_func": Recorder(), "debug": True}
    with caplog.at_level(logging.DEBUG, logger="fastcors"):
        through(impl, config, preflight_scope(ORIGIN.encode()))
        through(impl, config, simple_scope(ORIGIN.encode(), COOKIE))
    assert [r for r in caplog.records if r.name == "fastcors"] == []
