"""Each rule of _rules on its own, on both implementations: built from a Config, asked directly
(through `ask`, Python's door to what the request path calls as C).

The behaviour suites check the answers these rules lead to; here each rule's own contract: what
it answers, in which order it asks, and what it remembers.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from types import ModuleType
from typing import Any

import pytest

from fastcors._config import ANY_ORIGIN, SMALL_SET, UNLISTED_ORIGIN, Config
from fastcors._routing import ROOT_PATH_AT_BOUNDARY
from fastcors._settings import CORSSettings, prepare

A, B = b"https://a.example", b"https://b.example"


@pytest.fixture
def rules(impl: ModuleType) -> ModuleType:
    return sys.modules["fastcors._rules" if impl.COMPILED else "fastcors._rules_py"]


def config(**arguments: Any) -> Config:
    return prepare(CORSSettings(**arguments))[0]


# ---- OriginRule ------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [1, SMALL_SET + 1])  # the flat tuple, then the dict
def test_origin_rule_gives_the_exact_sets_ready_answers(rules: ModuleType, count: int) -> None:
    origins = [f"https://{i}.example" for i in range(count - 1)] + [A.decode()]
    built = config(allow_origins=origins, allow_methods=["GET", "PUT"])
    rule = rules.OriginRule(built)
    suffix, preflight_headers = rule.ask(A)
    assert (suffix, preflight_headers) == built.origin_answers[A]
    assert (b"access-control-allow-origin", A) in suffix and (b"access-control-allow-origin", A) in preflight_headers
    for refused in (B, A + b"/", A[:-1], A + b"x" * 100, b""):
        assert rule.ask(refused) is None, refused


def test_origin_rule_star_allows_every_origin_without_naming_it(rules: ModuleType) -> None:
    rule = rules.OriginRule(config(allow_origins=["*"]))
    for origin in (A, b"null", b"", b"\xff" * 300):
        assert rule.ask(origin) is ANY_ORIGIN


def test_origin_rule_regex_answers_unlisted_and_remembers_its_verdicts(rules: ModuleType) -> None:
    rule = rules.OriginRule(config(allow_origins=[A.decode()], allow_origin_regex=r"https://[a-z]\.example"))
    assert isinstance(rule.ask(A), tuple)  # the exact set first: the regex is not asked
    assert rule.regex_verdicts.known(A) is None
    assert rule.ask(B) is UNLISTED_ORIGIN
    assert rule.ask(b"https://bb.example") is None
    assert rule.regex_verdicts.known(B) is True
    assert rule.regex_verdicts.known(b"https://bb.example") is False
    assert len(rule.regex_verdicts) == 2


def test_origin_rule_fallback_tests_membership_as_starlette_does(rules: ModuleType) -> None:
    # allow_origins a str: Starlette's `in` is a substring test, and so is this rule's.
    rule = rules.OriginRule(config(allow_origins="https://a.example"))
    assert rule.ask(b"https://a") is UNLISTED_ORIGIN
    assert rule.ask(B) is None


def test_origin_rule_patterns_allow_what_they_describe(rules: ModuleType) -> None:
    rule = rules.OriginRule(config(allow_origin_patterns=["https://*.example.com"]))
    for allowed in (b"https://a.example.com", b"https://x.y.example.com", b"https://a.example.com"):
        assert rule.ask(allowed) is UNLISTED_ORIGIN, allowed
    for refused in (b"https://example.com", b"https://a.example.com.evil", b"http://a.example.com", b"https://.example.com"):
        assert rule.ask(refused) is None, refused


def test_origin_rule_asks_the_function_every_time_after_the_other_rules(rules: ModuleType) -> None:
    asked: list[str] = []

    def allow(origin: str) -> bool:
        asked.append(origin)
        return origin.endswith(".trusted")

    rule = rules.OriginRule(config(allow_origins=[A.decode()], allow_origin_func=allow))
    assert isinstance(rule.ask(A), tuple)
    assert asked == []
    for _ in range(3):
        assert rule.ask(b"https://x.trusted") is UNLISTED_ORIGIN
        assert rule.ask(B) is None
    assert asked == ["https://x.trusted", B.decode()] * 3  # never cached


def test_origin_rule_refuses_where_the_function_raises(rules: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    def broken(origin: str) -> bool:
        raise RuntimeError("down")

    rule = rules.OriginRule(config(allow_origin_func=broken))
    with caplog.at_level(logging.ERROR, logger="fastcors"):
        assert rule.ask(A) is None
    assert "allow_origin_func raised" in caplog.text and "RuntimeError: down" in caplog.text


# ---- MethodRule ------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [0, SMALL_SET])  # the flat tuple, then the set
def test_method_rule_allows_the_listed_methods_exactly(rules: ModuleType, extra: int) -> None:
    methods = ["GET", "PUT", *(f"X-{i}" for i in range(extra))]
    rule = rules.MethodRule(config(allow_methods=methods))
    assert rule.ask(b"GET") and rule.ask(b"PUT")
    for refused in (b"get", b"POST", b"GE", b"GETT", b"", b"PUT " * 100):
        assert not rule.ask(refused), refused


def test_method_rule_star_and_fallback(rules: ModuleType) -> None:
    assert rules.MethodRule(config(allow_methods=["*"])).ask(b"PATCH")
    # A str: Starlette's substring test.
    fallback = rules.MethodRule(config(allow_methods="GET,POST"))
    assert fallback.ask(b"T,P") and not fallback.ask(b"PUT")


# ---- HeaderRule ------------------------------------------------------------------------------
def test_header_rule_judges_the_whole_list_and_remembers_it(rules: ModuleType) -> None:
    rule = rules.HeaderRule(config(allow_headers=["X-A", "X-B"]))
    assert rule.ask(b"x-a, X-B,content-type")
    assert not rule.ask(b"x-a, x-c")
    assert rule.verdicts.known(b"x-a, X-B,content-type") is True
    assert rule.verdicts.known(b"x-a, x-c") is False


def test_header_rule_does_not_remember_long_lists(rules: ModuleType) -> None:
    rule = rules.HeaderRule(config(allow_headers=["X-A"]))
    long_list = b", ".join([b"x-a"] * (rules.MEMO_KEY_BYTES // 5 + 1))
    assert len(long_list) > rules.MEMO_KEY_BYTES
    assert rule.ask(long_list) and not rule.ask(long_list + b", x-b")
    assert len(rule.verdicts) == 0


# ---- Memo ------------------------------------------------------------------------------------
def test_memo_recalls_what_it_learned(rules: ModuleType) -> None:
    memo = rules.Memo()
    memo.learn(A, True)
    memo.learn(B, False)
    assert (memo.known(A), memo.known(B), memo.known(b"other")) == (True, False, None)
    assert memo.known(A) is True  # again: now through the last key seen twice
    memo.learn(b"x" * (rules.MEMO_KEY_BYTES + 1), True)  # too long: not remembered
    assert memo.known(b"x" * (rules.MEMO_KEY_BYTES + 1)) is None
    assert len(memo) == 2


def test_memo_is_bounded_and_refusals_never_displace_verdicts_allowed(rules: ModuleType) -> None:
    memo = rules.Memo()
    allowed = [b"allowed-%d" % i for i in range(8)]
    for key in allowed:
        memo.learn(key, True)
    for i in range(8 * rules.MEMO_SLOTS):
        memo.learn(b"refused-%d" % i, False)
    assert [memo.known(key) for key in allowed] == [True] * 8
    assert len(memo.slots) == rules.MEMO_SLOTS and len(memo) <= rules.MEMO_SLOTS // 2 + len(allowed)


# ---- PathPolicies ----------------------------------------------------------------------------
def path_rules(rules: ModuleType, rule: int = ROOT_PATH_AT_BOUNDARY) -> Any:
    built = config(paths={"/admin": CORSSettings(), "/admin/public": None, "/": CORSSettings()})
    built = dataclasses.replace(built, route_path_rule=rule)
    return rules.PathPolicies(built, tuple(prefix for prefix, _ in built.paths))


@pytest.mark.parametrize(
    "path, root_path, policy",
    [
        ("/admin", "", "/admin"),
        ("/admin/users", "", "/admin"),
        ("/admin\n", "", "/admin"),  # Starlette's `$` matches before a final newline
        ("/administrator", "", "/"),  # a prefix ends at a "/" boundary
        ("/admin/public/x", "", "/admin/public"),  # the longest prefix wins
        ("/api/admin/users", "/api", "/admin"),  # the route path: after the root path
        ("/apix/admin", "/api", "/"),  # a root path that is not at a boundary is not taken off
        ("/other", "", "/"),
    ],
)
def test_path_policies_pick_the_longest_prefix_of_the_route_path(
    rules: ModuleType, path: str, root_path: str, policy: str
) -> None:
    assert path_rules(rules).ask({"type": "http", "path": path, "root_path": root_path}) == policy


def test_path_policies_leave_scopes_without_a_path_to_the_default(rules: ModuleType) -> None:
    policies = path_rules(rules)
    for scope in ({"type": "lifespan"}, {"type": "http", "path": b"/admin"}, ["not", "a", "dict"]):
        assert policies.ask(scope) is ...
