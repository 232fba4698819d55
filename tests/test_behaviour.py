"""Hand-picked cases that document Starlette's behaviour, which fastcors reproduces.

The differential suite covers the same ground with generated cases; these name the
behaviours a reader should know about, each checked against Starlette too."""

from __future__ import annotations

from types import ModuleType

import pytest
from asgi_harness import http_scope, preflight_scope, same_as_starlette, simple_scope

VARY_PREFLIGHT = (
    b"vary",
    b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
)


def test_every_response_varies_on_origin_even_without_one(impl: ModuleType) -> None:
    outcome = same_as_starlette(impl, {"allow_origins": ["https://a.example"]}, http_scope())
    assert outcome.sent[0]["headers"] == [(b"vary", b"Origin")]


def test_allowed_origin_is_echoed_and_vary_merged_into_the_first_vary(impl: ModuleType) -> None:
    response = [
        [
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"vary", b"Accept"), (b"x", b"1"), (b"vary", b"Cookie")],
            }
        ]
    ]
    outcome = same_as_starlette(
        impl,
        {"allow_origins": ["https://a.example"]},
        simple_scope(b"https://a.example"),
        response,
    )
    assert outcome.sent[0]["headers"] == [
        (b"vary", b"Accept, Cookie, Origin"),
        (b"x", b"1"),
        (b"access-control-allow-origin", b"https://a.example"),
    ]
    assert outcome.app_headers_after == [[(b"vary", b"Accept"), (b"x", b"1"), (b"vary", b"Cookie")]]  # untouched


def test_wildcard_with_credentials_reflects_any_origin(impl: ModuleType) -> None:
    outcome = same_as_starlette(
        impl,
        {"allow_origins": ["*"], "allow_credentials": True},
        simple_scope(b"https://evil.example"),
    )
    assert outcome.sent[0]["headers"] == [
        (b"access-control-allow-origin", b"https://evil.example"),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


def test_a_str_of_origins_is_a_substring_test(impl: ModuleType) -> None:
    config = {"allow_origins": "https://app.example.com"}
    outcome = same_as_starlette(impl, config, simple_scope(b"https://app.example"))
    assert (b"access-control-allow-origin", b"https://app.example") in outcome.sent[0]["headers"]


def test_refused_preflight_lists_failures_in_order(impl: ModuleType) -> None:
    config = {"allow_origins": ["https://a.example"], "allow_headers": ["x-a"]}
    outcome = same_as_starlette(impl, config, preflight_scope(b"https://b.example", b"PUT", b"x-a, x-b"))
    start, body = outcome.sent
    assert start["status"] == 400
    assert body["body"] == b"Disallowed CORS origin, method, headers"
    assert start["headers"][0] == VARY_PREFLIGHT
    assert start["headers"][-2:] == [(b"content-length", b"39"), (b"content-type", b"text/plain; charset=utf-8")]


def test_allowed_preflight_never_reaches_the_app(impl: ModuleType) -> None:
    config = {"allow_origins": ["https://a.example"], "allow_methods": ["*"], "allow_headers": ["X-A"], "max_age": 5}
    outcome = same_as_starlette(impl, config, preflight_scope(b"https://a.example", b"QUERY", b" X-a ,accept"))
    assert outcome.app_scope is None
    assert outcome.sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            VARY_PREFLIGHT,
            (b"access-control-allow-methods", b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"),
            (b"access-control-max-age", b"5"),
            (b"access-control-allow-headers", b"Accept, Accept-Language, Content-Language, Content-Type, X-A"),
            (b"access-control-allow-origin", b"https://a.example"),
            (b"content-length", b"2"),
            (b"content-type", b"text/plain; charset=utf-8"),
        ],
    }


@pytest.mark.parametrize("method", [b"PURGE", b"get"])
def test_wildcard_methods_are_a_fixed_list_compared_case_sensitively(impl: ModuleType, method: bytes) -> None:
    outcome = same_as_starlette(
        impl, {"allow_origins": ["*"], "allow_methods": ["*"]}, preflight_scope(b"https://a.example", method)
    )
    assert outcome.sent[1]["body"] == b"Disallowed CORS method"


def test_empty_requested_header_item_is_refused(impl: ModuleType) -> None:
    outcome = same_as_starlette(
        impl, {"allow_origins": ["*"], "allow_headers": ["x-a"]}, preflight_scope(b"https://a.example", b"GET", b"x-a,")
    )
    assert outcome.sent[1]["body"] == b"Disallowed CORS headers"


def test_wildcard_headers_mirror_the_request(impl: ModuleType) -> None:
    outcome = same_as_starlette(
        impl,
        {"allow_origins": ["*"], "allow_headers": ["*"]},
        preflight_scope(b"https://a.example", b"GET", b"X-Anything"),
    )
    assert outcome.sent[0]["headers"][-3] == (b"access-control-allow-headers", b"X-Anything")


def test_private_network_preflight(impl: ModuleType) -> None:
    scope = preflight_scope(b"https://a.example")
    scope["headers"].append((b"access-control-request-private-network", b"true"))
    refused = same_as_starlette(impl, {"allow_origins": ["https://a.example"]}, scope)
    assert refused.sent[1]["body"] == b"Disallowed CORS private-network"
    allowed = same_as_starlette(impl, {"allow_origins": ["https://a.example"], "allow_private_network": True}, scope)
    assert (b"access-control-allow-private-network", b"true") in allowed.sent[0]["headers"]


def test_first_origin_header_wins_and_names_are_exact(impl: ModuleType) -> None:
    headers = [(b"Origin", b"https://a.example"), (b"origin", b"https://b.example"), (b"origin", b"https://a.example")]
    outcome = same_as_starlette(impl, {"allow_origins": ["https://a.example"]}, http_scope(headers=headers))
    assert outcome.sent[0]["headers"] == [(b"vary", b"Origin")]  # b.example: not allowed


def test_app_sees_a_list_of_headers(impl: ModuleType) -> None:
    outcome = same_as_starlette(impl, {}, http_scope(headers=((b"a", b"1"),)))  # type: ignore[arg-type]
    assert outcome.app_scope is not None
    assert outcome.app_scope["headers"] == [(b"a", b"1")]
