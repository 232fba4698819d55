"""Configuration checks (fastcors._checks) and denial explanations (fastcors._debug).

Both are pure Python and touch no response byte, so they are tested directly, once.
"""

from __future__ import annotations

import ast
import logging
import re
import time
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import http_scope, run

from fastcors._checks import Problem, report
from fastcors._config import CORSConfigError, build_config
from fastcors._debug import denial_explainer
from fastcors._settings import BEHAVIOUR, CORSSettings, check_config


def codes(**kwargs: object) -> list[str]:
    return [problem.code for problem in check_config(**kwargs)]


def only(code: str, **kwargs: object) -> Problem:
    """The single problem found, which must have `code`."""
    problems = check_config(**kwargs)
    assert [p.code for p in problems] == [code], problems
    return problems[0]


# ---------------------------------------------------------------------------- clean configurations

CLEAN = [
    {},
    {"allow_origins": ["https://app.example.com", "http://localhost:3000"], "allow_credentials": True},
    {"allow_origins": ["*"]},
    {"allow_origins": ("https://a.example.com",), "allow_methods": ["*"], "allow_headers": ["*"]},
    {"allow_methods": ["GET", "POST", "PATCH"], "allow_headers": ["X-Request-Id", "Authorization"]},
    {"expose_headers": ["X-Total-Count"], "max_age": 7200},
    {"max_age": 0},
    {"allow_origins": ["http://[::1]:8080", "chrome-extension://abcdefghijklmnop"]},
    {"allow_origin_regex": r"https://([a-z0-9-]+\.)*example\.com"},
    {"allow_origin_regex": r"https://([a-z0-9_-]+\.)+example\.org"},  # a nested quantifier, linear
    {"allow_origin_regex": r"https://[a-z0-9-]+\.example\.com"},
    {"allow_origin_regex": r"http://localhost:[0-9]+"},
    {"allow_origin_regex": r"https://(www|app)\.example\.co\.uk"},
    {"allow_origin_regex": r"https://(docs|blog)\.myproject\.github\.io"},
    {"allow_origin_regex": r"https://myproject\.github\.io"},
    {"allow_private_network": True, "allow_origins": frozenset({"https://a.example.com"})},
]


@pytest.mark.parametrize("kwargs", CLEAN)
def test_clean_config_has_no_problems(kwargs: dict[str, object]) -> None:
    assert check_config(**kwargs) == []


def test_defaults_match_starlette_signature() -> None:
    import inspect

    from starlette.middleware.cors import CORSMiddleware

    theirs = {k: p.default for k, p in inspect.signature(CORSMiddleware).parameters.items() if k != "app"}
    parameters = inspect.signature(check_config).parameters.items()
    ours = {k: p.default for k, p in parameters if p.kind is not p.KEYWORD_ONLY}
    assert ours == theirs
    # fastcors' own arguments come keyword-only, with the defaults CORSSettings gives them.
    own = {k: p.default for k, p in parameters if p.kind is p.KEYWORD_ONLY}
    assert own == {k: v for k, v in vars(CORSSettings()).items() if k not in theirs and k not in BEHAVIOUR}


# ---------------------------------------------------------------------------- origins


def test_trailing_slash() -> None:
    problem = only("origin-trailing-slash", allow_origins=["https://app.example.com/"])
    assert problem.argument == "allow_origins"
    assert problem.value == "https://app.example.com/"
    assert "'https://app.example.com'" in problem.message


def test_path_in_origin() -> None:
    problem = only("origin-path", allow_origins=["https://app.example.com/api/v1"])
    assert "'https://app.example.com'" in problem.message


def test_query_in_origin_counts_as_path() -> None:
    assert codes(allow_origins=["https://app.example.com?x=1"]) == ["origin-path"]


def test_missing_scheme() -> None:
    problem = only("origin-no-scheme", allow_origins=["app.example.com"])
    assert "'https://app.example.com'" in problem.message


def test_unknown_scheme() -> None:
    problem = only("origin-unknown-scheme", allow_origins=["htps://app.example.com"])
    assert "'htps'" in problem.message


def test_explicit_default_port_https() -> None:
    problem = only("origin-default-port", allow_origins=["https://app.example.com:443"])
    assert "'https://app.example.com'" in problem.message


def test_explicit_default_port_http() -> None:
    assert codes(allow_origins=["http://app.example.com:80"]) == ["origin-default-port"]
    # :443 on http and :80 on https are not default ports: they appear in real origins.
    assert codes(allow_origins=["http://app.example.com:443", "https://app.example.com:80"]) == []


