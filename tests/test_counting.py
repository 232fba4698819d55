"""Request counting (fastcors.request_counts) and its Prometheus counter, both implementations."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import (
    compiled_module,
    http_scope,
    preflight_scope,
    receive_nothing,
    require_modules,
    run,
    run_sync,
    run_ws,
    simple_scope,
    ws_scope,
)

import fastcors
from fastcors import _loader
from fastcors._counting import COUNTED

A = "https://a.example.com"
EVIL = "https://evil.example.net"
ARGS: dict[str, Any] = {"allow_origins": [A], "allow_methods": ["GET", "POST"], "allow_headers": ["x-ok"]}


@pytest.fixture
def counting() -> Iterator[None]:
    fastcors.count_requests()
    yield
    fastcors.count_requests(False)


def counted(impl: ModuleType, scopes: list[dict[str, Any]], **arguments: Any) -> Counter[tuple[str, str, str]]:
    """What answering `scopes` (one middleware) added to the counts."""
    middleware = impl.CORSMiddleware(None, **{**ARGS, **arguments})
    before = fastcors.request_counts()
    for scope in scopes:
        if scope["type"] == "websocket":
            run_ws(lambda app: _rewire(middleware, app), scope)
        else:
            run(lambda app: _rewire(middleware, app), scope)
    after = fastcors.request_counts()
    return Counter({key: after[key] - before[key] for key in after if after[key] != before[key]})


def _rewire(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware


def test_every_key_that_can_occur_is_there() -> None:
    counts = fastcors.request_counts()
    assert set(counts) == set(COUNTED)
    assert all(isinstance(value, int) and value >= 0 for value in counts.values())


@pytest.mark.parametrize(
    ("scope", "key"),
    [
        (simple_scope(None), ("none", "allowed", "none")),
        (http_scope("OPTIONS"), ("none", "allowed", "none")),
        (simple_scope(A), ("simple", "allowed", "none")),
        (simple_scope(EVIL), ("simple", "denied", "origin")),
        (preflight_scope(A), ("preflight", "allowed", "none")),
        (preflight_scope(A, "POST", "x-ok"), ("preflight", "allowed", "none")),
        (preflight_scope(EVIL), ("preflight", "denied", "origin")),
        (preflight_scope(A, "PUT"), ("preflight", "denied", "method")),
        (preflight_scope(A, "GET", "x-bad"), ("preflight", "denied", "headers")),
        # The first failed check in Starlette's order names the reason.
        (preflight_scope(EVIL, "PUT", "x-bad"), ("preflight", "denied", "origin")),
        (preflight_scope(A, "PUT", "x-bad"), ("preflight", "denied", "method")),
    ],
)
def test_each_request_is_counted_once_by_kind_and_first_reason(
    impl: ModuleType, counting: None, scope: dict[str, Any], key: tuple[str, str, str]
) -> None:
    assert counted(impl, [scope]) == {key: 1}


def test_private_network_refusals_are_counted(impl: ModuleType, counting: None) -> None:
    scope = preflight_scope(A)
    scope["headers"].append((b"access-control-request-private-network", b"true"))
    assert counted(impl, [scope], starlette_version="newest") == {("preflight", "denied", "private-network"): 1}


@pytest.mark.parametrize("version", ["1.6", "newest"])
def test_requests_without_origin_are_counted_in_every_generation(impl: ModuleType, counting: None, version: str):
    # Before 1.7 they pass through untouched; from 1.7 they get `vary`: counted either way.
    assert counted(impl, [simple_scope(None)], starlette_version=version) == {("none", "allowed", "none"): 1}


def test_star_and_reflected_origins_are_allowed(impl: ModuleType, counting: None) -> None:
    assert counted(impl, [simple_scope(EVIL)], allow_origins=["*"]) == {("simple", "allowed", "none"): 1}
    reflected = counted(impl, [simple_scope(EVIL)], allow_origins=["*"], allow_credentials=True)
    assert reflected == {("simple", "allowed", "none"): 1}


def test_websocket_handshakes_are_counted_where_the_guard_is_on(impl: ModuleType, counting: None) -> None:
    scopes = [ws_scope(A), ws_scope(EVIL), ws_scope(None)]
    assert counted(impl, scopes, websocket_origin_guard=True) == {
        ("websocket", "allowed", "none"): 1,
        ("websocket", "denied", "origin"): 1,
        ("none", "allowed", "none"): 1,
    }
    assert counted(impl, scopes) == {}  # the guard off: fastcors does not look at them


def test_path_policies_count_what_they_answer(impl: ModuleType, counting: None) -> None:
    paths = {"/admin": fastcors.CORSSettings(allow_origins=["https://admin.example.com"]), "/raw": None}
    scopes = [simple_scope(A, path="/admin/x"), simple_scope(A, path="/public"), simple_scope(A, path="/raw/x")]
    # /raw has no CORS handling: nothing is answered there, nothing counted.
    assert counted(impl, scopes, paths=paths) == {("simple", "denied", "origin"): 1, ("simple", "allowed", "none"): 1}


def test_nothing_is_counted_when_counting_is_off(impl: ModuleType) -> None:
    fastcors.count_requests(False)
    assert counted(impl, [simple_scope(A), preflight_scope(EVIL), simple_scope(None)]) == {}


def test_counting_starts_in_middleware_built_before(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(None, **ARGS)
    before = fastcors.request_counts()
    fastcors.count_requests()
    try:
        run(lambda app: _rewire(middleware, app), preflight_scope(A, "PUT"))
    finally:
        fastcors.count_requests(False)
    after = fastcors.request_counts()
    assert after[("preflight", "denied", "method")] - before[("preflight", "denied", "method")] == 1


def test_counts_are_exact_across_threads(impl: ModuleType, counting: None) -> None:
    # Without the GIL (free-threaded builds) too: every increment lands.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message: Any) -> None:
        pass

    middleware = impl.CORSMiddleware(app, **ARGS)
    threads, each = 8, 500
    before = fastcors.request_counts()
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for i in range(each):
            run_sync(middleware(preflight_scope(A) if i % 2 else simple_scope(EVIL), receive_nothing, send))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    after = fastcors.request_counts()
    assert after[("preflight", "allowed", "none")] - before[("preflight", "allowed", "none")] == threads * each // 2
    assert after[("simple", "denied", "origin")] - before[("simple", "denied", "origin")] == threads * each // 2


# ---------------------------------------------------------------------------- Prometheus


def test_the_prometheus_counter_gets_the_counts() -> None:
    # Once per process (a second registry is refused): both implementations in one test.
    require_modules("prometheus_client")
    import prometheus_client

    import fastcors.prometheus

    registry = prometheus_client.CollectorRegistry()
    fastcors.prometheus.enable(registry)
    try:
        with pytest.raises(ValueError, match="another registry"):
            fastcors.prometheus.enable(prometheus_client.CollectorRegistry())
        fastcors.prometheus.enable(registry)  # the same registry again: nothing happens

        def value(*labels: str) -> float:
            names = dict(zip(("kind", "outcome", "reason"), labels, strict=True))
            sample = registry.get_sample_value("fastcors_requests_total", names)
            assert sample is not None
            return sample

        assert all(value(*key) == 0 for key in COUNTED)  # every series from the start
        for impl in (compiled_module(), _loader.load_pure_python()):
            counted(impl, [preflight_scope(A, "PUT"), simple_scope(EVIL), simple_scope(EVIL), simple_scope(None)])
        fastcors.prometheus.flush()
        assert value("preflight", "denied", "method") == 2
        assert value("simple", "denied", "origin") == 4
        assert value("none", "allowed", "none") == 2
        fastcors.prometheus.flush()  # nothing new: nothing added twice
        assert value("simple", "denied", "origin") == 4
        # The report-only candidate's reports, in the second counter (from 0 at enable()).
        assert (
            registry.get_sample_value(
                "fastcors_report_only_total", {"kind": "simple", "change": "would_deny", "reason": "origin"}
            )
            == 0
        )
        middleware = fastcors.CORSMiddleware(None, allow_origins=[A], report_only=fastcors.CORSSettings())
        run(lambda app: _rewire(middleware, app), simple_scope(A))
        fastcors.prometheus.flush()
        reported = {"kind": "simple", "change": "would_deny", "reason": "origin"}
        assert registry.get_sample_value("fastcors_report_only_total", reported) == 1
    finally:
        fastcors.count_requests(False)
