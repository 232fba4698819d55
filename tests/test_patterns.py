"""allow_origin_patterns: `https://*.example.com` (one or more whole labels before the name,
never the name itself) and `http://localhost:*` (any port, or none).

On both implementations: what patterns allow and refuse (look-alike hosts, port tricks, case,
whitespace and control bytes), on simple requests and on preflights; how a pattern is
validated at construction; the configuration checks about patterns; debug explanations;
a property test against an independent regex translation of the patterns; and that with
the new arguments at their defaults nothing differs from Starlette.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import ACAO, VARY_ORIGIN, Outcome, http_scope, preflight_scope, run, simple_scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

from fastcors import CORSConfigError, check_config

PATTERNS = ["https://*.example.com", "http://localhost:*", "https://*.example.com:*"]


def simple(impl: ModuleType, config: dict[str, Any], origin: bytes, responses: Any = None) -> Outcome:
    outcome = run(lambda app: impl.CORSMiddleware(app, **config), simple_scope(origin), responses)
    assert outcome.error is None
    assert outcome.app_scope is not None  # a simple request always reaches the app
    return outcome


def preflight(impl: ModuleType, config: dict[str, Any], origin: bytes, method: bytes = b"GET") -> Outcome:
    outcome = run(lambda app: impl.CORSMiddleware(app, **config), preflight_scope(origin, method))
    assert outcome.error is None
    assert outcome.app_scope is None  # a preflight is answered by the middleware
    return outcome


def header_values(outcome: Outcome, name: bytes) -> list[bytes]:
    return [value for key, value in outcome.sent[0]["headers"] if key == name]


def assert_simple_allowed(outcome: Outcome, origin: bytes) -> None:
    assert outcome.sent[0]["headers"] == [(ACAO, origin), VARY_ORIGIN]


def assert_simple_refused(outcome: Outcome) -> None:
    assert outcome.sent[0]["headers"] == [VARY_ORIGIN]  # no Access-Control-Allow-Origin at all


def assert_preflight_allowed(outcome: Outcome, origin: bytes) -> None:
    start, body = outcome.sent
    assert start["status"] == 200
    assert body["body"] == b"OK"
    assert header_values(outcome, ACAO) == [origin]


def assert_preflight_refused(outcome: Outcome) -> None:
    start, body = outcome.sent
    assert start["status"] == 400
    assert body["body"] == b"Disallowed CORS origin"
    assert header_values(outcome, ACAO) == []


# ---------------------------------------------------------------------------- what patterns allow

ALLOWED = [
    b"https://a.example.com",
    b"https://www.example.com",
    b"https://a.b.c.example.com",  # `*.` stands for one or more labels
    b"https://x-y.example.com",
    b"https://a_b.example.com",
    b"https://1.example.com",
    b"https://xn--bcher-kva.example.com",  # an international name, as browsers send it
    b"https://a.example.com:8443",  # https://*.example.com:*
    b"https://a.example.com:1",
    b"https://a.example.com:65535",
    b"http://localhost",  # `:*` includes no port at all
    b"http://localhost:3000",
    b"http://localhost:1",
    b"http://localhost:65535",
]


@pytest.mark.parametrize("origin", ALLOWED, ids=repr)
def test_pattern_allows_simple_request(impl: ModuleType, origin: bytes) -> None:
    assert_simple_allowed(simple(impl, {"allow_origin_patterns": PATTERNS}, origin), origin)


@pytest.mark.parametrize("origin", ALLOWED, ids=repr)
def test_pattern_allows_preflight(impl: ModuleType, origin: bytes) -> None:
    outcome = preflight(impl, {"allow_origin_patterns": PATTERNS}, origin)
    assert_preflight_allowed(outcome, origin)
    assert outcome.sent[0]["headers"][0][0] == b"vary"


def test_allowed_origin_gets_credentials_and_exposed_headers_as_a_listed_one_would(impl: ModuleType) -> None:
    origin = b"https://app.example.com"
    extras = {"allow_credentials": True, "expose_headers": ["X-Total"], "allow_methods": ["GET", "PUT"]}
    by_pattern = {"allow_origin_patterns": ["https://*.example.com"], **extras}
    by_list = {"allow_origins": [origin.decode()], **extras}
    response = [[{"type": "http.response.start", "status": 201, "headers": [(b"vary", b"Accept"), (b"x-app", b"1")]}]]
    assert simple(impl, by_pattern, origin, response).sent == simple(impl, by_list, origin, response).sent
    assert preflight(impl, by_pattern, origin, b"PUT").sent == preflight(impl, by_list, origin, b"PUT").sent
    headers = simple(impl, by_pattern, origin, response).sent[0]["headers"]
    assert headers == [
        (b"vary", b"Accept, Origin"),
        (b"x-app", b"1"),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", b"X-Total"),
        (ACAO, origin),
    ]


def test_patterns_add_to_origins_and_regex(impl: ModuleType) -> None:
    config = {
        "allow_origins": ["https://listed.test"],
        "allow_origin_regex": r"https://regex\.test",
        "allow_origin_patterns": ["https://*.pattern.test"],
    }
    for origin in (b"https://listed.test", b"https://regex.test", b"https://a.pattern.test"):
        assert_simple_allowed(simple(impl, config, origin), origin)
        assert_preflight_allowed(preflight(impl, config, origin), origin)
    for origin in (b"https://other.test", b"https://pattern.test"):
        assert_simple_refused(simple(impl, config, origin))
        assert_preflight_refused(preflight(impl, config, origin))


def test_a_pattern_without_wildcard_is_an_exact_origin(impl: ModuleType) -> None:
    config = {"allow_origin_patterns": ["https://example.com"]}
    assert_simple_allowed(simple(impl, config, b"https://example.com"), b"https://example.com")
    for origin in (b"https://a.example.com", b"https://example.com:8443", b"https://example.co"):
        assert_simple_refused(simple(impl, config, origin))


def test_fixed_port_pattern_allows_only_that_port(impl: ModuleType) -> None:
    config = {"allow_origin_patterns": ["http://localhost:8080", "https://*.example.com:8443"]}
    for origin in (b"http://localhost:8080", b"https://a.example.com:8443", b"https://a.b.example.com:8443"):
        assert_simple_allowed(simple(impl, config, origin), origin)
        assert_preflight_allowed(preflight(impl, config, origin), origin)
    refused = [
        b"http://localhost",
        b"http://localhost:80",
        b"http://localhost:8081",
        b"http://localhost:18080",
        b"http://localhost:08080",
        b"http://localhost:8080:8080",
        b"http://localhost:80808",
        b"https://a.example.com",
        b"https://a.example.com:443",
        b"https://example.com:8443",
        b"https://a.example.com:443:8443",
    ]
    for origin in refused:
        assert_simple_refused(simple(impl, config, origin))
        assert_preflight_refused(preflight(impl, config, origin))


def test_pattern_on_http_with_port_443_and_https_with_port_80(impl: ModuleType) -> None:
    # Only the scheme's own default port is refused in a pattern: these are real ports.
    config = {"allow_origin_patterns": ["http://*.example.com:443", "https://*.example.com:80"]}
    for origin in (b"http://a.example.com:443", b"https://a.example.com:80"):
        assert_simple_allowed(simple(impl, config, origin), origin)
    for origin in (b"http://a.example.com", b"https://a.example.com"):
        assert_simple_refused(simple(impl, config, origin))


def test_ipv6_pattern(impl: ModuleType) -> None:
    config = {"allow_origin_patterns": ["http://[::1]:*"]}
    for origin in (b"http://[::1]", b"http://[::1]:8080"):
        assert_simple_allowed(simple(impl, config, origin), origin)
    for origin in (b"http://[::1]:", b"http://[::1]:0", b"http://[::2]:8080", b"http://[::1]x", b"http://::1"):
        assert_simple_refused(simple(impl, config, origin))


def test_loopback_subdomains_pattern(impl: ModuleType) -> None:
    config = {"allow_origin_patterns": ["http://*.localhost:*"], "allow_credentials": True}
    assert check_config(**config) == []  # nobody else can own a name under localhost
    origin = b"http://app.localhost:5173"
    assert header_values(simple(impl, config, origin), ACAO) == [origin]
    assert header_values(simple(impl, config, b"http://localhost:5173"), ACAO) == []


# ---------------------------------------------------------------------------- look-alikes and tricks

REFUSED = [
    b"https://example.com",  # the apex is not a subdomain
    b"https://evilexample.com",
    b"https://evil-example.com",
    b"https://example.com.evil.com",
    b"https://a.example.com.evil.com",
    b"https://a.example.comm",
    b"https://a.example.co",
    b"https://a.example.com.",
    b"https://.example.com",
    b"https://..example.com",
    b"https://a..example.com",
    b"https://a.b..example.com",
    b"https://*.example.com",  # the pattern itself, sent as an origin
    b"https://A.example.com",  # case games
    b"https://a.EXAMPLE.com",
    b"HTTPS://a.example.com",
    b"Https://a.example.com",
    b"http://LOCALHOST:3000",
    b"https://x@a.example.com",  # userinfo
    b"https://evil.com@a.example.com",
    b"http://evil.com@localhost:3000",
    b"https://evil.com/.example.com",  # path, query, fragment, backslash, escapes
    b"https://evil.com?.example.com",
    b"https://evil.com#.example.com",
    b"https://evil.com\\.example.com",
    b"https://evil.com%2e.example.com",
    b"https://evil.com:.example.com",
    b"https://a.example.com/",  # trailing slash
    b"http://localhost/",
    b"http://localhost:3000/",
    b"https://a.example.com:8443/",
    b"http://localhost:0",  # port tricks
    b"http://localhost:65536",
    b"http://localhost:99999",
    b"http://localhost:100000",
    b"http://localhost:",
    b"http://localhost:08080",
    b"http://localhost:00",
    b"http://localhost:-1",
    b"http://localhost:+80",
    b"http://localhost: 80",
    b"http://localhost:80 ",
    b"http://localhost:0x50",
    b"http://localhost:\xb9",  # latin-1 superscript one: not an ASCII digit
    b"http://localhost:\xef\xbc\x93",  # fullwidth digit three, UTF-8
    b"http://localhost:3000:3000",
    b"https://a.example.com:0",
    b"https://a.example.com:",
    b"https://a.example.com:65536",
    b"http://localhost.evil.com",
    b"http://localhost.evil.com:3000",
    b"http://evil-localhost:3000",
    b"http://evillocalhost",
    b"http://a.localhost:3000",  # http://localhost:* has no wildcard label
    b"http://a.example.com",  # scheme mismatch
    b"wss://a.example.com",
    b"https://localhost:3000",
    b"ftp://localhost",
    b"//a.example.com",
    b"a.example.com",
    b"https://a.example.com\x00",  # NUL, CR, LF, tab, space, non-ASCII
    b"https://a\x00.example.com",
    b"\x00https://a.example.com",
    b"https://a.example.com\r\n",
    b"https://a\r\nx.example.com",
    b"https://a\n.example.com",
    b"https://a\t.example.com",
    b"https://a.example.com ",
    b" https://a.example.com",
    b"https://a b.example.com",
    b"http://localhost\x00",
    b"http://localhost:3000\x00",
    b"https://\xe9.example.com",  # latin-1 e-acute
    b"https://\xc3\xa9.example.com",  # the same, UTF-8
    b"https://a.\xe9xample.com",
    b"null",
    b"",
    b"*",
]


@pytest.mark.parametrize("origin", REFUSED, ids=repr)
def test_pattern_refuses_lookalike_on_simple_request(impl: ModuleType, origin: bytes) -> None:
    assert_simple_refused(simple(impl, {"allow_origin_patterns": PATTERNS}, origin))


@pytest.mark.parametrize("origin", REFUSED, ids=repr)
def test_pattern_refuses_lookalike_on_preflight(impl: ModuleType, origin: bytes) -> None:
    assert_preflight_refused(preflight(impl, {"allow_origin_patterns": PATTERNS}, origin))


@pytest.mark.parametrize(
    "origin", [b"https://a.example.com:443", b"https://a.example.com:8443", b"https://a.example.com:80"]
)
def test_a_port_is_refused_when_the_pattern_names_none(impl: ModuleType, origin: bytes) -> None:
    config = {"allow_origin_patterns": ["https://*.example.com"], "allow_credentials": True}
    outcome = simple(impl, config, origin)
    assert header_values(outcome, ACAO) == []
    assert header_values(outcome, b"vary") == [b"Origin"]
    assert_preflight_refused(preflight(impl, config, origin))


def test_refused_with_credentials_and_app_vary_still_merges_vary(impl: ModuleType) -> None:
    config = {"allow_origin_patterns": ["https://*.example.com"], "allow_credentials": True}
    response = [[{"type": "http.response.start", "status": 200, "headers": [(b"vary", b"Accept")]}]]
    outcome = simple(impl, config, b"https://example.com.evil.com", response)
    # As Starlette does for any refused origin: credentials header without an allowed origin.
    assert outcome.sent[0]["headers"] == [(b"vary", b"Accept, Origin"), (b"access-control-allow-credentials", b"true")]


def test_many_origins_through_one_middleware_keep_their_verdicts(impl: ModuleType) -> None:
    """One instance, allowed and refused origins interleaved: no verdict leaks into another."""
    verdicts: dict[bytes, bool] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    middleware = impl.CORSMiddleware(app, allow_origin_patterns=PATTERNS)
    for _ in range(3):
        for origin in ALLOWED + REFUSED:
            outcome = run(lambda _app: middleware, simple_scope(origin))
            verdicts[origin] = header_values(outcome, ACAO) == [origin]
    assert all(verdicts[origin] for origin in ALLOWED)
    assert not any(verdicts[origin] for origin in REFUSED)


# ---------------------------------------------------------------------------- validation

INVALID = [
    ("https://*example.com", ["'https://evilexample.com'", "use 'https://*.example.com'"]),
    ("https://a*.example.com", ["'*'"]),
    ("https://a.*.example.com", ["has a '*' where none is allowed"]),
    ("https://*.*.example.com", ["has a '*' where none is allowed"]),
    ("https://**.example.com", ["'*'"]),
    ("https://example.*", ["has a '*' where none is allowed"]),
    ("https://*.example.com:8*", ["invalid port '8*'"]),
    ("*://example.com", ["invalid scheme"]),
    ("http*://example.com", ["invalid scheme"]),
    ("*.example.com", ["has no scheme", "'https://*.example.com'"]),
    ("example.com", ["has no scheme", "'https://example.com'"]),
    ("//example.com", ["scheme"]),
    ("https://*.example.com/", ["trailing slash", "use 'https://*.example.com'"]),
    ("https://*.example.com/path", ["a path", "use 'https://*.example.com'"]),
    ("http://localhost:*/", ["trailing slash", "use 'http://localhost:*'"]),
    ("https://*.example.com?x", ["use 'https://*.example.com'"]),
    ("https://*.example.com#x", ["use 'https://*.example.com'"]),
    ("https://*.example.com:443", ["default port :443", "use 'https://*.example.com'"]),
    ("http://localhost:80", ["default port :80", "use 'http://localhost'"]),
    ("http://*.example.com:80", ["default port :80"]),
    ("HTTPS://*.example.com", ["upper-case", "use 'https://*.example.com'"]),
    ("https://*.Example.com", ["upper-case", "use 'https://*.example.com'"]),
    ("https://*.example.com ", ["whitespace"]),
    (" https://*.example.com", ["whitespace"]),
    ("https://*.exa mple.com", ["whitespace"]),
    ("https://*.example.com\n", ["whitespace"]),
    ("", ["empty"]),
    ("null", ["sandboxed"]),
    ("https://*", ["every origin", "allow_origins=['*']"]),
    ("http://*:*", ["every origin"]),
    ("https://*.", ["has no host"]),
    ("https://x@*.example.com", ["user information"]),
    ("https://*.example.com:0", ["invalid port '0'"]),
    ("https://*.example.com:65536", ["invalid port '65536'"]),
    ("https://*.example.com:08080", ["invalid port '08080'"]),
    ("https://*.example.com:", ["invalid port ''"]),
    ("https://*.example.com.", ["ends the host with '.'"]),
    ("https://*..example.com", ["invalid host label ''"]),
    ("https://*.exa%mple.com", ["invalid host label"]),
    ("https://*.\xe9xample.com", ["non-ASCII", "punycoded"]),
    ("https://*.127.0.0.1", ["IP address"]),
    ("http://*.[::1]:8080", ["IP address"]),
    ("https://*.[::1]", []),  # refused (its message speaks of the port '1]')
]


@pytest.mark.parametrize("credentials", [False, True])
@pytest.mark.parametrize(("pattern", "fragments"), INVALID, ids=[repr(p) for p, _ in INVALID])
def test_invalid_pattern_is_refused_at_construction(
    impl: ModuleType, pattern: str, fragments: list[str], credentials: bool
) -> None:
    with pytest.raises(CORSConfigError) as caught:
        impl.CORSMiddleware(None, allow_origin_patterns=[pattern], allow_credentials=credentials)
    message = str(caught.value)
    assert message.startswith(f"allow_origin_patterns: {pattern!r} ")
    for fragment in fragments:
        assert fragment in message


def test_invalid_pattern_among_valid_ones_is_named(impl: ModuleType) -> None:
    with pytest.raises(CORSConfigError, match=re.escape("'https://*example.com'")):
        impl.CORSMiddleware(None, allow_origin_patterns=["https://*.example.com", "https://*example.com"])


@pytest.mark.parametrize("value", ["https://*.example.com", b"https://*.example.com", 5, None])
def test_patterns_must_be_a_collection(impl: ModuleType, value: Any) -> None:
    with pytest.raises(CORSConfigError, match="must be a list of patterns"):
        impl.CORSMiddleware(None, allow_origin_patterns=value)


@pytest.mark.parametrize("item", [b"https://*.example.com", None, 1])
def test_pattern_items_must_be_str(impl: ModuleType, item: Any) -> None:
    with pytest.raises(CORSConfigError, match="not a str"):
        impl.CORSMiddleware(None, allow_origin_patterns=["https://*.example.com", item])


@pytest.mark.parametrize("collection", [tuple, frozenset, list])
def test_patterns_in_any_collection(impl: ModuleType, collection: Any) -> None:
    config = {"allow_origin_patterns": collection(["https://*.example.com"])}
    assert_simple_allowed(simple(impl, config, b"https://a.example.com"), b"https://a.example.com")
    assert_simple_refused(simple(impl, config, b"https://example.com"))


@pytest.mark.parametrize("pattern", ["https://*.com", "https://*.github.io", "https://*.co.uk", "http://*.com:*"])
def test_public_suffix_wildcard_with_credentials_is_refused(impl: ModuleType, pattern: str) -> None:
    suffix = pattern.split("*.")[1].split(":")[0]
    with pytest.raises(CORSConfigError) as caught:
        impl.CORSMiddleware(None, allow_origin_patterns=[pattern], allow_credentials=True)
    assert f"public suffix {suffix!r}" in str(caught.value)
    assert "allow_credentials=True" in str(caught.value)


@pytest.mark.parametrize("pattern", ["https://*.com", "https://*.github.io", "https://*.co.uk"])
def test_public_suffix_wildcard_without_credentials_warns(
    impl: ModuleType, pattern: str, caplog: pytest.LogCaptureFixture
) -> None:
    suffix = pattern.split("*.")[1]
    problems = check_config(allow_origin_patterns=[pattern])
    assert [p.code for p in problems] == ["pattern-public-suffix"]
    assert problems[0].argument == "allow_origin_patterns"
    assert problems[0].value == pattern
    assert f"public suffix {suffix!r}" in problems[0].message
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        middleware = impl.CORSMiddleware(None, allow_origin_patterns=[pattern])
    warnings = [r for r in caplog.records if r.name == "fastcors" and r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [f"CORS configuration: {problems[0].message}"]
    assert middleware.settings.allow_origin_patterns == [pattern]
    # It still does what it says: any site under the suffix is allowed.
    origin = f"https://anyone.{suffix}".encode()
    assert_simple_allowed(simple(impl, {"allow_origin_patterns": [pattern]}, origin), origin)
    with pytest.raises(CORSConfigError, match=r"\[pattern-public-suffix\]"):
        impl.CORSMiddleware(None, allow_origin_patterns=[pattern], strict=True)


@pytest.mark.parametrize(
    "pattern",
    ["https://*.example.com", "https://*.example.co.uk", "https://*.myproject.github.io", "http://localhost:*"],
)
def test_own_domain_patterns_are_clean_even_with_credentials(impl: ModuleType, pattern: str) -> None:
    assert check_config(allow_origin_patterns=[pattern], allow_credentials=True) == []
    impl.CORSMiddleware(None, allow_origin_patterns=[pattern], allow_credentials=True, strict=True)


@pytest.mark.parametrize("name", ["localhost", "test", "example", "internal", "local", "home.arpa"])
def test_special_use_names_are_not_public_suffixes(impl: ModuleType, name: str) -> None:
    # Nobody can register under them in the public DNS, whatever the list's default rule says.
    pattern = f"http://*.{name}:*"
    assert check_config(allow_origin_patterns=[pattern], allow_credentials=True) == []
    impl.CORSMiddleware(None, allow_origin_patterns=[pattern], allow_credentials=True, strict=True)


@pytest.mark.parametrize("pattern", ["https://*.[::1]", "http://*.[::1]:8080"])
def test_wildcard_before_an_ipv6_address_is_named(impl: ModuleType, pattern: str) -> None:
    with pytest.raises(CORSConfigError, match="before an IP address"):
        impl.CORSMiddleware(None, allow_origin_patterns=[pattern])


# ---------------------------------------------------------------------------- configuration checks


def test_check_config_reports_an_invalid_pattern_as_the_constructor_would(impl: ModuleType) -> None:
    problems = check_config(allow_origin_patterns=["https://*.example.com", "https://*example.com"])
    assert [(p.code, p.argument, p.value) for p in problems] == [
        ("pattern-invalid", "allow_origin_patterns", "https://*example.com")
    ]
    with pytest.raises(CORSConfigError) as caught:
        impl.CORSMiddleware(None, allow_origin_patterns=["https://*example.com"])
    assert problems[0].message == str(caught.value)


def test_check_config_with_credentials_reports_public_suffix_as_invalid() -> None:
    problems = check_config(allow_origin_patterns=["https://*.github.io"], allow_credentials=True)
    assert [p.code for p in problems] == ["pattern-invalid"]
    assert "public suffix 'github.io'" in problems[0].message


def test_check_config_wildcard_shadows_each_new_rule() -> None:
    func = lambda origin: True  # noqa: E731
    problems = check_config(
        allow_origins=["*"],
        allow_origin_patterns=["https://*.example.com"],
        allow_origin_func=func,
        websocket_origin_guard=True,
    )
    assert [(p.code, p.argument) for p in problems] == [
        ("wildcard-shadows", "allow_origin_patterns"),
        ("wildcard-shadows", "allow_origin_func"),
        ("wildcard-shadows", "websocket_origin_guard"),
    ]
    assert problems[1].value is func
    assert all("allow_origins=['*']" in p.message for p in problems)
    # Without '*' none of them is shadowed; with '*' alone, nothing to report.
    assert check_config(allow_origin_patterns=["https://*.example.com"], allow_origin_func=func) == []
    assert check_config(allow_origins=["*"]) == []


@pytest.mark.parametrize("argument", ["allow_origin_patterns", "allow_origin_func", "websocket_origin_guard"])
def test_wildcard_shadows_warns_at_construction_and_strict_raises(
    impl: ModuleType, argument: str, caplog: pytest.LogCaptureFixture
) -> None:
    value = {"allow_origin_patterns": ["https://*.example.com"], "allow_origin_func": bool}.get(argument, True)
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        impl.CORSMiddleware(None, allow_origins=["*"], **{argument: value})
    assert any(argument in r.getMessage() and "allow_origins=['*']" in r.getMessage() for r in caplog.records)
    with pytest.raises(CORSConfigError, match=r"\[wildcard-shadows\]"):
        impl.CORSMiddleware(None, allow_origins=["*"], strict=True, **{argument: value})


def test_wildcard_in_allow_origins_suggests_patterns() -> None:
    problems = check_config(allow_origins=["https://*.example.com", "http://localhost:*"])
    assert [p.code for p in problems] == ["origin-wildcard-pattern", "origin-wildcard-pattern"]
    assert "allow_origin_patterns=['https://*.example.com']" in problems[0].message
    assert "allow_origin_patterns=['http://localhost:*']" in problems[1].message


def test_wildcard_in_allow_origins_that_no_pattern_fits_suggests_a_regex() -> None:
    problems = check_config(allow_origins=["https://*example.com"])
    assert [p.code for p in problems] == ["origin-wildcard-pattern"]
    assert "allow_origin_patterns" not in problems[0].message
    assert "allow_origin_regex" in problems[0].message


@pytest.mark.parametrize("credentials", [False, True])
@pytest.mark.parametrize(
    "origin", ["https://*.example.com", "http://localhost:*", "https://*.github.io", "https://*.com"]
)
def test_the_suggested_patterns_are_accepted(impl: ModuleType, origin: str, credentials: bool) -> None:
    """Following the advice of origin-wildcard-pattern must give a configuration fastcors accepts."""
    (problem,) = check_config(allow_origins=[origin], allow_credentials=credentials)
    assert problem.code == "origin-wildcard-pattern"
    suggested = re.search(r"allow_origin_patterns=\[('[^']*')\]", problem.message)
    if suggested is None:  # a regex was suggested instead: fine, as long as no pattern is
        return
    pattern = suggested.group(1).strip("'")
    impl.CORSMiddleware(None, allow_origin_patterns=[pattern], allow_credentials=credentials)


@pytest.mark.parametrize("value", ["https://*.example.com", None, [b"https://*.example.com"]], ids=repr)
def test_check_config_reports_patterns_the_constructor_refuses(impl: ModuleType, value: Any) -> None:
    """check_config is a deploy check: what makes the constructor raise must not come back clean."""
    with pytest.raises(CORSConfigError):
        impl.CORSMiddleware(None, allow_origin_patterns=value)
    problems = check_config(allow_origin_patterns=value)
    assert [p.argument for p in problems] == ["allow_origin_patterns"]
    assert problems[0].code == "pattern-invalid"


# ---------------------------------------------------------------------------- debug explanations


def test_debug_lists_patterns_when_an_origin_is_refused(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    config = {"allow_origins": ["https://listed.test"], "allow_origin_patterns": PATTERNS[:2], "debug": True}
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        simple(impl, config, b"https://evil.test")
        preflight(impl, config, b"https://evil.test")
        simple(impl, config, b"https://a.example.com")  # allowed: nothing to explain
    messages = [r.getMessage() for r in caplog.records if r.name == "fastcors"]
    assert len(messages) == 2
    listed = "origins matching the patterns 'https://*.example.com', 'http://localhost:*'"
    assert messages[0].startswith("CORS: response sent without Access-Control-Allow-Origin")
    assert messages[1].startswith("CORS: preflight refused (400 Disallowed CORS origin)")
    for message in messages:
        assert "origin 'https://evil.test' is not allowed" in message
        assert "'https://listed.test'" in message
        assert listed in message


def test_debug_without_patterns_does_not_mention_them(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fastcors"):
        simple(impl, {"allow_origins": ["https://listed.test"], "debug": True}, b"https://evil.test")
    messages = [r.getMessage() for r in caplog.records if r.name == "fastcors"]
    assert len(messages) == 1
    assert "patterns" not in messages[0]


# ---------------------------------------------------------------------------- defaults unchanged

DEFAULTS = {"allow_origin_patterns": (), "allow_origin_func": None, "websocket_origin_guard": False}
STARLETTE_CONFIGS = [
    {"allow_origins": ["https://a.example"]},
    {"allow_origins": ["*"], "allow_credentials": True, "expose_headers": ["X-A"]},
    {"allow_origin_regex": r"https://.*\.example\.com", "allow_methods": ["*"], "allow_headers": ["*"]},
    {"allow_origins": ["https://a.example"], "allow_headers": ["X-A"], "max_age": 5, "allow_private_network": True},
]
REQUESTS = [
    http_scope(),
    simple_scope(b"https://a.example"),
    simple_scope(b"https://b.example.com"),
    simple_scope(b"https://evil.example"),
    preflight_scope(b"https://a.example", b"GET"),
    http_scope(
        "OPTIONS",
        [
            (b"origin", b"https://b.example.com"),
            (b"access-control-request-method", b"PUT"),
            (b"access-control-request-headers", b"x-a, x-b"),
        ],
    ),
    preflight_scope(b"https://evil.example", b"GET"),
    http_scope("OPTIONS", [(b"origin", b"https://a.example")]),  # no request method: not a preflight
]


@pytest.mark.parametrize("config", STARLETTE_CONFIGS)
def test_new_arguments_at_their_defaults_change_nothing(impl: ModuleType, config: dict[str, Any]) -> None:
    response = [
        [
            {"type": "http.response.start", "status": 200, "headers": [(b"vary", b"Accept"), (b"x", b"1")]},
            {"type": "http.response.body", "body": b"hello"},
        ]
    ]
    for scope in REQUESTS:
        ours = run(lambda app: impl.CORSMiddleware(app, **config, **DEFAULTS), scope, response)
        theirs = run(lambda app: StarletteCORSMiddleware(app, **config), scope, response)
        assert ours == theirs
        assert ours.sent  # something was compared


# ---------------------------------------------------------------------------- property test

EXAMPLES = max(50, int(os.environ.get("FASTCORS_DIFF_EXAMPLES", "1500")) // 5)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFAULT_PORTS = {"http": "80", "https": "443"}
LABELS = ["a", "b", "ab", "example", "com", "localhost", "x-y", "a_b", "0", "12", "xn--bcher-kva", "co", "uk"]
TRICKY = [
    "",
    ".",
    "..",
    "-",
    "_",
    ":",
    "::",
    "/",
    "@",
    "*",
    "A",
    "0",
    " ",
    "\x00",
    "\r\n",
    "\t",
    "\xe9",
    "%2e",
    "#",
    "?",
]


@dataclass(frozen=True)
class PatternSpec:
    scheme: str
    wildcard: bool
    labels: tuple[str, ...]
    port: str | None  # None, "*" or digits

    @property
    def host(self) -> str:
        return ".".join(self.labels)

    @property
    def text(self) -> str:
        port = "" if self.port is None else ":" + self.port
        return f"{self.scheme}://{'*.' if self.wildcard else ''}{self.host}{port}"

    @property
    def refused_at_construction(self) -> bool:
        # The two ways a generated pattern can be invalid: the scheme's default port, or
        # `*.` before a name of digits only (an IP address has no subdomains).
        return self.port == DEFAULT_PORTS[self.scheme] or (self.wildcard and all(x.isdigit() for x in self.labels))


def reference_allows(spec: PatternSpec, origin: str) -> bool:
    """An independent translation of the pattern rules into a regex, then a port range check."""
    host = r"\.".join(re.escape(label) for label in spec.labels)
    if spec.wildcard:
        host = r"(?:[a-z0-9_-]+\.)+" + host  # one or more whole labels
    if spec.port is None:
        port = ""
    elif spec.port == "*":
        port = r"(?::(?P<port>[1-9][0-9]{0,4}))?"  # any port, as a browser writes it, or none
    else:
        port = ":" + re.escape(spec.port)
    match = re.fullmatch(re.escape(spec.scheme) + "://" + host + port, origin)
    if match is None:
        return False
    number = match.groupdict().get("port")
    return number is None or 1 <= int(number) <= 65535


pattern_specs = st.builds(
    PatternSpec,
    scheme=st.sampled_from(["http", "https"]),
    wildcard=st.booleans(),
    labels=st.lists(st.sampled_from(LABELS), min_size=1, max_size=3).map(tuple),
    port=st.one_of(st.none(), st.just("*"), st.sampled_from(["1", "80", "443", "3000", "8080", "65535"])),
)


SUBLABELS = ["a", "www", "x-y", "a_b", "0", "-", "evil", "", "A", "*", "a b", "\x00", "\xe9", "a:1", "x@a", "%2e"]
PORTS = ["", ":", ":0", ":00", ":1", ":08080", ":80", ":443", ":3000", ":8080", ":65535", ":65536", ":99999", ":100000"]
PORTS += [":+1", ": 80", ":1:1", ":80/", ":\xb9"]


def mutate(draw: st.DrawFn, text: str) -> str:
    """`text` with one small edit: a character inserted, deleted, replaced or upper-cased."""
    if not text:
        return draw(st.sampled_from(TRICKY))
    at = draw(st.integers(0, len(text) - 1))
    edit = draw(st.sampled_from(["insert", "delete", "replace", "upper"]))
    if edit == "upper":
        return text[:at] + text[at].upper() + text[at + 1 :]
    piece = "" if edit == "delete" else draw(st.sampled_from(TRICKY))
    return text[:at] + piece + text[at + (0 if edit == "insert" else 1) :]


@st.composite
def origin_for(draw: st.DrawFn, spec: PatternSpec) -> str:
    """An origin built from the pattern's parts, each part right or subtly wrong; or random text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(alphabet="abehlmoptsx.:/-_@*0123456789 A\x00\xe9", max_size=40))
    parts = st.sampled_from(["scheme", "labels", "dot", "host", "port", "edit"])
    how_many = draw(st.sampled_from([0, 0, 1, 1, 1, 1, 1, 1, 1, 2]))  # mostly one thing wrong: a near miss
    wrong = draw(st.sets(parts, min_size=how_many, max_size=how_many))
    scheme = spec.scheme
    if "scheme" in wrong:
        scheme = draw(st.sampled_from(["http", "https", "HTTPS", "Http", "ws", "wss", "", "https:"]))
    labels = [draw(st.sampled_from(["a", "www", "x-y", "a_b", "0", "xn--bcher-kva"]))] if spec.wildcard else []
    if "labels" in wrong:
        labels = draw(st.lists(st.sampled_from(SUBLABELS), max_size=3))
    elif spec.wildcard:
        labels += draw(st.lists(st.sampled_from(["a", "b-c", "1"]), max_size=2))
    dot = draw(st.sampled_from(["", "..", "-", "@", "/"])) if "dot" in wrong else "."
    host = spec.host
    if "host" in wrong:
        host = draw(
            st.one_of(
                st.builds(lambda prefix: prefix + host, st.sampled_from(["evil", "evil-", ".", "-", "x@"])),
                st.builds(lambda suffix: host + suffix, st.sampled_from([".evil.com", ".", "-x", "x", "/", "\x00"])),
                st.builds(lambda: host.upper()),
                st.builds(lambda: mutate(draw, host)),
            )
        )
    if "port" in wrong:
        port = draw(st.sampled_from(PORTS))
    elif spec.port is None:
        port = ""
    elif spec.port == "*":
        port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda n: f":{n}")))
    else:
        port = ":" + spec.port
    origin = f"{scheme}://{dot.join([*labels, host])}{port}"
    return mutate(draw, origin) if "edit" in wrong else origin


