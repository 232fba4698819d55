"""Policies per path prefix: every request answered exactly as Starlette's CORSMiddleware built
with the selected arguments would answer it (or as no middleware, for None)."""

from __future__ import annotations

import dataclasses
import logging
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import http_scope, run, run_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from test_differential import EXAMPLES, configs, requests, responses

from fastcors import CORSConfigError, CORSSettings, check_config

PREFIXES = ["/", "/public", "/public/v1", "/publicity", "/api", "/API", "/api/partner", "/a"]
PATHS = [
    "/", "", "/public", "/public/", "/public/x", "/publicity", "/public-x", "//public", "/PUBLIC",
    "/public/v1", "/public/v10", "/api", "/api/partner/x", "/API/x", "/a", "/ab", "/a/b", "*", "/api?x",
    "/public\n", "/public\n/x", "/api/partner\n",
]  # fmt: skip

path_policies = st.dictionaries(
    st.sampled_from(PREFIXES), st.one_of(st.none(), configs.map(lambda kw: CORSSettings(**kw))), max_size=5
)


def selected(path_map: dict[str, CORSSettings | None], path: Any) -> tuple[bool, dict[str, Any] | None]:
    """The reference rule: (whether a path policy applies, its arguments or None)."""
    if not isinstance(path, str):
        return False, None
    # (A final newline is the end: Starlette's route regexes end in `$`, which matches before one.)
    matches = [p for p in path_map if p == "/" or path in (p, p + "\n") or path.startswith(p + "/")]
    if not matches:
        return False, None
    chosen = path_map[max(matches, key=len)]
    if chosen is None:
        return True, None
    return True, {name: value for name, value in vars(chosen).items() if name in STARLETTE_ARGUMENTS}


STARLETTE_ARGUMENTS = (
    "allow_origins", "allow_methods", "allow_headers", "allow_credentials", "allow_origin_regex",
    "allow_private_network", "expose_headers", "max_age",
)  # fmt: skip


def constructible(arguments: dict[str, Any]) -> bool:
    try:
        StarletteCORSMiddleware(None, **arguments)
        CORSSettings(**arguments).validate()
    except Exception:
        return False
    return True


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=configs,
    path_map=path_policies,
    scope=requests,
    path=st.one_of(st.sampled_from(PATHS), st.text(max_size=8)),
    response=responses(),
)
def test_same_messages_as_starlette_with_the_selected_arguments(
    impl: ModuleType, top: dict[str, Any], path_map: dict[str, Any], scope: dict[str, Any], path: str, response: Any
) -> None:
    policies = [top, *(vars(s) for s in path_map.values() if s is not None)]
    if not all(constructible({k: v for k, v in p.items() if k in STARLETTE_ARGUMENTS}) for p in policies):
        return  # refused configurations are the plain differential suite's business
    scope["path"] = path
    has_policy, arguments = selected(path_map, path)
    ours = run(lambda app: impl.CORSMiddleware(app, **top, paths=path_map), scope, response)
    if has_policy and arguments is None:
        theirs = run(lambda app: app, scope, response)  # no CORS handling: as if no middleware
    else:
        chosen = arguments if has_policy else top
        theirs = run(lambda app: StarletteCORSMiddleware(app, **chosen), scope, response)
    assert ours == theirs


# Each prefix's policy marks its answers, so that choosing the wrong one always shows.
MARKED = {p: CORSSettings(allow_origins=["*"], expose_headers=[f"x-policy{p.replace('/', '-')}"]) for p in PREFIXES}
PATH_MAPS = [
    MARKED,
    {p: s for p, s in MARKED.items() if p != "/"},
    {**{p: s for p, s in MARKED.items() if p != "/"}, "/public": None},
    {"/api": MARKED["/api"], "/api/partner": None},
]


@pytest.mark.parametrize("path", [*PATHS, "/api/partner", "/public/v1/x", "/api/partners"])
@pytest.mark.parametrize("which", range(len(PATH_MAPS)))
def test_the_longest_matching_prefix_is_selected(impl: ModuleType, path: str, which: int) -> None:
    path_map = PATH_MAPS[which]
    scope = http_scope("GET", [(b"origin", b"https://a.example")], path=path)
    top = {"allow_origins": ["https://a.example"], "expose_headers": ["x-top"]}
    has_policy, arguments = selected(path_map, path)
    ours = run(lambda app: impl.CORSMiddleware(app, **top, paths=path_map), scope)
    if has_policy and arguments is None:
        theirs = run(lambda app: app, scope)
    else:
        theirs = run(lambda app: StarletteCORSMiddleware(app, **(arguments if has_policy else top)), scope)
    assert ours == theirs


