"""Per-path policies follow the router: `paths=` prefixes are matched against the path the installed
Starlette's router matches (the route path), not the raw `scope["path"]`.

The property, checked against the real Starlette router installed (the generation suite runs this
file in every release's env, and its no-Starlette test in the env without one): a request that a
route answers gets exactly the policy declared for that route's prefix; a request no route answers
gets the policy of the prefix its route path falls under, or the top level's. Both with the
middleware on the outer app and inside a mounted sub-application, for root paths that prefix the
path or not, and for hostile paths (case, dot segments, `//`, look-alike prefixes).
"""

from __future__ import annotations

import asyncio
import os
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import http_scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastcors import CORSSettings, _routing
from fastcors._generations import installed_release

# A fifth of the differential suite's: a few segments and root paths make a small space, and
# each example runs Starlette's router twice.
EXAMPLES = max(60, int(os.environ.get("FASTCORS_DIFF_EXAMPLES", "300")) // 5)
ORIGIN = b"https://a.example"
PREFIXES = ["/public", "/public/v1", "/publicity", "/admin", "/internal", "/a.i", "/api"]
# Each policy says who it is: its expose_headers on simple responses, its max_age on preflights.
POLICY_NAMES = ["top", *PREFIXES]
DISABLED = "/internal"  # None: no CORS handling


def marked(name: str) -> CORSSettings:
    index = POLICY_NAMES.index(name)
    return CORSSettings(allow_origins=["*"], expose_headers=[f"x-policy-{index}"], max_age=index)


TOP = {name: value for name, value in vars(marked("top")).items() if name != "paths"}
PATHS: dict[str, CORSSettings | None] = {p: None if p == DISABLED else marked(p) for p in PREFIXES}

# Root paths as servers and mounts set them, and paths built of segments users and attackers send.
ROOT_PATHS = ["", "/api", "/api/", "/ap", "/a.i", "/public", "/v1/api", "/API"]
SEGMENTS = [
    "/", "/public", "/PUBLIC", "/Public", "/publicity", "/public-x", "/admin", "/ADMIN", "/admin-x", "/internal",
    "/v1", "/x", "/..", "/.", "/%2e%2e", "/%2F", "//", "/a.i", "/abi", "/api", "/apix", "/ap", "i", "x", "+",
    " ", "/a b", "\n",
]  # fmt: skip
segments = st.lists(st.sampled_from(SEGMENTS), max_size=4).map("".join)
root_paths = st.sampled_from(ROOT_PATHS)


def policy_shown(messages: list[dict[str, Any]]) -> str | None:
    """Which policy answered: its name, or None when the response has no CORS header at all."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    headers = dict(start["headers"])
    if b"access-control-expose-headers" in headers:
        return POLICY_NAMES[int(headers[b"access-control-expose-headers"].decode()[len("x-policy-") :])]
    if b"access-control-max-age" in headers:
        return POLICY_NAMES[int(headers[b"access-control-max-age"])]
    assert not any(name.startswith(b"access-control-") for name in headers), headers
    return None


def by_prefix(route_path: str | None) -> str | None:
    """The reference rule on a route path: the longest prefix it falls under, else the top level."""
    if route_path is None:
        return "top"
    # (A final newline is the end: Starlette's route regexes end in `$`, which matches before one.)
    matches = [p for p in PREFIXES if route_path in (p, p + "\n") or route_path.startswith(p + "/")]
    chosen = max(matches, key=len) if matches else "top"
    return None if chosen == DISABLED else chosen


def call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # (Starlette's routing needs an event loop)
    return sent


def request(method: str, path: str, root_path: str) -> dict[str, Any]:
    headers = [(b"origin", ORIGIN), (b"host", b"testserver")]
    if method == "OPTIONS":
        headers.append((b"access-control-request-method", b"GET"))
    scope = http_scope(method, headers, path=path)
    scope["root_path"] = root_path
    return scope


async def plain_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class Recorder:
    """The app under the middleware: records the scope it is called with (what its router sees)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.scope: dict[str, Any] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = dict(scope)
        await self.app(scope, receive, send)


def starlette_route_path(scope: dict[str, Any]) -> str:
    """The path the installed Starlette's router matches for `scope`, as Starlette computes it."""
    from starlette import _utils

    if hasattr(_utils, "get_route_path"):  # 0.35 on
        return _utils.get_route_path(scope)
    # Before 0.33, routes match scope["path"] (0.33 and 0.34 are not installed in any env).
    assert installed_release().startswith(("0.27.", "0.28.", "0.29.", "0.30.", "0.31.", "0.32.")), installed_release()
    return scope["path"]


def router(answered: list[str]) -> Any:
    """A Starlette router with a route and a mount for each prefix (the longest first) and a
    catch-all: each endpoint records which prefix's route answered it."""
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route, Router

    def endpoint(name: str) -> Any:
        async def answer(request: Any) -> Any:
            answered.append(name)
            return PlainTextResponse(name)

        return answer

    async def catch_all(request: Any) -> Any:
        answered.append("/" + request.path_params["rest"])  # the route path, as the route saw it
        return PlainTextResponse("catch-all")

    routes: list[Any] = []
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        routes += [Route(prefix, endpoint(prefix)), Mount(prefix, routes=[Route("/{rest:path}", endpoint(prefix))])]
    return Router([*routes, Route("/{rest:path}", catch_all)])


def expected_policy(answered: list[str], recorder: Recorder) -> str | None:
    if answered and answered[0] in PREFIXES:
        return None if answered[0] == DISABLED else answered[0]  # the answering route's prefix
    if answered:  # the catch-all, with the route path it matched
        return by_prefix(answered[0])
    assert recorder.scope is not None
    return by_prefix(starlette_route_path(recorder.scope))  # no route answered


async def outside(request: Any) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("outside the mount")


def check_both(impl: ModuleType, path: str, root_path: str, mounted: bool) -> None:
    """A GET's policy is its route's (or none outside the mount); a preflight's (which no route
    sees) the same as the GET of the same path."""
    from starlette.routing import Mount, Route, Router

    shown: dict[str, str | None] = {}
    for method in ("GET", "OPTIONS"):
        answered: list[str] = []
        recorder = Recorder(router(answered))
        middleware = impl.CORSMiddleware(recorder, **TOP, paths=PATHS)
        # Mounted: the middleware inside a sub-application at /v1, the outer app's own routes beside.
        app = Router([Mount("/v1", app=middleware), Route("/{rest:path}", outside)]) if mounted else middleware
        shown[method] = policy_shown(call(app, request(method, path, root_path)))
        if method == "GET":
            reached = recorder.scope is not None
            expected = expected_policy(answered, recorder) if reached else None
            assert shown["GET"] == expected, (path, root_path, answered)
    assert shown["OPTIONS"] == shown["GET"], (path, root_path)


@pytest.fixture(scope="module")
def requires_starlette() -> None:
    if installed_release() is None:
        pytest.fail("this test needs Starlette installed (the generation suite runs it in each release's env)")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(root_path=root_paths, under_root=st.booleans(), rest=segments, mounted=st.booleans())
def test_the_policy_is_the_answering_routes(
    impl: ModuleType, requires_starlette: None, root_path: str, under_root: bool, rest: str, mounted: bool
) -> None:
    prefix = "/v1" if mounted else ""
    path = (root_path if under_root else "") + prefix + rest
    check_both(impl, path, root_path, mounted)


@pytest.mark.parametrize(
    ("root_path", "under_root", "rest"),
    [
        ("/api", True, "/admin/x"),  # uvicorn --root-path /api: the root path inside path
        ("/api", False, "/admin/x"),  # hypercorn --root-path /api: not inside
        ("/public", True, "/admin/x"),  # a root path that looks like a prefix
        ("/api", True, "/public/x"),
        ("/api", True, ""),
        ("/api", True, "/internal/x"),
        ("/api", True, "/ADMIN/x"),
        ("/api", True, "/public/../admin/x"),
        ("/api", True, "//admin/x"),
        ("/api", True, "/admin\n"),
        ("/api", True, "/publicity"),
    ],
)
@pytest.mark.parametrize("mounted", [False, True], ids=["outer", "mounted"])
def test_deployments_from_the_issue(
    impl: ModuleType, requires_starlette: None, root_path: str, under_root: bool, rest: str, mounted: bool
) -> None:
    path = (root_path if under_root else "") + ("/v1" if mounted else "") + rest
    check_both(impl, path, root_path, mounted)


@pytest.fixture
def boundary_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule of Starlette 0.39 on (and without Starlette), whatever release is installed."""
    monkeypatch.setattr("fastcors._config.installed_rule", lambda: _routing.ROOT_PATH_AT_BOUNDARY)


def test_behind_a_root_path_the_raw_path_is_not_what_is_matched(impl: ModuleType, boundary_rule: None) -> None:
    # Under `uvicorn --root-path /api`, "/api/admin/x" is answered by the /admin route: its policy,
    # not the top level's (which the raw path, under no prefix, would select).
    middleware = impl.CORSMiddleware(plain_app, **TOP, paths=PATHS)
    assert policy_shown(call(middleware, request("OPTIONS", "/api/admin/x", "/api"))) == "/admin"
    assert policy_shown(call(middleware, request("OPTIONS", "/api/internal/x", "/api"))) is None


# The rule each installed release derives its route path by (checked against the real router above).
EXPECTED_RULES = {
    None: _routing.ROOT_PATH_AT_BOUNDARY,
    "0.27": _routing.PATH_AS_GIVEN,
    "0.37": _routing.ROOT_PATH_REGEX,
}


def test_the_rule_is_the_installed_routers() -> None:
    release = installed_release()
    key = None if release is None else ".".join(release.split(".")[:2])
    assert _routing.installed_rule() == EXPECTED_RULES.get(key, _routing.ROOT_PATH_AT_BOUNDARY)


def boundary_route_path(path: str, root_path: str) -> str:
    # The rule without Starlette (and of Starlette 0.39 on): the root path off the front of the
    # path where it prefixes it at a "/" boundary.
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        return path[len(root_path) :]
    return path


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root_path=root_paths, under_root=st.booleans(), rest=segments)
def test_the_boundary_rule(impl: ModuleType, boundary_rule: None, root_path: str, under_root: bool, rest: str) -> None:
    path = (root_path if under_root else "") + rest
    middleware = impl.CORSMiddleware(plain_app, **TOP, paths=PATHS)
    assert policy_shown(call(middleware, request("OPTIONS", path, root_path))) == by_prefix(
        boundary_route_path(path, root_path)
    )
