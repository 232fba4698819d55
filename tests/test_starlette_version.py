"""starlette_version: which Starlette release's answers fastcors gives, and how each generation answers.

The answers of every generation are checked against the real releases by the per-release
suites (test_generations); these tests pin the choice itself and name, on both
implementations, the rules that differ between generations.
"""

from __future__ import annotations

import importlib.metadata
import logging
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import Outcome, http_scope, run

import fastcors
from fastcors import CORSConfigError, CORSSettings, check_config
from fastcors import _generations as generations

G1, G2, G3, G4 = generations.GENERATIONS
ORIGIN = b"https://a.example"
OLD = ["0.46.2", "0.52.1", "1.6.0"]  # one release of each generation before the newest


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.27.0", G1),
        ("0.37.2", G1),
        ("0.50", G1),
        ("0.51.0", G2),
        ("0.52.1", G2),
        ("1.0.0rc1", G3),
        ("1.6.0", G3),
        ("1.7.0", G4),
        ("1.10.0", G4),
        ("newest", G4),
    ],
)
def test_a_release_selects_its_generation(version: str, expected: generations.Generation) -> None:
    assert generations.generation(version) is expected


@pytest.mark.parametrize("value", ["latest", "1", "abc", "", " 1.6", b"1.6", 1.6, None, "0.46.2 "])
def test_a_bad_value_names_the_accepted_ones(impl: ModuleType, value: Any) -> None:
    with pytest.raises(CORSConfigError, match=r"'installed'.*'newest'.*'0\.46\.2'"):
        impl.CORSMiddleware(None, starlette_version=value)


def test_a_release_older_than_known_is_refused(impl: ModuleType) -> None:
    with pytest.raises(CORSConfigError, match=r"reproduces Starlette 0\.27 and later"):
        impl.CORSMiddleware(None, starlette_version="0.26.1")


def test_a_release_newer_than_known_answers_as_the_newest_and_says_so_once(
    impl: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fastcors")
    version = f"1.99.{id(impl) % 1000}"  # one the cache of messages has not seen
    for _ in range(3):
        assert impl.CORSMiddleware(None, starlette_version=version).config.generation is G4
    said = [r.getMessage() for r in caplog.records if "newer than any release" in r.getMessage()]
    assert len(said) == 1 and version in said[0]


def test_installed_is_the_installed_release() -> None:
    release = importlib.metadata.version("starlette")
    assert generations.installed_release() == release
    assert fastcors.CORSMiddleware(None).config.generation is generations.generation(release)


def test_installed_without_starlette_is_the_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_found)
    generations.installed_release.cache_clear()
    try:
        assert generations.generation("installed") is G4
    finally:
        monkeypatch.undo()
        generations.installed_release.cache_clear()