def test_upper_case_host() -> None:
    problem = only("origin-uppercase", allow_origins=["https://App.Example.com"])
    assert "'https://app.example.com'" in problem.message


def test_whitespace() -> None:
    problem = only("origin-whitespace", allow_origins=[" https://app.example.com\n"])
    assert "'https://app.example.com'" in problem.message


def test_null_allowed() -> None:
    problem = only("origin-null", allow_origins=["https://app.example.com", "null"])
    assert problem.value == "null"
    assert "remove" in problem.message


def test_wildcard_inside_origin_suggests_pattern() -> None:
    problem = only("origin-wildcard-pattern", allow_origins=["https://*.example.com"])
    assert "allow_origin_patterns=['https://*.example.com']" in problem.message


def test_wildcard_inside_origin_suggests_regex_when_no_pattern_fits() -> None:
    problem = only("origin-wildcard-pattern", allow_origins=["https://app-*.example.com"])
    suggested = re.search(r"e\.g\. '([^']+)'", problem.message)
    assert suggested is not None
    regex = re.compile(suggested.group(1).replace("\\\\", "\\"))
    assert regex.fullmatch("https://app-1.example.com")
    assert not regex.fullmatch("https://evil.com")


def test_wildcard_mixed_with_origins() -> None:
    problem = only("wildcard-mixed", allow_origins=["*", "https://app.example.com"])
    assert "'https://app.example.com'" in problem.message


def test_wildcard_with_credentials() -> None:
    problem = only("wildcard-credentials", allow_origins=["*"], allow_credentials=True)
    assert "allow_credentials" in problem.message
    assert "ANY" in problem.message


# ---------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("allow_origins", "https://app.example.com"),
        ("allow_methods", "GET"),
        ("allow_headers", "X-Request-Id"),
        ("expose_headers", "X-Total-Count"),
    ],
)
def test_str_instead_of_list(argument: str, value: str) -> None:
    problem = only("str-not-list", **{argument: value})
    assert problem.argument == argument
    assert f"{argument}=[{value!r}]" in problem.message
    assert "substring" in problem.message


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("allow_origins", [b"https://app.example.com"]),
        ("allow_methods", ["GET", 1]),
        ("allow_headers", [None]),
        ("expose_headers", [b"X-Total-Count"]),
    ],
)
def test_non_str_items(argument: str, value: list[object]) -> None:
    problem = only("non-str-item", **{argument: value})
    assert problem.argument == argument
    assert problem.value is value[-1]
    assert type(value[-1]).__name__ in problem.message


def test_one_shot_iterator() -> None:
    problem = only("not-a-collection", allow_origins=iter(["https://app.example.com"]))
    assert "list" in problem.message


# ---------------------------------------------------------------------------- regex


@pytest.mark.parametrize(
    ("pattern", "lookalike"),
    [
        (r"https://.*example.com", "https://evilexample.com"),  # unanchored prefix
        (r"https://.*example\.com", "https://evilexample.com"),
        (r"https://app.example.com", "https://appxexample.com"),  # unescaped dot
        (r"https://app\.example\.com.*", "https://app.example.com.evil.com"),  # open end
        (r"http://localhost.*", "http://localhost.evil.com"),
        (r"https://[a-z-]+\.github\.io", "https://evil-tenant.github.io"),  # shared hosting
    ],
)
def test_regex_matching_lookalikes(pattern: str, lookalike: str) -> None:
    problem = only("regex-lookalike", allow_origin_regex=pattern)
    assert repr(pattern) in problem.message
    # The named look-alikes really are matched, and the suggested fix rejects them.
    listed = re.search(r", e\.g\. (\[.*?\]);", problem.message)
    assert listed is not None
    named = ast.literal_eval(listed.group(1))
    assert named and all(re.fullmatch(pattern, origin) for origin in named)
    suggested = re.search(r"e\.g\. r'([^']+)'", problem.message)
    assert suggested is not None
    assert all(not re.fullmatch(suggested.group(1), origin) for origin in named)
    assert re.fullmatch(pattern, lookalike)


def test_regex_evilapp_is_a_subdomain_not_a_lookalike() -> None:
    # evilapp.example.com belongs to example.com's owner: this pattern is fine.
    assert codes(allow_origin_regex=r"https://[a-z]*\.example\.com") == []


