"""fastcors against Starlette's CORSMiddleware, on generated configurations, requests and
application responses: every message sent, the scope the app saw, and the app's own header
lists afterwards must be equal, and so must the exception type when one is raised."""

from __future__ import annotations

import functools
import os
from types import ModuleType
from typing import Any

from asgi_harness import Outcome, http_scope, outcome, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette_compat import accepted, fastcors_factory

import fastcors

EXAMPLES = int(os.environ.get("FASTCORS_DIFF_EXAMPLES", "1500"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ORIGINS = [
    "https://app.example.com",
    "https://app.example.com/",
    "HTTPS://APP.EXAMPLE.COM",
    "https://app.example.com:443",
    "http://localhost:8000",
    "https://evilapp.example.com",
    "https://app.example.com.evil.com",
    "null",
    "",
    "https://\xe9t\xe9.example",
    "*",
]
REGEXES = [r"https://.*\.example\.com", r"https://[a-z]+\.example\.com", r"http://localhost:\d+", "null", r".*"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "QUERY", "PURGE", "get", "*"]
HEADERS = ["X-Custom", "x-other", "Content-Type", "Authorization", "X-\xc9t\xe9", "*", " x-spaced "]
EXPOSE = ["X-Total", "x-request-id", "Content-Length"]


def collection(items: list[str]) -> st.SearchStrategy[Any]:
    """Lists mostly; tuples, sets, and a plain str (Starlette's substring quirk) sometimes."""
    chosen = st.lists(st.sampled_from(items), max_size=4)
    return st.one_of(
        chosen,
        chosen.map(tuple),
        chosen.map(set),
        chosen.map(lambda xs: " ".join(xs)),
    )


configs = st.fixed_dictionaries(
    {},
    optional={
        "allow_origins": collection(ORIGINS),
        "allow_methods": collection(METHODS),
        "allow_headers": collection(HEADERS),
        "allow_credentials": st.booleans(),
        "allow_origin_regex": st.sampled_from(REGEXES),
        **accepted({"allow_private_network": st.booleans()}),
        "expose_headers": collection(EXPOSE),
        "max_age": st.integers(min_value=-10, max_value=100_000),
    },
)

header_value = st.one_of(
    st.sampled_from([b"", b" ", b"x", b"\xe9\xff", b"a, b"]),
    st.binary(max_size=12),
)
origin_value = st.one_of(
    st.sampled_from([o.encode("latin-1") for o in ORIGINS]),
    st.sampled_from([b"https://a.example.com", b"https://b.example.com", b"http://localhost:1", b"https://x.com"]),
    header_value,
)
request_method_value = st.one_of(st.sampled_from([m.encode() for m in METHODS]), header_value)
request_headers_value = st.one_of(
    st.sampled_from(
        [
            b"x-custom",
            b"X-Custom, Content-Type",
            b" x-other ,authorization",
            b"x-custom,",
            b",",
            b"",
            b"X-\xc9T\xc9",
            b"x-\xe9t\xe9",
            b"x-spaced",
            b"\xa0x-custom\xa0",
        ]
    ),
    header_value,
)

request_header = st.one_of(
    st.tuples(st.just(b"origin"), origin_value),
    st.tuples(st.just(b"access-control-request-method"), request_method_value),
    st.tuples(st.just(b"access-control-request-headers"), request_headers_value),
    st.tuples(st.just(b"access-control-request-private-network"), st.sampled_from([b"true", b""])),
    st.tuples(st.sampled_from([b"cookie", b"accept", b"Origin", b"host", b"x-a"]), header_value),
)

requests = st.builds(
    lambda method, headers, as_tuple: http_scope(method, tuple(headers) if as_tuple else headers),
    st.sampled_from(["GET", "POST", "OPTIONS", "PUT", "options"]),
    st.lists(request_header, max_size=7),
    st.booleans(),
)

response_header = st.tuples(
    st.sampled_from(
        [
            b"vary",
            b"Vary",
            b"content-type",
            b"access-control-allow-origin",
            b"access-control-allow-credentials",
            b"access-control-expose-headers",
            b"set-cookie",
        ]
    ),
    st.sampled_from([b"Accept", b"*", b"true", b"text/plain", b"", b"Cookie, Accept"]),
)


@st.composite
def responses(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    start: dict[str, Any] = {"type": "http.response.start", "status": draw(st.sampled_from([200, 204, 404, 500]))}
    if draw(st.booleans()):
        start["headers"] = draw(st.lists(response_header, max_size=6))
    bodies = draw(st.integers(min_value=0, max_value=3))
    messages = [start]
    for i in range(bodies):
        messages.append({"type": "http.response.body", "body": b"x" * i, "more_body": i < bodies - 1})
    return [messages]


@SETTINGS
@given(config=configs, scope=requests, response=responses())
def test_same_messages_as_starlette(impl: ModuleType, config: dict[str, Any], scope: dict[str, Any], response: Any):
    expected = outcome(StarletteCORSMiddleware, config, scope, response)
    actual = outcome(fastcors_factory(impl), config, scope, response)
    assert actual == expected


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, scope=requests, response=responses())
def test_same_messages_when_observed(impl: ModuleType, config: dict[str, Any], scope: dict[str, Any], response: Any):
    """With every listener, a report-only candidate and the counting on, the same answers; one
    count per answered request, and one event per refusal counted."""
    events: list[Any] = []
    observed = functools.partial(
        fastcors_factory(impl),
        on_denied=events.append,
        log_denials=True,
        debug=True,
        report_only=fastcors.CORSSettings(allow_origins=["https://app.example.com"], allow_methods=["GET", "PUT"]),
        on_report=lambda report: None,
    )
    expected = outcome(StarletteCORSMiddleware, config, scope, response)
    fastcors.count_requests()
    try:
        before = fastcors.request_counts()
        actual = outcome(observed, config, scope, response)
        after = fastcors.request_counts()
    finally:
        fastcors.count_requests(False)
    assert actual == expected
    added = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    assert sum(added.values()) <= 1
    if isinstance(actual, Outcome) and any(m["type"] == "http.response.start" for m in actual.sent):
        assert sum(added.values()) == 1
    assert len(events) == sum(value for (_, result, _), value in added.items() if result == "denied")


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, scopes=st.lists(requests, min_size=2, max_size=4), response=responses())
def test_same_messages_when_the_app_reuses_its_header_list(
    impl: ModuleType, config: dict[str, Any], scopes: list[dict[str, Any]], response: Any
):
    """One app, one header list object, several requests: nothing leaks between them."""
    try:
        StarletteCORSMiddleware(None, **config)
    except Exception:
        return
    ours = fastcors_factory(impl)(None, **config)
    theirs = StarletteCORSMiddleware(None, **config)
    for scope in scopes:
        # The same `response` objects each time: the header lists are shared across calls.
        expected = run(lambda app: _rewire(theirs, app), scope, response)
        actual = run(lambda app: _rewire(ours, app), scope, response)
        assert actual == expected


def _rewire(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware


# Configurations with arbitrary item types: construction must fail (or not) as Starlette's does.
odd_items = st.one_of(st.none(), st.integers(), st.binary(max_size=3), st.text(max_size=3), st.just("*"))
odd_configs = st.fixed_dictionaries(
    {},
    optional={
        "allow_origins": st.one_of(st.lists(odd_items, max_size=3), st.text(max_size=5)),
        "allow_methods": st.one_of(st.lists(odd_items, max_size=3), st.text(max_size=5)),
        "allow_headers": st.lists(odd_items, max_size=3),
        "expose_headers": st.lists(odd_items, max_size=3),
        "max_age": st.one_of(st.integers(), st.text(max_size=3), st.none()),
        "allow_credentials": st.one_of(st.booleans(), st.none(), st.integers()),
    },
)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=odd_configs, scope=requests)
def test_odd_configurations_behave_as_starlette(impl: ModuleType, config: dict[str, Any], scope: dict[str, Any]):
    expected = outcome(StarletteCORSMiddleware, config, scope, None)
    actual = outcome(fastcors_factory(impl), config, scope, None)
    if isinstance(expected, Outcome) and _has_unencodable_header(config):
        # Documented difference: Starlette accepts header values that cannot be sent
        # (not latin-1) and fails on the requests that need them; fastcors refuses them.
        assert actual == "construction: CORSConfigError"
        return
    assert actual == expected


def _has_unencodable_header(config: dict[str, Any]) -> bool:
    middleware = StarletteCORSMiddleware(None, **config)
    values = [*middleware.preflight_headers.values(), *middleware.simple_headers.values()]
    try:
        for value in values:
            value.encode("latin-1")
    except UnicodeEncodeError:
        return True
    return False


# Long and odd Access-Control-Request-Headers values: what a client may send, beyond the memo
# of verdicts (256 bytes), through the byte scan. Allowed names in any case, latin-1 bytes,
# every whitespace str.strip() removes, empty items, runs of commas.
SCAN_HEADERS = ["X-Custom", "x-other", "Content-Type", "X-\xc9t\xe9", " x-spaced ", "\xc0\xdf\xff", "a", "", "a,b"]
scan_piece = st.one_of(
    st.sampled_from(
        [b"x-custom", b"X-CUSTOM", b"x-Other", b"content-type", b"CONTENT-TYPE", b"x-\xc9T\xc9", b"X-\xe9t\xe9",
         b"\xe0\xdf\xff", b"\xc0\xdf\xff", b"A", b"a", b"b", b"x-spaced", b"accept", b"Accept-Language",
         b"x-not-allowed", b"\xd7", b"\xf7"]
    ),
    st.binary(max_size=4),
)  # fmt: skip
scan_space = st.lists(st.sampled_from([b" ", b"\t", b"\n", b"\x0b", b"\x0c", b"\r", b"\x1c", b"\x1d", b"\x1e",
                                        b"\x1f", b"\x85", b"\xa0"]), max_size=3).map(b"".join)  # fmt: skip
scan_item = st.tuples(scan_space, scan_piece, scan_space).map(b"".join)
long_requested_headers = st.builds(
    lambda items, separators, repeat: (
        b"".join(item + separators[i % len(separators)] for i, item in enumerate(items)) * repeat
    ),
    st.lists(scan_item, min_size=1, max_size=12),
    st.lists(st.sampled_from([b",", b",,", b", ", b" ,", b""]), min_size=1, max_size=3),
    st.sampled_from([1, 2, 30, 300]),
)
scan_configs = st.fixed_dictionaries(
    {"allow_origins": st.just(["https://app.example.com"]), "allow_methods": st.just(["GET", "POST"])},
    optional={"allow_headers": st.lists(st.sampled_from(SCAN_HEADERS), max_size=5)},
)


@SETTINGS
@given(
    config=scan_configs, requested=long_requested_headers, origin=st.sampled_from([b"https://app.example.com", b"x"])
)
def test_long_requested_headers_as_starlette(impl: ModuleType, config: dict[str, Any], requested: bytes, origin: bytes):
    headers = [
        (b"origin", origin),
        (b"access-control-request-method", b"POST"),
        (b"access-control-request-headers", requested),
    ]
    scope = http_scope("OPTIONS", headers)
    expected = outcome(StarletteCORSMiddleware, config, scope, None)
    assert outcome(fastcors_factory(impl), config, scope, None) == expected