def test_none_hands_the_app_the_servers_own_send(impl: ModuleType) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(send)

    async def send(message: Any) -> None:
        pass

    middleware = impl.CORSMiddleware(app, allow_origins=["*"], paths={"/internal": None})
    for path in ("/internal", "/internal/x", "/internally"):
        scope = http_scope("GET", [(b"origin", b"https://a.example")], path=path)
        run_sync(middleware(scope, None, send))
    assert seen[0] is send and seen[1] is send and seen[2] is not send


def test_websocket_handshakes_follow_the_selected_guard(impl: ModuleType) -> None:
    guarded = CORSSettings(allow_origins=["https://a.example"], websocket_origin_guard=True)
    middleware = impl.CORSMiddleware(None, allow_origins=["https://a.example"], paths={"/ws": guarded})
    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    middleware.app = app
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    for path in ("/ws/chat", "/other"):
        scope = {"type": "websocket", "path": path, "headers": [(b"origin", b"https://evil.example")]}
        run_sync(middleware(scope, receive, send))
    assert called == ["/other"]  # the guarded path refused the handshake
    assert sent and sent[0]["type"] == "websocket.close"


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ({"public": CORSSettings()}, "must start with '/'"),
        ({"/public/": CORSSettings()}, "write '/public'"),
        ({"": CORSSettings()}, "must start with '/'"),
        ({1: CORSSettings()}, "must start with '/'"),
        ({"/public": {"allow_origins": ["*"]}}, "must be a fastcors.CORSSettings"),
        ({"/public": CORSSettings(paths={"/x": None})}, "paths of its own"),
        ({"/public": CORSSettings(debug=True)}, "debug=True contradicts the top level's debug=False"),
        ({"/public": CORSSettings(starlette_version="1.6")}, "starlette_version='1.6' contradicts"),
        (["/public"], "must be a dict"),
    ],
)
def test_bad_paths_are_refused_with_the_fix(impl: ModuleType, paths: Any, message: str) -> None:
    with pytest.raises(CORSConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        impl.CORSMiddleware(None, paths=paths)


def test_a_path_may_repeat_the_top_levels_strict_and_inherits_it(impl: ModuleType) -> None:
    with pytest.raises(CORSConfigError, match=r"paths\['/public'\]: allowed origin"):
        impl.CORSMiddleware(None, strict=True, paths={"/public": CORSSettings(allow_origins=["https://a.example/"])})
    middleware = impl.CORSMiddleware(None, strict=True, paths={"/public": CORSSettings(strict=True)})
    assert middleware.settings.paths["/public"].strict


def test_paths_inherit_the_starlette_generation(impl: ModuleType) -> None:
    middleware = impl.CORSMiddleware(None, starlette_version="0.46.2", paths={"/public": CORSSettings()})
    [(prefix, config)] = middleware.config.paths
    assert prefix == "/public" and config.generation is middleware.config.generation


def test_check_config_names_the_path(caplog: pytest.LogCaptureFixture) -> None:
    problems = check_config(
        paths={"/": CORSSettings(), "/public?x": None, "/partner": CORSSettings(allow_origins=["https://p.example/"])}
    )
    by_code = {p.code: p for p in problems}
    assert by_code["paths-top-level-unused"].value == "/"
    assert by_code["path-never-selected"].value == "/public?x"
    slash = by_code["origin-trailing-slash"]
    assert slash.argument == "paths['/partner'].allow_origins" and slash.message.startswith("paths['/partner']: ")


def test_reconfigure_swaps_the_path_table(impl: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    middleware = impl.CORSMiddleware(None, allow_origins=["https://a.example"])
    scope = http_scope("GET", [(b"origin", b"https://b.example")], path="/public/x")

    def allow_origin() -> Any:
        outcome = run(lambda app: _rewired(middleware, app), scope)
        return dict(outcome.sent[0]["headers"]).get(b"access-control-allow-origin")

    assert allow_origin() is None
    middleware.reconfigure(middleware.settings, paths={"/public": CORSSettings(allow_origins=["*"])})
    assert allow_origin() == b"*"
    assert dataclasses.replace(middleware.settings, paths=None) == CORSSettings(allow_origins=["https://a.example"])


def _rewired(middleware: Any, app: Any) -> Any:
    middleware.app = app
    return middleware