@pytest.mark.parametrize("pattern", [r"https://.*", r".*", r"https?://[^/]+"])
def test_regex_over_broad(pattern: str) -> None:
    problem = only("regex-overbroad", allow_origin_regex=pattern)
    assert "evil.com" in problem.message or "null" in problem.message


def test_regex_invalid_is_reported_not_raised() -> None:
    assert codes(allow_origin_regex="https://(") == ["regex-invalid"]


def test_regex_bytes_pattern() -> None:
    assert codes(allow_origin_regex=rb"https://app\.example\.com") == ["regex-type"]


# A nested quantifier: a label of letters and digits, repeated, matches 'abc' as one
# repetition or as several, and a refused origin makes the engine try every split.
NESTED = r"https://([a-z0-9]+)*\.example\.com"
# (Kept out of `allow_origin_regex=` literals: tests/test_regex_analysis.py collects those as
# regexes that must pass.)
NO_SIMPLE_REWRITE = r"https://(app|[a-z]+[a-z0-9]+)+\.example\.com"
SQUARE = r"https://.*\..*\.example\.com"
NESTED_AND_LOOKALIKE = r"https://([a-z]+)*.example\.com"


def test_regex_backtracking_names_an_origin_pattern_and_a_rewrite() -> None:
    problem = only("regex-backtracking", allow_origin_regex=NESTED)
    assert problem.argument == "allow_origin_regex" and problem.value == NESTED
    assert repr(NESTED) in problem.message and "exponentially" in problem.message
    # The origin pattern offered is one fastcors accepts without a problem...
    offered = re.search(r"allow_origin_patterns=\[('[^']+')\]", problem.message)
    assert offered is not None
    assert check_config(allow_origin_patterns=[ast.literal_eval(offered.group(1))]) == []
    # ... and the rewrite offered passes every check and allows the same origins.
    rewrite = re.search(r"write it as r'([^']+)'", problem.message)
    assert rewrite is not None
    assert codes(allow_origin_regex=rewrite.group(1)) == []
    for origin in ["https://app.example.com", "https://.example.com", "https://a-b.example.com", "https://example.com"]:
        assert bool(re.fullmatch(rewrite.group(1), origin)) == bool(re.fullmatch(NESTED, origin)), origin


def test_regex_backtracking_without_a_simple_rewrite_says_how_to_write_one() -> None:
    problem = only("regex-backtracking", allow_origin_regex=NO_SIMPLE_REWRITE)
    assert "end each repeated part with a character" in problem.message
    assert "allow_origin_patterns=['https://*.example.com']" in problem.message


def test_regex_backtracking_polynomial() -> None:
    problem = only("regex-backtracking", allow_origin_regex=SQUARE)
    assert "faster than linearly" in problem.message and "square" in problem.message


# Regexes on which the look-alike origins alone (about 25 characters each) would take seconds.
SLOW_TO_TRY = [
    r"https://([a-z0-9-]*[a-z0-9-]*)+\.example\.com",
    r"https://(\w*\w*)+\.example\.com",
    r"https://(.*)*\.example\.com",
    r"https://([a-z0-9.]+)*example\.com",
]


@pytest.mark.parametrize("pattern", SLOW_TO_TRY)
def test_checking_a_backtracking_regex_does_not_backtrack(pattern: str) -> None:
    start = time.perf_counter()
    found = codes(allow_origin_regex=pattern)
    elapsed = time.perf_counter() - start
    assert "regex-backtracking" in found
    # Origins are tried on the regex rewritten (same origins), or not at all.
    assert elapsed < 0.5, f"checking {pattern!r} took {elapsed:.2f} s"


def test_regex_backtracking_only_for_strings_that_compile() -> None:
    assert codes(allow_origin_regex="https://((a+)+") == ["regex-invalid"]
    assert codes(allow_origin_regex=rb"https://(a+)+") == ["regex-type"]


def test_regex_backtracking_is_reported_with_the_other_regex_problems() -> None:
    # An unescaped dot (a look-alike) and a nested quantifier: both said.
    assert codes(allow_origin_regex=NESTED_AND_LOOKALIKE) == ["regex-lookalike", "regex-backtracking"]


# ---------------------------------------------------------------------------- methods, headers, max_age


def test_lower_case_standard_method() -> None:
    problem = only("method-lowercase", allow_methods=["get"])
    assert "'GET'" in problem.message


def test_lower_case_custom_method() -> None:
    problem = only("method-lowercase", allow_methods=["patch"])
    assert "'PATCH'" in problem.message