def near_misses(spec: PatternSpec) -> list[str]:
    """Every origin that differs from a matching one in exactly one part, the pattern's own look-alikes."""
    labels = ["a"] if spec.wildcard else []
    port = "" if spec.port in (None, "*") else ":" + spec.port

    def build(
        scheme: str = spec.scheme, labels: list[str] = labels, dot: str = ".", host: str = spec.host, port: str = port
    ) -> str:
        return f"{scheme}://{dot.join([*labels, host])}{port}"

    host = spec.host
    hosts = ["evil" + host, "evil-" + host, host + ".evil.com", host + ".", host.upper(), host[:-1], host + "x"]
    return [
        build(),
        *(build(port=p) for p in PORTS),
        *(build(scheme=s) for s in ["http", "https", "HTTPS", "ws", "", "https:"]),
        *(build(labels=[x]) for x in SUBLABELS),
        build(labels=[]),
        build(labels=["a", "b"]),
        build(labels=["a", ""]),
        *(build(dot=d) for d in ["", "..", "-", "@"]),
        *(build(host=h) for h in hosts),
    ]


@SETTINGS
@given(specs=st.lists(pattern_specs, min_size=1, max_size=2), data=st.data())
def test_verdicts_match_a_reference_translation(impl: ModuleType, specs: list[PatternSpec], data: st.DataObject):
    config = {"allow_origin_patterns": [spec.text for spec in specs]}
    if any(spec.refused_at_construction for spec in specs):
        with pytest.raises(CORSConfigError):
            impl.CORSMiddleware(None, **config)
        return
    origins = data.draw(st.lists(st.one_of(*(origin_for(spec) for spec in specs)), min_size=1, max_size=4))
    origins += [origin for spec in specs for origin in near_misses(spec)]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})

    middleware = impl.CORSMiddleware(app, **config)  # a valid pattern must be accepted
    for origin in origins:
        expected = any(reference_allows(spec, origin) for spec in specs)
        raw = origin.encode("latin-1")
        simple_outcome = run(lambda _: middleware, simple_scope(raw))
        assert simple_outcome.sent[0]["headers"] == ([(ACAO, raw)] if expected else []) + [VARY_ORIGIN], (
            config,
            origin,
        )
        scope = preflight_scope(raw, b"GET")
        preflight_outcome = run(lambda _: middleware, scope)
        assert preflight_outcome.sent[0]["status"] == (200 if expected else 400), (config, origin)
        assert header_values(preflight_outcome, ACAO) == ([raw] if expected else []), (config, origin)


def test_reference_translation_is_not_vacuous() -> None:
    """The reference itself, on hand-picked cases, so the property test compares with something right."""
    wildcard = PatternSpec("https", True, ("example", "com"), "*")
    assert reference_allows(wildcard, "https://a.b.example.com:8443")
    assert reference_allows(wildcard, "https://a.example.com")
    assert not reference_allows(wildcard, "https://example.com")
    assert not reference_allows(wildcard, "https://a.example.com:0")
    assert not reference_allows(wildcard, "https://a.example.com:65536")
    assert not reference_allows(wildcard, "https://evilexample.com")
    assert not reference_allows(wildcard, "https://A.example.com")
    exact = PatternSpec("http", False, ("localhost",), "3000")
    assert reference_allows(exact, "http://localhost:3000")
    assert not reference_allows(exact, "http://localhost:3000\n")
    assert not reference_allows(exact, "http://localhost")
