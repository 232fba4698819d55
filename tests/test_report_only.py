"""Report-only (`report_only=CORSSettings(...)`): a candidate policy beside the one in force,
reported where the two differ; both implementations. The policy in force alone answers."""

from __future__ import annotations

import logging
from collections import Counter
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import Outcome, preflight_scope, run, run_ws, simple_scope, ws_scope
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from test_differential import EXAMPLES, configs, requests

import fastcors
from fastcors import CORSConfigError, CORSHandle, CORSReport, CORSSettings
from fastcors._report import REPORT_KEYS, TABLE_SIZE, ReportLog
from fastcors._sources import parse_settings_document, settings_document

A = "https://a.example.com"
B = "https://b.example.com"
EVIL = "https://evil.example.net"
IN_FORCE: dict[str, Any] = {"allow_origins": [A, B], "allow_methods": ["GET", "PUT"], "allow_headers": ["x-ok"]}


class Recorder(list):
    def __call__(self, report: CORSReport) -> None:
        self.append(report)


def _rewire(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware


def reports_of(impl: ModuleType, scopes: list[dict[str, Any]], candidate: CORSSettings, **in_force: Any):
    """The reports of answering `scopes` with one middleware, and whether every answer was
    the same as without report_only."""
    reports = Recorder()
    arguments = {**IN_FORCE, **in_force}
    middleware = impl.CORSMiddleware(None, **arguments, report_only=candidate, on_report=reports)
    plain = impl.CORSMiddleware(None, **arguments)
    for scope in scopes:
        if scope["type"] == "websocket":
            observed, expected = (run_ws(lambda app, m=m: _rewire(m, app), scope) for m in (middleware, plain))
            assert (observed.sent, len(observed.app_calls)) == (expected.sent, len(expected.app_calls))
        else:
            assert run(lambda app: _rewire(middleware, app), scope) == run(lambda app: _rewire(plain, app), scope)
    return reports, middleware


def assert_same_answer(impl: ModuleType, middleware: Any, scope: dict[str, Any]) -> None:
    """`middleware` answers `scope` as the policy in force alone (IN_FORCE) does."""
    plain = impl.CORSMiddleware(None, **IN_FORCE)
    assert run(lambda app: _rewire(middleware, app), scope) == run(lambda app: _rewire(plain, app), dict(scope))


def report(kind: str, change: str, reasons: tuple[str, ...], origin: str, method: str | None = None, **rest: Any):
    return CORSReport(kind, reasons, origin, rest.pop("path", "/" if kind != "websocket" else "/ws"), method,
                      rest.pop("headers", None), change=change)  # fmt: skip


# ---------------------------------------------------------------------------- each kind and change


def test_a_preflight_the_candidate_would_refuse(impl: ModuleType) -> None:
    candidate = CORSSettings(allow_origins=[A, B], allow_methods=["GET"], allow_headers=["x-ok"])
    reports, middleware = reports_of(impl, [preflight_scope(A, "PUT"), preflight_scope(A, "GET")], candidate)
    assert reports == [report("preflight", "would_deny", ("method",), A, "PUT")]
    assert middleware.would_deny_origins() == [(A, 1)]


def test_a_preflight_the_candidate_would_approve(impl: ModuleType) -> None:
    candidate = CORSSettings(allow_origins=[A, B], allow_methods=["GET", "PUT", "DELETE"], allow_headers=["x-new"])
    scopes = [preflight_scope(A, "DELETE", "x-new"), preflight_scope(EVIL, "DELETE")]
    reports, middleware = reports_of(impl, scopes, candidate)
    # The reasons are those of the policy refusing it: the one in force.
    assert reports == [report("preflight", "would_allow", ("method", "headers"), A, "DELETE", headers="x-new")]
    assert middleware.would_deny_origins() == []


def test_simple_requests_are_compared_on_the_origin(impl: ModuleType) -> None:
    candidate = CORSSettings(allow_origins=[A, EVIL])
    scopes = [simple_scope(A), simple_scope(B, path="/x"), simple_scope(EVIL), simple_scope(None)]
    reports, _ = reports_of(impl, scopes, candidate)
    assert reports == [
        report("simple", "would_deny", ("origin",), B, path="/x"),
        report("simple", "would_allow", ("origin",), EVIL),
    ]


def test_simple_requests_are_compared_on_credentials_too(impl: ModuleType) -> None:
    # The origin is let through by both; only the policy in force lets credentials through.
    candidate = CORSSettings(allow_origins=[A, B])
    reports, _ = reports_of(impl, [simple_scope(A)], candidate, allow_credentials=True)
    assert reports == [report("simple", "would_deny", ("credentials",), A)]
    # `*` against a list naming the origin, without credentials: the page reads the answer either way.
    scopes = [simple_scope(A), simple_scope(EVIL)]
    reports, _ = reports_of(impl, scopes, CORSSettings(allow_origins=[A]), allow_origins=["*"])
    assert reports == [report("simple", "would_deny", ("origin",), EVIL)]


def test_websocket_handshakes_are_compared_where_a_guard_is_on(impl: ModuleType) -> None:
    candidate = CORSSettings(allow_origins=[A], websocket_origin_guard=True)
    scopes = [ws_scope(A), ws_scope(B), ws_scope(EVIL), ws_scope(None)]
    reports, _ = reports_of(impl, scopes, candidate, websocket_origin_guard=True)
    assert reports == [report("websocket", "would_deny", ("origin",), B)]
    # The guard off in force: every handshake goes through; the candidate's guard would refuse some.
    reports, _ = reports_of(impl, scopes, candidate)
    assert [(r.change, r.origin) for r in reports] == [("would_deny", B), ("would_deny", EVIL)]


def test_the_candidate_has_paths_of_its_own(impl: ModuleType) -> None:
    # Trying a strict /admin policy before enforcing it.
    candidate = CORSSettings(**IN_FORCE, paths={"/admin": CORSSettings(allow_origins=[A])})
    scopes = [simple_scope(B, path="/admin/users"), simple_scope(B, path="/public"), simple_scope(A, path="/admin")]
    reports, _ = reports_of(impl, scopes, candidate)
    assert reports == [report("simple", "would_deny", ("origin",), B, path="/admin/users")]


def test_a_prefix_without_cors_handling_on_either_side_is_not_compared(impl: ModuleType) -> None:
    candidate = CORSSettings(allow_origins=[A], paths={"/raw": None})
    reports, _ = reports_of(impl, [simple_scope(B, path="/raw/x"), simple_scope(B)], candidate)
    assert [r.path for r in reports] == ["/"]


def test_the_same_policy_reports_nothing(impl: ModuleType) -> None:
    scopes = [preflight_scope(A, "PUT", "x-ok"), preflight_scope(EVIL), simple_scope(B), simple_scope(EVIL)]
    reports, _ = reports_of(impl, scopes, CORSSettings(**IN_FORCE))
    assert reports == []


# ---------------------------------------------------------------------------- counts and the table


def test_reports_are_counted_by_kind_change_and_first_reason(impl: ModuleType) -> None:
    before = fastcors.report_counts()
    assert set(before) == set(REPORT_KEYS)
    candidate = CORSSettings(allow_origins=[A], allow_methods=["GET"])
    reports_of(impl, [preflight_scope(B, "PUT", "x-ok"), simple_scope(B), simple_scope(B)], candidate)
    after = fastcors.report_counts()
    added = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    assert added == {("preflight", "would_deny", "origin"): 1, ("simple", "would_deny", "origin"): 2}


def test_the_table_is_most_frequent_first_and_bounded() -> None:
    log = ReportLog(None)
    scope = simple_scope(None)
    for origin, times in ((b"https://b.example", 3), (b"https://a.example", 5), (b"https://c.example", 1)):
        for _ in range(times):
            log.tell("simple", "would_deny", 1, scope, origin, None, None)
    log.tell("simple", "would_allow", 1, scope, b"https://d.example", None, None)  # not a newly refused one
    assert log.would_deny_origins() == [("https://a.example", 5), ("https://b.example", 3), ("https://c.example", 1)]
    for i in range(TABLE_SIZE * 4):  # a flood of distinct origins, once each
        log.tell("simple", "would_deny", 1, scope, f"https://{i}.flood.example".encode(), None, None)
    table = log.would_deny_origins()
    assert len(table) == TABLE_SIZE
    assert table[0] == ("https://a.example", 5)  # the frequent ones stay


def test_the_handle_reads_the_table_of_its_middlewares(impl: ModuleType) -> None:
    handle = CORSHandle()
    middlewares = [impl.CORSMiddleware(None, **IN_FORCE, handle=handle) for _ in range(2)]
    assert handle.would_deny_origins() == []
    handle.reconfigure(CORSSettings(**IN_FORCE), report_only=CORSSettings(allow_origins=[A]))
    for middleware in middlewares:
        run(lambda app, m=middleware: _rewire(m, app), simple_scope(B))
    assert handle.would_deny_origins() == [(B, 2)]  # one table for one reconfigure
    assert middlewares[0].would_deny_origins() == [(B, 2)]
    handle.reconfigure(handle.settings, report_only=None)  # promoted, or given up
    assert handle.would_deny_origins() == []


# ---------------------------------------------------------------------------- the candidate's settings


def test_a_candidate_travels_in_a_settings_document() -> None:
    settings = CORSSettings(allow_origins=[A], report_only=CORSSettings(allow_origins=[A], max_age=5))
    assert CORSSettings(**parse_settings_document(settings_document(settings))) == settings
    assert parse_settings_document('{"report_only": null}') == {"report_only": None}


def test_the_candidates_problems_are_reported_with_its_name() -> None:
    problems = fastcors.check_config(report_only=CORSSettings(allow_origins=["https://a.example.com/"]))
    assert [(p.code, p.argument) for p in problems] == [("origin-trailing-slash", "report_only.allow_origins")]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"report_only": {"allow_origins": [A]}}, "report_only must be a fastcors.CORSSettings"),
        ({"report_only": CORSSettings(report_only=CORSSettings())}, "report_only has report_only of its own"),
        ({"report_only": CORSSettings(starlette_version="1.6")}, "report_only: starlette_version='1.6' contradicts"),
        ({"paths": {"/x": CORSSettings(report_only=CORSSettings())}}, r"paths\['/x'\] has report_only of its own"),
        ({"report_only": CORSSettings(), "on_report": 3}, "on_report must be a callable"),
    ],
)
def test_candidates_that_cannot_be(impl: ModuleType, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(CORSConfigError, match=message):
        impl.CORSMiddleware(None, **arguments)


def test_an_async_on_report_is_refused(impl: ModuleType) -> None:
    async def listener(report: CORSReport) -> None:
        pass

    with pytest.raises(CORSConfigError, match=r"on_report .* is an async function"):
        impl.CORSMiddleware(None, report_only=CORSSettings(), on_report=listener)


def test_a_raising_on_report_changes_nothing_and_is_said_once(impl: ModuleType, caplog: Any) -> None:
    def broken(report: CORSReport) -> None:
        raise RuntimeError("report bug")

    middleware = impl.CORSMiddleware(None, **IN_FORCE, report_only=CORSSettings(), on_report=broken)
    for _ in range(3):
        assert_same_answer(impl, middleware, simple_scope(A))
    errors = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "on_report raised" in errors[0].getMessage()
    assert middleware.would_deny_origins() == [(A, 3)]  # counted and tabled all the same


def test_an_odd_header_value_is_said_once_and_answers_as_before(impl: ModuleType, caplog: Any) -> None:
    # A str value: Starlette fails on it (AttributeError), and so does fastcors' answer; the
    # comparison, run first, must not be what fails.
    scope = simple_scope(None)
    scope["headers"] = [(b"origin", "https://a.example.com")]
    middleware = impl.CORSMiddleware(None, **IN_FORCE, report_only=CORSSettings())
    for _ in range(2):
        assert_same_answer(impl, middleware, dict(scope))
    warnings = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "report_only" in warnings[0].getMessage()


# ---------------------------------------------------------------------------- against the real answers


def _allowed(outcome: Any, scope: dict[str, Any]) -> bool:
    """Whether the answer lets the page in: a preflight approved, or any other answer naming an origin or `*`."""
    start = next(m for m in outcome.sent if m["type"] == "http.response.start")
    if _is_preflight(scope):
        return start["status"] == 200
    return any(name == b"access-control-allow-origin" for name, _ in start.get("headers", []))


def _is_preflight(scope: dict[str, Any]) -> bool:
    names = [name for name, _ in scope["headers"]]
    return scope["method"] == "OPTIONS" and b"origin" in names and b"access-control-request-method" in names


def _has_origin(scope: dict[str, Any]) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, scope=requests, refusing_in_force=st.booleans())
def test_reports_agree_with_the_answers(
    impl: ModuleType, config: dict[str, Any], scope: dict[str, Any], refusing_in_force: bool
) -> None:
    """Against a candidate refusing everything, a request is reported (would_deny) exactly where
    the answer in force lets the page in; with that candidate in force instead, exactly where
    the answer of the candidate (run as the policy in force) would (would_allow)."""
    try:
        plain = impl.CORSMiddleware(None, **config)
    except Exception:
        assume(False)
    scope["headers"] = list(scope["headers"])
    answer = run(lambda app: _rewire(plain, app), dict(scope, headers=list(scope["headers"])))
    assume(isinstance(answer, Outcome) and answer.error is None)
    reports = Recorder()
    if refusing_in_force:
        middleware = impl.CORSMiddleware(None, report_only=CORSSettings(**config), on_report=reports)
    else:
        middleware = impl.CORSMiddleware(None, **config, report_only=CORSSettings(), on_report=reports)
    run(lambda app: _rewire(middleware, app), dict(scope, headers=list(scope["headers"])))
    expected = _has_origin(scope) and _allowed(answer, scope)
    change = "would_allow" if refusing_in_force else "would_deny"
    event(f"reported: {expected}")
    assert Counter(r.change for r in reports) == (Counter({change: 1}) if expected else Counter())
    if reports:
        assert reports[0].kind == ("preflight" if _is_preflight(scope) else "simple")


def test_the_table_and_the_counts_are_exact_across_threads() -> None:
    # Without the GIL (free-threaded builds) too: every report counted and tabled.
    import threading

    log = ReportLog(None)
    scope = simple_scope(None)
    before = fastcors.report_counts()[("simple", "would_deny", "origin")]
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for i in range(500):
            log.tell("simple", "would_deny", 1, scope, f"https://{i % 10}.example".encode(), None, None)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(log.would_deny_origins()) == sorted((f"https://{i}.example", 400) for i in range(10))
    assert fastcors.report_counts()[("simple", "would_deny", "origin")] - before == 4000