def test_the_choice_is_kept_by_reconfigure_and_the_handle(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(None, starlette_version="0.46.2")
    middleware.reconfigure(middleware.settings, allow_origins=["https://a.example"])
    assert middleware.config.generation is G1
    handle = fastcors.CORSHandle()
    handled = impl.CORSMiddleware(None, handle=handle)
    handle.reconfigure(CORSSettings(starlette_version="1.6"))
    assert handled.config.generation is G3


# ---------------------------------------------------------------------------- the rules


def answer(impl: ModuleType, version: str, config: dict[str, Any], scope: dict[str, Any], app_headers: Any = None):
    start: dict[str, Any] = {"type": "http.response.start", "status": 200}
    if app_headers is not None:
        start["headers"] = app_headers
    return run(lambda app: impl.CORSMiddleware(app, starlette_version=version, **config), scope, [[start]])


def headers_of(outcome: Outcome) -> list[tuple[bytes, bytes]]:
    return outcome.sent[0]["headers"]


@pytest.mark.parametrize("version", OLD)
def test_before_1_7_a_request_without_origin_passes_untouched(impl: ModuleType, version: str) -> None:
    outcome = answer(impl, version, {"allow_origins": ["https://a.example"]}, http_scope(), [(b"x", b"1")])
    assert headers_of(outcome) == [(b"x", b"1")]
    outcome = answer(impl, "newest", {"allow_origins": ["https://a.example"]}, http_scope(), [(b"x", b"1")])
    assert headers_of(outcome) == [(b"x", b"1"), (b"vary", b"Origin")]


@pytest.mark.parametrize("version", OLD)
def test_before_1_7_a_refused_origin_gets_the_simple_headers_but_no_vary(impl: ModuleType, version: str) -> None:
    config = {"allow_origins": ["https://a.example"], "allow_credentials": True}
    outcome = answer(impl, version, config, http_scope(headers=[(b"origin", b"https://evil.example")]))
    assert headers_of(outcome) == [(b"access-control-allow-credentials", b"true")]


@pytest.mark.parametrize("version", OLD)
def test_before_1_7_the_vary_merge_keeps_the_first_value_only(impl: ModuleType, version: str) -> None:
    app_headers = [(b"vary", b"Accept"), (b"x", b"1"), (b"vary", b"Cookie")]
    scope = http_scope(headers=[(b"origin", ORIGIN)])
    outcome = answer(impl, version, {"allow_origins": [ORIGIN.decode()]}, scope, app_headers)
    assert headers_of(outcome) == [(b"vary", b"Accept, Origin"), (b"x", b"1"), (b"access-control-allow-origin", ORIGIN)]
    outcome = answer(impl, "newest", {"allow_origins": [ORIGIN.decode()]}, scope, app_headers)
    assert headers_of(outcome)[0] == (b"vary", b"Accept, Cookie, Origin")


@pytest.mark.parametrize(("version", "reflects_on_cookie"), [("0.46.2", True), ("0.52.1", True), ("1.6.0", False)])
def test_the_wildcard_reflects_on_a_cookie_before_1_0(impl: ModuleType, version: str, reflects_on_cookie: bool) -> None:
    with_cookie = http_scope(headers=[(b"origin", ORIGIN), (b"cookie", b"a=1")])
    outcome = answer(impl, version, {"allow_origins": ["*"]}, with_cookie)
    if reflects_on_cookie:
        assert headers_of(outcome) == [(b"access-control-allow-origin", ORIGIN), (b"vary", b"Origin")]
    else:
        assert headers_of(outcome) == [(b"access-control-allow-origin", b"*")]
    credentials = answer(impl, version, {"allow_origins": ["*"], "allow_credentials": True}, with_cookie)
    reflected = (b"access-control-allow-origin", ORIGIN)
    assert reflected in headers_of(credentials)  # with a cookie, or with credentials from 1.0 on


@pytest.mark.parametrize("version", OLD)
def test_before_1_7_the_preflight_varies_on_origin_only_when_it_names_it(impl: ModuleType, version: str) -> None:
    preflight = http_scope("OPTIONS", [(b"origin", ORIGIN), (b"access-control-request-method", b"GET")])
    named = answer(impl, version, {"allow_origins": [ORIGIN.decode()]}, preflight)
    assert headers_of(named)[0] == (b"vary", b"Origin")
    wildcard = answer(impl, version, {"allow_origins": ["*"]}, preflight)
    assert all(name != b"vary" for name, _ in headers_of(wildcard))


def test_private_network_before_0_51(impl: ModuleType) -> None:
    with pytest.raises(CORSConfigError, match="no such argument"):
        impl.CORSMiddleware(None, allow_private_network=True, starlette_version="0.46.2")
    asks = [(b"origin", ORIGIN), (b"access-control-request-method", b"GET")]
    preflight = http_scope("OPTIONS", [*asks, (b"access-control-request-private-network", b"true")])
    ignored = answer(impl, "0.46.2", {"allow_origins": [ORIGIN.decode()]}, preflight)
    assert ignored.sent[0]["status"] == 200
    assert all(name != b"access-control-allow-private-network" for name, _ in headers_of(ignored))
    refused = answer(impl, "0.52.1", {"allow_origins": [ORIGIN.decode()]}, preflight)
    assert refused.sent[1]["body"] == b"Disallowed CORS private-network"


@pytest.mark.parametrize(("version", "allowed"), [(v, False) for v in OLD] + [("newest", True)])
def test_query_is_among_all_methods_from_1_7(impl: ModuleType, version: str, allowed: bool) -> None:
    preflight = http_scope("OPTIONS", [(b"origin", ORIGIN), (b"access-control-request-method", b"QUERY")])
    outcome = answer(impl, version, {"allow_origins": [ORIGIN.decode()], "allow_methods": ["*"]}, preflight)
    assert outcome.sent[0]["status"] == (200 if allowed else 400)


# ---------------------------------------------------------------------------- advice


@pytest.mark.parametrize("version", OLD)
def test_check_config_says_what_the_newest_answers_fix(version: str) -> None:
    problems = check_config(allow_origins=["*"], allow_methods=["*"], starlette_version=version)
    codes = {p.code for p in problems}
    assert {"starlette-vary", "starlette-all-methods"} <= codes
    assert ("starlette-wildcard-cookie" in codes) == (version != "1.6.0")
    assert all(p.advice and "starlette_version='newest'" in p.message for p in problems)
    assert check_config(allow_origins=["*"], allow_methods=["*"], starlette_version="newest") == []


def test_advice_is_logged_at_info_and_never_raised_by_strict(
    impl: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fastcors")
    impl.CORSMiddleware(None, allow_origins=["https://a.example"], starlette_version="1.6.0", strict=True)
    [record] = [r for r in caplog.records if "Vary: Origin" in r.getMessage()]
    assert record.levelno == logging.INFO