def test_method_not_a_token() -> None:
    problem = only("method-invalid-token", allow_methods=["GET, POST"])
    assert "['GET', 'POST']" in problem.message


@pytest.mark.parametrize("argument", ["allow_headers", "expose_headers"])
def test_header_not_a_token(argument: str) -> None:
    problem = only("header-invalid-token", **{argument: ["X-Request-Id "]})
    assert problem.argument == argument
    assert "'X-Request-Id'" in problem.message


def test_empty_header_name() -> None:
    assert codes(allow_headers=[""]) == ["header-invalid-token"]


def test_expose_wildcard_with_credentials() -> None:
    assert codes(expose_headers=["*"], allow_credentials=True, allow_origins=["https://a.example.com"]) == [
        "expose-wildcard-credentials"
    ]


def test_negative_max_age() -> None:
    problem = only("max-age-negative", max_age=-1)
    assert problem.value == -1


@pytest.mark.parametrize(("max_age", "firefox"), [(7201, False), (86400, False), (86401, True)])
def test_max_age_above_browser_caps(max_age: int, firefox: bool) -> None:
    problem = only("max-age-too-large", max_age=max_age)
    assert "7200" in problem.message
    assert ("Firefox" in problem.message) is firefox


def test_max_age_not_a_number() -> None:
    assert codes(max_age=1.5) == ["max-age-type"]
    assert codes(max_age="600") == []  # sent as "600": fine


# ---------------------------------------------------------------------------- report


BAD = {
    "allow_origins": ["*", "https://app.example.com/"],
    "allow_credentials": True,
    "allow_methods": ["get"],
    "max_age": -5,
}


def test_report_logs_each_problem_once(caplog: pytest.LogCaptureFixture) -> None:
    problems = check_config(**BAD)
    assert len(problems) == 5
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        report(problems + problems, strict=False)
    records = [r for r in caplog.records if r.name == "fastcors"]
    assert len(records) == len(problems)
    assert all(r.levelno == logging.WARNING for r in records)
    for problem in problems:
        assert sum(problem.message in r.getMessage() for r in records) == 1


def test_report_strict_raises_listing_every_problem(caplog: pytest.LogCaptureFixture) -> None:
    problems = check_config(**BAD)
    with pytest.raises(CORSConfigError) as info:
        report(problems, strict=True)
    assert isinstance(info.value, ValueError)
    text = str(info.value)
    assert text.startswith(f"{len(problems)} CORS configuration problem")
    for problem in problems:
        assert problem.message in text


def test_report_strict_with_clean_config_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="fastcors"):
        report(check_config(allow_origins=["https://app.example.com"]), strict=True)
    assert caplog.records == []


def test_report_handles_unhashable_values() -> None:
    problems = check_config(allow_origins=["*", "https://a.example.com"])
    with pytest.raises(CORSConfigError):
        report(problems, strict=True)


