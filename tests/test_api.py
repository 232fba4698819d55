"""The public surface: Starlette's signature, implementation choice, ASGI 3 detection,
pass-through of non-http scopes, bounded caches, clear configuration errors."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import IN_CI, http_scope, memo_size, remembered, run, run_sync, simple_scope
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

import fastcors
from fastcors import _loader
from fastcors._rules import MEMO_SLOTS


async def ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_same_parameters_and_defaults_as_starlette(impl: ModuleType) -> None:
    ours = inspect.signature(impl.CORSMiddleware.__init__).parameters
    theirs = inspect.signature(StarletteCORSMiddleware.__init__).parameters
    for name, param in theirs.items():
        assert name in ours, name
        assert ours[name].default == param.default, name
        assert ours[name].kind == param.kind, name
    assert list(ours)[: len(theirs)] == list(theirs)  # same positional order


def test_the_compiled_extension_is_used_in_ci() -> None:
    """CI must never silently test only the pure-Python path."""
    if not IN_CI:
        pytest.skip("only enforced in CI (CI is not set)")
    assert fastcors.COMPILED is True
    assert _loader.load_compiled().COMPILED is True


@pytest.mark.parametrize("value, expect_compiled", [("1", False), ("", None), ("0", None)])
def test_environment_variable_selects_pure_python(value: str, expect_compiled: bool | None) -> None:
    env = dict(os.environ, FASTCORS_NO_EXTENSIONS=value)
    code = "import fastcors; print(fastcors.COMPILED, fastcors.CORSMiddleware.__module__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    compiled, module = out.split()
    if expect_compiled is None:  # the default: compiled whenever the extension was built
        expect_compiled = _extension_built()
    assert compiled == str(expect_compiled)
    assert module == ("fastcors._core" if expect_compiled else "fastcors._core_py")


def _extension_built() -> bool:
    try:
        _loader.load_compiled()
    except ImportError:
        return False
    return True


def test_implementations_report_what_they_are(impl: ModuleType) -> None:
    assert impl.COMPILED is (impl.__name__ == "fastcors._core")


def test_servers_see_an_asgi3_application(impl: ModuleType) -> None:
    """uvicorn asks asyncio.iscoroutinefunction, hypercorn inspect.iscoroutinefunction."""
    middleware = impl.CORSMiddleware(ok_app)
    assert asyncio.iscoroutinefunction(middleware.__call__)
    assert inspect.iscoroutinefunction(middleware.__call__)

    import hypercorn.utils
    import uvicorn.config

    assert hypercorn.utils.is_asgi(middleware)
    config = uvicorn.config.Config(app=middleware)
    config.load()
    assert config.interface == "asgi3"


def test_calling_dunder_call_explicitly_behaves_like_calling_the_instance(impl: ModuleType) -> None:
    scope = simple_scope(b"https://a.example")
    direct = run(lambda app: impl.CORSMiddleware(app, allow_origins=["https://a.example"]), scope)
    via_attribute = run(lambda app: impl.CORSMiddleware(app, allow_origins=["https://a.example"]).__call__, scope)
    assert direct == via_attribute
    assert direct.sent[0]["headers"] == [(b"access-control-allow-origin", b"https://a.example"), (b"vary", b"Origin")]


@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
def test_other_scopes_pass_through_untouched(impl: ModuleType, scope_type: str) -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    scope = {"type": scope_type, "headers": ((b"origin", b"https://evil.example"),)}

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing may be sent")

    run_sync(impl.CORSMiddleware(app, allow_origins=["https://a.example"])(scope, receive, send))
    assert len(seen) == 1
    assert seen[0][0] is scope and seen[0][1] is receive and seen[0][2] is send
    assert scope["headers"] == ((b"origin", b"https://evil.example"),)  # not even normalised


def test_app_attribute_can_be_repointed(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(None)
    middleware.app = ok_app
    assert middleware.app is ok_app
    outcome = run(lambda app: middleware, http_scope())
    assert outcome.error is None
    assert outcome.sent[0]["headers"] == [(b"vary", b"Origin")]


def test_memos_keyed_by_request_data_stay_bounded(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(
        ok_app, allow_origin_regex=r"https://.*\.example\.com", allow_headers=["x-a"], allow_methods=["GET"]
    )
    policy = middleware.policy
    sizes = set()
    for i in range(2 * MEMO_SLOTS + 500):
        origin, requested = b"https://h%d.example.com" % i, b"x-a, x-%d" % i
        headers = [(b"origin", origin), (b"access-control-request-method", b"GET")]
        run(lambda app: middleware, http_scope("OPTIONS", [*headers, (b"access-control-request-headers", requested)]))
        # The newest verdicts are remembered, and right.
        assert remembered(policy.origins.regex_verdicts, origin) is True
        assert remembered(policy.preflight.headers.verdicts, requested) is False
        for memo in (policy.origins.regex_verdicts, policy.preflight.headers.verdicts):
            assert len(memo) <= MEMO_SLOTS
            sizes.add(memo_size(memo))
    # Never above the bound, and filled (the regex's allowed half, compiled) nearly to it: a
    # compiled pair of slots that hashes spread unevenly may hold one key, or none.
    assert MEMO_SLOTS // 2 - 8 <= max(sizes) <= MEMO_SLOTS


def test_memo_keeps_allowed_keys_under_a_flood_of_refused_ones(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origin_regex=r"https://[a-z]+\.example\.com")
    allowed = [b"https://%s.example.com" % name for name in (b"a", b"bb", b"ccc", b"dddd")]
    for origin in allowed:
        run(lambda app: middleware, simple_scope(origin))
    for i in range(4 * MEMO_SLOTS):  # refused: a digit
        run(lambda app: middleware, simple_scope(b"https://x%d.example.com" % i))
    memo = middleware.policy.origins.regex_verdicts
    assert [remembered(memo, origin) for origin in allowed] == [True] * 4
    assert remembered(memo, b"https://x%d.example.com" % (4 * MEMO_SLOTS - 1)) is False
    assert len(memo.slots) == MEMO_SLOTS and len(memo) <= MEMO_SLOTS // 2 + 4


def test_remembered_regex_verdicts_belong_to_their_origin(impl: ModuleType) -> None:
    # Origins of one length, allowed and refused in turn, each seen again and again.
    middleware = impl.CORSMiddleware(ok_app, allow_origin_regex=r"https://[ab]\.example\.com")
    sequence = [b"https://a.example.com", b"https://c.example.com", b"https://b.example.com"] * 2
    for origin in sequence + sorted(sequence) + sorted(sequence, reverse=True):
        outcome = run(lambda app: middleware, http_scope(headers=[(b"origin", origin)]))
        named = (b"access-control-allow-origin", origin) in outcome.sent[0]["headers"]
        assert named == (origin != b"https://c.example.com"), origin


def test_remembered_header_verdicts_belong_to_their_list(impl: ModuleType) -> None:
    # Requested lists of one length, allowed and refused in turn, each seen again and again.
    middleware = impl.CORSMiddleware(ok_app, allow_origins=["https://a.example.com"], allow_headers=["x-a", "x-b"])
    sequence = [b"x-a", b"x-c", b"x-b"] * 2
    for requested in sequence + sorted(sequence) + sorted(sequence, reverse=True):
        headers = [
            (b"origin", b"https://a.example.com"),
            (b"access-control-request-method", b"GET"),
            (b"access-control-request-headers", requested),
        ]
        outcome = run(lambda app: middleware, http_scope("OPTIONS", headers))
        assert (outcome.sent[0]["status"] == 200) == (requested != b"x-c"), requested


def test_long_values_are_not_cached(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(ok_app, allow_origin_regex=r"https://.*\.example\.com")
    long_origin = b"https://" + b"a" * 65536 + b".example.com"
    outcome = run(lambda app: middleware, simple_scope(long_origin))
    assert (b"access-control-allow-origin", long_origin) in outcome.sent[0]["headers"]
    assert memo_size(middleware.policy.origins.regex_verdicts) == 0


@pytest.mark.parametrize(
    "config, argument",
    [
        ({"allow_methods": ["GET", "\u0420\u0423\u0422"]}, "allow_methods"),
        ({"expose_headers": ["X-\u2603"]}, "expose"),
        ({"allow_headers": ["X-\u2603"]}, "allow_headers"),
    ],
)
def test_headers_that_cannot_be_sent_are_refused_at_construction(
    impl: ModuleType, config: dict[str, Any], argument: str
) -> None:
    """Starlette accepts these and then fails on every response that carries them."""
    with pytest.raises(fastcors.CORSConfigError, match=argument):
        impl.CORSMiddleware(ok_app, **config)


def test_bytes_regex_is_refused_at_construction(impl: ModuleType) -> None:
    with pytest.raises(TypeError, match="allow_origin_regex"):
        impl.CORSMiddleware(ok_app, allow_origin_regex=rb"https://.*")


@pytest.mark.parametrize(
    "config",
    [
        {"allow_origins": None},
        {"allow_methods": None},
        {"allow_headers": [1, "x"]},
        {"allow_origin_regex": "("},
        {"expose_headers": [None]},
    ],
)
def test_configurations_starlette_rejects_are_rejected_alike(impl: ModuleType, config: dict[str, Any]) -> None:
    with pytest.raises(Exception) as theirs:
        StarletteCORSMiddleware(ok_app, **config)
    with pytest.raises(type(theirs.value)):
        impl.CORSMiddleware(ok_app, **config)


@pytest.mark.parametrize(
    "bad_headers",
    [
        [(b"origin",)],
        [(b"origin", b"x", b"y")],
        [None],
        [(b"origin", "https://str.example")],
        [(b"origin", 5)],
        [(b"origin", None), (b"origin", b"https://a.example")],  # a None value is not "absent"
        5,
    ],
)
def test_malformed_request_headers_raise_python_exceptions(impl: ModuleType, bad_headers: Any) -> None:
    scope = http_scope()
    scope["headers"] = bad_headers
    ours = run(lambda app: impl.CORSMiddleware(app, allow_origins=["*"]), scope)
    theirs = run(lambda app: StarletteCORSMiddleware(app, allow_origins=["*"]), scope)
    assert ours.error is not None
    assert ours.error == theirs.error


def test_malformed_items_after_the_origin_of_a_simple_request_are_not_read(impl: ModuleType) -> None:
    """Starlette stops reading at the first Origin of a non-preflight request; so does fastcors."""
    scope = http_scope(headers=[(b"origin", b"https://a.example"), (b"x", b"y", b"z")])
    ours = run(lambda app: impl.CORSMiddleware(app, allow_origins=["*"]), scope)
    theirs = run(lambda app: StarletteCORSMiddleware(app, allow_origins=["*"]), scope)
    assert ours == theirs
    assert ours.error is None