class Hostile:
    """A value whose comparisons, truth value and text all raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparing")

    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")

    def __str__(self) -> str:
        raise RuntimeError("no text")

    __hash__ = object.__hash__


def test_checks_never_raise_on_odd_values() -> None:
    odd: list[object] = [None, 3, object(), b"x", {"a": 1}, [["nested"]], [{"unhashable": 1}], "", "*"]
    odd.append([Hostile(), "*"])
    for value in odd:
        for argument in ("allow_origins", "allow_methods", "allow_headers", "expose_headers", "allow_origin_patterns"):
            assert isinstance(check_config(**{argument: value}), list)
        assert isinstance(check_config(allow_origin_regex=value, max_age=value, allow_credentials=value), list)
    generator = (origin for origin in ["https://app.example.com"])
    assert codes(allow_origins=generator) == ["not-a-collection"]
    assert list(generator) == ["https://app.example.com"]  # left unread for the constructor
    check_config(allow_origin_regex="(" * 300 + ")" * 300)  # deep nesting


def test_checks_continue_past_odd_values() -> None:
    found = codes(allow_origins=[Hostile(), "https://app.example.com/"], allow_credentials=None, max_age=None)
    assert found == ["non-str-item", "origin-trailing-slash", "max-age-type"]


def test_a_value_whose_truth_value_raises_raises_the_same_in_check_config(impl: ModuleType) -> None:
    # The checks ask a value only what the constructor asks of it: nothing is swallowed.
    with pytest.raises(RuntimeError, match="no truth value"):
        impl.CORSMiddleware(None, allow_credentials=Hostile())
    with pytest.raises(RuntimeError, match="no truth value"):
        check_config(allow_credentials=Hostile())


def test_str_enum_origins_are_checked() -> None:
    import enum

    class Origin(str, enum.Enum):
        APP = "https://app.example.com/"

    assert codes(allow_origins=[Origin.APP]) == ["origin-trailing-slash"]


# ---------------------------------------------------------------------------- denial explanations


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="fastcors")
    return caplog


def messages(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fastcors" and r.levelno == level]


CONFIG = build_config(
    CORSSettings(
        allow_origins=["https://app.example.com", "https://admin.example.com/"],
        allow_origin_regex=r"https://[a-z]+\.preview\.example\.com",
        allow_methods=["GET", "POST"],
        allow_headers=["X-Request-Id"],
    )
)


def test_explains_simple_request_origin(debug_log: pytest.LogCaptureFixture) -> None:
    denial_explainer(CONFIG)(b"https://evil.com", None, None, None, 1)
    [line] = messages(debug_log)
    assert "'https://evil.com'" in line
    assert "'https://app.example.com'" in line
    assert r"https://[a-z]+\\.preview\\.example\\.com" in line
    assert "preflight" not in line


def test_explains_preflight_method(debug_log: pytest.LogCaptureFixture) -> None:
    denial_explainer(CONFIG)(b"https://app.example.com", b"DELETE", None, None, 2)
    [line] = messages(debug_log)
    assert "400 Disallowed CORS method" in line
    assert "'DELETE'" in line
    assert "GET, POST" in line
    assert "origin" not in line.split(":", 2)[-1].split("method")[0]  # the origin passed


def test_explains_preflight_headers_naming_each_refused_one(debug_log: pytest.LogCaptureFixture) -> None:
    denial_explainer(CONFIG)(b"https://app.example.com", b"GET", b"X-Request-Id, X-Secret, content-type", None, 4)
    [line] = messages(debug_log)
    assert "'X-Secret'" in line
    assert "'X-Request-Id'" not in line.split("allowed:")[0]
    assert "x-request-id" in line  # in the allowed list


def test_explains_private_network(debug_log: pytest.LogCaptureFixture) -> None:
    denial_explainer(CONFIG)(b"https://app.example.com", b"GET", None, b"true", 8)
    [line] = messages(debug_log)
    assert "private-network" in line
    assert "allow_private_network" in line


def test_explains_every_failure_in_order(debug_log: pytest.LogCaptureFixture) -> None:
    denial_explainer(CONFIG)(b"https://evil.com", b"PUT", b"x-a", b"true", 15)
    [line] = messages(debug_log)
    assert "Disallowed CORS origin, method, headers, private-network" in line
    positions = [line.index(word) for word in ("'https://evil.com'", "'PUT'", "'x-a'", "allow_private_network")]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("origin", "hint"),
    [
        (b"https://App.Example.com", "only in case"),
        (b"https://admin.example.com", "ends with '/'"),
    ],
)
def test_explains_near_misses(debug_log: pytest.LogCaptureFixture, origin: bytes, hint: str) -> None:
    denial_explainer(CONFIG)(origin, None, None, None, 1)
    [line] = messages(debug_log)
    assert hint in line


def test_explanation_bounds_and_escapes_attacker_values(debug_log: pytest.LogCaptureFixture) -> None:
    origin = b"https://evil.com\r\nFORGED: line" + b"x" * 65536
    denial_explainer(CONFIG)(origin, None, None, None, 1)
    [line] = messages(debug_log)
    assert "\n" not in line and "\r" not in line
    assert len(line) < 2000
    assert str(len(origin)) in line


def test_explainer_is_silent_unless_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fastcors")
    denial_explainer(CONFIG)(b"https://evil.com", None, None, None, 1)
    assert messages(caplog) == []


def test_explains_str_configuration(debug_log: pytest.LogCaptureFixture) -> None:
    config = build_config(CORSSettings(allow_origins="https://app.example.com", allow_methods="GET"))
    denial_explainer(config)(b"https://evil.com", b"PUT", None, None, 3)
    [line] = messages(debug_log)
    assert line.count("substring") == 2


# ---------------------------------------------------------------------------- wired into the middleware


def test_middleware_explains_denials_when_debugging(impl: ModuleType, debug_log: pytest.LogCaptureFixture) -> None:
    middleware = impl.CORSMiddleware(_ok_app, allow_origins=["https://app.example.com"], debug=True)
    preflight = [(b"origin", b"https://app.example.com"), (b"access-control-request-method", b"PUT")]
    run(lambda app: middleware, http_scope("OPTIONS", preflight))
    run(lambda app: middleware, http_scope("GET", [(b"origin", b"https://evil.com")]))
    run(lambda app: middleware, http_scope("GET", [(b"origin", b"https://app.example.com")]))  # allowed: silent
    lines = messages(debug_log, logging.WARNING)  # debug=True: shown even with no logging set up
    assert len(lines) == 2
    assert "Disallowed CORS method" in lines[0] and "'PUT'" in lines[0]
    assert "'https://evil.com'" in lines[1]


def test_middleware_explains_denials_at_debug_when_the_logger_is_at_debug(
    impl: ModuleType, debug_log: pytest.LogCaptureFixture
) -> None:
    middleware = impl.CORSMiddleware(_ok_app, allow_origins=["https://app.example.com"])
    run(lambda app: middleware, http_scope("GET", [(b"origin", b"https://evil.com")]))
    assert len(messages(debug_log, logging.DEBUG)) == 1
    assert messages(debug_log, logging.WARNING) == []


def test_middleware_is_silent_about_denials_by_default(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="fastcors"):
        middleware = impl.CORSMiddleware(_ok_app, allow_origins=["https://app.example.com"])
        run(lambda app: middleware, http_scope("GET", [(b"origin", b"https://evil.com")]))
    assert [r for r in caplog.records if r.name == "fastcors"] == []


def test_middleware_strict_raises_listing_every_problem(impl: ModuleType) -> None:
    with pytest.raises(CORSConfigError) as info:
        impl.CORSMiddleware(_ok_app, **BAD, strict=True)
    for problem in check_config(**BAD):
        assert problem.message in str(info.value)


def test_middleware_backtracking_regex_warns_by_default_and_is_refused_when_strict(
    impl: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        impl.CORSMiddleware(_ok_app, allow_origin_regex=NESTED)
    [record] = [r for r in caplog.records if r.name == "fastcors"]
    assert record.levelno == logging.WARNING and repr(NESTED) in record.getMessage()
    with pytest.raises(CORSConfigError, match=r"\[regex-backtracking\]"):
        impl.CORSMiddleware(_ok_app, allow_origin_regex=NESTED, strict=True)


def test_middleware_warns_once_per_problem(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        impl.CORSMiddleware(_ok_app, allow_origins=["https://app.example.com/"])
    assert [r.getMessage().count("https://app.example.com/") > 0 for r in caplog.records] == [True]


async def _ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize(
    ("origin", "hint"),
    [
        (b"https://path.example.com", "has a path"),
        (b"https://port.example.com", "names the default port"),
        (b"https://path.example.com/x", None),  # not an origin as browsers send it: no hint
    ],
)
def test_explains_near_misses_from_the_shared_origin_rules(
    debug_log: pytest.LogCaptureFixture, origin: bytes, hint: str | None
) -> None:
    config = build_config(CORSSettings(allow_origins=["https://path.example.com/app", "https://port.example.com:443"]))
    denial_explainer(config)(origin, None, None, None, 1)
    [line] = messages(debug_log)
    if hint is None:
        assert "; the allowed" not in line and "differs from the allowed" not in line
    else:
        assert hint in line


def test_a_check_that_raises_on_a_built_configuration_propagates(
    impl: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug in a check must fail loudly, not leave the configuration unchecked in silence.
    def broken(method: str) -> list[Problem]:
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr("fastcors._checks._method_problems", broken)
    with pytest.raises(RuntimeError, match="a bug in a check"):
        impl.CORSMiddleware(None, allow_methods=["GET"])
    with pytest.raises(RuntimeError, match="a bug in a check"):
        check_config(allow_methods=["GET"])
    with pytest.raises(RuntimeError, match="a bug in a check"):
        CORSSettings(allow_methods=["GET"]).validate()
    # Arguments the constructor refuses (a pattern without a scheme) are no excuse either.
    with pytest.raises(RuntimeError, match="a bug in a check"):
        check_config(allow_methods=["GET"], allow_origin_patterns=["example.com"])


def test_check_config_on_refused_arguments_reports_what_it_can() -> None:
    # The constructor refuses the pattern; the other arguments are still checked.
    problems = check_config(allow_origins=["https://a.example/"], allow_origin_patterns=["https://*example.com"])
    assert [p.code for p in problems] == ["origin-trailing-slash", "pattern-invalid"]
