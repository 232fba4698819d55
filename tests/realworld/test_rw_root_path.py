"""Per-path policies follow the route, under a root path, behind nginx and inside mounts.

The property, for both implementations:
  - a request that a route answers gets exactly the policy declared for that route's prefix;
  - a request that no route answers gets the policy of the prefix its route path falls under,
    or the top level's;
  - hostile paths never get a policy more permissive than the answering route's: its answers
    let the browser do nothing (read the response, send credentials, pass a preflight, see any
    CORS header at all) that the answers of the route's own policy would not.
"The route path" is the path the installed Starlette's router matches (get_route_path), which
the served app reports with each answer (x-rw-scope, taken just outside the middleware), and
"a prefix falls under" is matched here independently of fastcors (`longest_prefix`). A route
with a path converter (/public/{rest:path}) also answers paths under the more specific prefix
/public/locked: those get /public/locked's policy, the one declared for them (never more
permissive than /public's, checked).

rw_served.root_path_api serves four apps (Starlette and FastAPI; fastcors on the outer app, or
inside a sub-app mounted at /v1 and /public); policies relative to the middleware's app: top
level one origin with credentials; /admin no origin; /internal None; /public "*"; /public/locked
no origin. Each answer names its policy (expose-headers x-policy-<name>, a max-age per policy)
and its route (x-route). Deployments, each a real server process (and a real nginx):
  uvicorn                   no root path
  uvicorn-root-path         uvicorn --root-path /api: uvicorn prepends it to path (a proxy in
                            front is expected to have stripped it), so requests come without it
  hypercorn-root-path       hypercorn --root-path /api: not prepended, requests come with it
  granian-url-path-prefix   granian --url-path-prefix /api: as hypercorn
  nginx-strip-uvicorn       nginx `location /api/ { proxy_pass http://backend/; }` (the prefix
                            stripped, the URI normalized) to uvicorn --root-path /api
  nginx-pass-hypercorn      nginx `location /api/ { proxy_pass http://backend; }` (the URI as the
                            client sent it) to hypercorn --root-path /api
Every request is sent with http.client, byte for byte as written here (no normalization).
Each request path gets four probes: a GET from the top level's origin with a cookie, a GET from
another origin, and a preflight from each. The table printed at the end: per app and path, the
route that answered and the policy applied, per deployment.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import json
import re
import shutil
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asgi_harness import compiled_module, unavailable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.launch import HOST, ServerError, ServerProcess, free_port
from fastcors import _loader

from .rw_served.root_path_api import (
    APPS,
    EVIL_ORIGIN,
    MIDDLEWARE_MOUNTS,
    POLICIES,
    POLICY_NAMES,
    TOP,
    TOP_ORIGIN,
    build_apps,
)
from .rw_support import IMPLS, SERVERS, ServerKind, impl_env, server_process, verdict_table

TARGET = "rw_served.root_path_api:app"
ROOT = "/api"
NO_CORS = "no CORS"  # policy None, or a request that never reached the middleware
TABLE = verdict_table(
    "per-path policies under a root path: route that answered -> policy applied, per deployment", "app path"
)

# --------------------------------------------------------------------------- the policies


def longest_prefix(path: str) -> str:
    """The longest prefix of POLICIES that `path` is or lies below ("" for the top level):
    written here again, independently of fastcors."""
    # A final newline counts as the end, as in Starlette's route regexes (`$`): its /admin route
    # answers "/admin\n" (a client's "/admin%0A").
    end = path[:-1] if path.endswith("\n") else path
    under = [prefix for prefix in POLICIES if prefix in (path, end) or path.startswith(prefix + "/")]
    return max(under, key=len, default="")


def policy_label(prefix: str) -> str:
    return NO_CORS if prefix and POLICIES[prefix] is None else POLICY_NAMES[prefix]


# The policy each answer names: in expose-headers (simple requests), in max-age (preflights).
MAX_AGE_LABELS = {
    str(policy["max_age"]): policy_label(prefix)
    for prefix, policy in [("", TOP), *POLICIES.items()]
    if policy is not None
}
# The route templates outside the middleware's app (the mounted apps' outer routes).
OUTSIDE_ROUTES = {"/outside"}

# --------------------------------------------------------------------------- deployments


@dataclass(frozen=True)
class Deployment:
    name: str
    server: str  # a key of SERVERS
    options: tuple[str, ...]  # the server's extra options
    base: str  # what the client puts in front of the app's paths
    proxy: str | None = None  # None, "strip" or "pass" (nginx in front)

    def server_kind(self) -> ServerKind:
        kind = SERVERS[self.server]

        def argv(target: str, port: int) -> list[str]:
            command = kind.argv(target, port)
            return [*command[:3], *self.options, *command[3:]]  # after `python -m server`

        return ServerKind(f"{kind.name} {' '.join(self.options)}".strip(), kind.modules, argv)


DEPLOYMENTS = [
    Deployment("uvicorn", "uvicorn", (), ""),
    Deployment("uvicorn-root-path", "uvicorn", ("--root-path", ROOT), ""),
    Deployment("hypercorn-root-path", "hypercorn-asyncio", ("--root-path", ROOT), ROOT),
    Deployment("granian-url-path-prefix", "granian", ("--url-path-prefix", ROOT), ROOT),
    Deployment("nginx-strip-uvicorn", "uvicorn", ("--root-path", ROOT), ROOT, "strip"),
    Deployment("nginx-pass-hypercorn", "hypercorn-asyncio", ("--root-path", ROOT), ROOT, "pass"),
]


def nginx_executable() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        unavailable("nginx is not installed (scripts/setup.sh installs it)")
    return found


def nginx_config(directory: Path, port: int, backend_port: int, proxy: str) -> str:
    # "strip": a URI in proxy_pass replaces the location's prefix in the normalized URI (dot
    # segments resolved, slashes merged, percent-decoded then escaped again); "pass": without
    # one, the request URI goes as the client sent it.
    upstream = "http://backend" + ("/" if proxy == "strip" else "")
    return textwrap.dedent(f"""\
        worker_processes 1;
        pid {directory}/nginx.pid;
        error_log stderr warn;
        events {{ worker_connections 64; }}
        http {{
            access_log off;
            client_body_temp_path {directory}/body;
            proxy_temp_path {directory}/proxy;
            fastcgi_temp_path {directory}/fastcgi;
            uwsgi_temp_path {directory}/uwsgi;
            scgi_temp_path {directory}/scgi;
            upstream backend {{
                server {HOST}:{backend_port};
                keepalive 8;
            }}
            server {{
                listen {HOST}:{port};
                location {ROOT}/ {{
                    proxy_pass {upstream};
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                }}
                location / {{ return 404; }}
            }}
        }}
    """)


def nginx_in_front(directory: Path, backend_port: int, proxy: str) -> ServerProcess:
    """nginx forwarding to `backend_port` (not started): its own config, pid and temp paths in
    `directory`, its errors on stderr (the process log, shown if it does not start)."""
    executable = nginx_executable()
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(nginx_config(directory, port, backend_port, proxy))
    argv = [executable, "-p", str(directory), "-e", "stderr", "-c", str(config), "-g", "daemon off;"]
    return ServerProcess(argv, port, f"nginx ({proxy}) in front of port {backend_port}")


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in order

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        return ", ".join(values) if values else None

    def cors_headers(self) -> list[str]:
        vary = (self.header("vary") or "").lower()
        named = [f"{key}: {value}" for key, value in self.headers if key.startswith("access-control-")]
        return named + ([f"vary: {self.header('vary')}"] if "origin" in vary else [])

    def policy(self) -> str:
        """The policy that made this answer, by the name it carries."""
        expose = self.header("access-control-expose-headers")
        if expose and (named := re.fullmatch(r"x-policy-([a-z-]+)", expose)):
            return named.group(1)
        max_age = self.header("access-control-max-age")
        if max_age in MAX_AGE_LABELS:
            return MAX_AGE_LABELS[max_age]
        return f"unnamed CORS headers {self.cors_headers()}" if self.cors_headers() else NO_CORS


class RawClient:
    """HTTP/1.1 over one kept-alive connection; the request target sent exactly as given."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, target: str, headers: dict[str, str]) -> Answer:
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
            try:
                self.connection.request(method, target, headers=headers)
                response = self.connection.getresponse()
                response.read()
            except (http.client.HTTPException, ConnectionError):  # closed after its last answer
                self.close()
                if attempt:
                    raise
                continue
            if response.will_close:
                self.close()
            return Answer(response.status, tuple((key.lower(), value) for key, value in response.getheaders()))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


PROBES: dict[str, tuple[str, dict[str, str]]] = {
    "get app origin": ("GET", {"origin": TOP_ORIGIN, "cookie": "session=1"}),
    "get other origin": ("GET", {"origin": EVIL_ORIGIN}),
    "preflight app origin": ("OPTIONS", {"origin": TOP_ORIGIN, "access-control-request-method": "PUT"}),
    "preflight other origin": ("OPTIONS", {"origin": EVIL_ORIGIN, "access-control-request-method": "GET"}),
}


# What a browser may do with a policy's answers (Observation.capabilities).
READ = "read from the app's origin"
CREDENTIALS = "send credentials"
READ_ANY = "read from any origin"
PREFLIGHT = "pass a preflight from the app's origin"
PREFLIGHT_ANY = "pass a preflight from any origin"
HEADERS = "see CORS headers"


@dataclass
class Observation:
    """The four probes of one request path in one app."""

    app: str
    case: str  # the row: the path relative to the deployment's base (or marked {root})
    target: str  # what was sent
    answers: dict[str, Answer]

    @property
    def route(self) -> str | None:
        routes = {self.answers[probe].header("x-route") for probe in ("get app origin", "get other origin")}
        assert len(routes) == 1, f"{self.target}: the two GETs were answered by different routes {routes}"
        return routes.pop()

    @property
    def seen(self) -> dict[str, str] | None:
        """The scope the middleware got (None: the request never reached it)."""
        report = self.answers["get app origin"].header("x-rw-scope")
        return None if report is None else json.loads(report)

    @property
    def applied(self) -> str:
        """The policy the middleware applied: the same in all four answers, or each listed."""
        policies = {probe: answer.policy() for probe, answer in self.answers.items()}
        distinct = set(policies.values())
        return distinct.pop() if len(distinct) == 1 else f"inconsistent {policies}"

    @property
    def expected(self) -> str:
        """The policy of the prefix the route path falls under (the top level's if none)."""
        seen = self.seen
        return NO_CORS if seen is None else policy_label(longest_prefix(seen["route_path"]))

    @property
    def route_label(self) -> str:
        return self.route or str(self.answers["get app origin"].status)

    def capabilities(self) -> frozenset[str]:
        """What a browser may do with these answers."""
        get, other = self.answers["get app origin"], self.answers["get other origin"]
        preflight, other_preflight = self.answers["preflight app origin"], self.answers["preflight other origin"]
        can = set()
        if get.header("access-control-allow-origin") in (TOP_ORIGIN, "*"):
            can.add(READ)
        if (
            get.header("access-control-allow-origin") == TOP_ORIGIN
            and get.header("access-control-allow-credentials") == "true"
        ):
            can.add(CREDENTIALS)
        if other.header("access-control-allow-origin") in (EVIL_ORIGIN, "*"):
            can.add(READ_ANY)
        if preflight.status == 200 and preflight.header("access-control-allow-origin") in (TOP_ORIGIN, "*"):
            can.add(PREFLIGHT)
        if other_preflight.status == 200 and other_preflight.header("access-control-allow-origin") in (
            EVIL_ORIGIN,
            "*",
        ):
            can.add(PREFLIGHT_ANY)
        if any(answer.cors_headers() for answer in self.answers.values()):
            can.add(HEADERS)
        return frozenset(can)


def route_prefix(template: str) -> str:
    """The policy prefix a route lies under: that of its template's fixed part."""
    return longest_prefix(template.split("{", 1)[0])


def declared_policy(template: str) -> str:
    return NO_CORS if template in OUTSIDE_ROUTES else policy_label(route_prefix(template))


# --------------------------------------------------------------------------- the paths

# Relative to the app that holds the middleware; the first ones are the canonical paths, one
# per policy. Kinds from flask-cors' 2024 path-matching advisories: case-insensitive matching
# (CVE-2024-6866), "+" decoded to a space (CVE-2024-6844), the longest pattern winning over the
# most specific (CVE-2024-6839: here the nested /public/locked against /public), and dot
# segments (CVE-2020-25032).
CANONICAL = {
    "top": "/top/x",
    "admin": "/admin/x",
    NO_CORS: "/internal/x",
    "public": "/public/x",
    "public-locked": "/public/locked/x",
}
RELATIVE_PATHS = [
    *CANONICAL.values(),
    "/admin",
    "/publicity/x",
    # case
    "/ADMIN/x", "/Admin/x", "/INTERNAL/x", "/Public/locked/x", "/public/LOCKED/x",
    # dot segments, plain and percent-encoded
    "/public/../admin/x", "/public/%2e%2e/admin/x", "/public/%2E%2E/admin/x", "/public/.%2e/admin/x",
    "/public/x/../../admin/x", "/./admin/x", "/admin/../public/x", "/public/./locked/x", "/public/locked/../x",
    "/internal/../public/x",
    # empty segments
    "//admin/x", "/admin//x", "/public//locked/x", "//internal/x",
    # an encoded slash
    "/public%2Fadmin/x", "/public/..%2Fadmin/x", "/public%2flocked/x", "/public%2F..%2Fadmin/x",
    # an encoded letter
    "/%61dmin/x", "/public/%6Cocked/x", "/%69nternal/x",
    # a trailing slash
    "/admin/", "/internal/", "/public/locked/", "/public/",
    # look-alike prefixes
    "/publicity", "/admin-x", "/admin-x/y", "/adminx/y", "/internalx/y", "/public/lockedx/y",
    # "+" and spaces
    "/admin/a+b", "/admin+/x", "/admin%2B/x", "/admin%20/x", "/public+locked/x", "/public/locked%20/x",
    "/internal+/x",
    # other bytes
    "/admin%00/x", "/admin;x/y", "/admin/x;y", "/admin/x?y=/public", "/admin#x",
    # a final newline (Starlette's `$` matches before one) and a carriage return
    "/admin%0A", "/admin%0a", "/internal%0A", "/public/locked%0A", "/admin/x%0A", "/admin%0A/x", "/admin%0D",
    "/internal/x%0A",
]  # fmt: skip
# What each app adds: paths around its mounts.
APP_PATHS = {
    "starlette-outer": ["/v1/admin/x", "/v1/public/x", "/v1/internal/x", "/v1/ADMIN/x"],
    "starlette-mounted": [
        # the sub-app mounted at /public: its /admin is /public/admin
        "/public/admin/x", "/public/internal/x", "/public/public/x", "/public/public/locked/x", "/public/x",
        "/v1x/admin/x", "/V1/admin/x", "/v1", "/v1/", "/v1%2Fadmin/x", "/v1/../public/admin/x", "/v1//admin/x",
        "/admin/x", "/outside",
    ],
    "fastapi-outer": ["/v1/admin/x", "/v1/public/x", "/v1/internal/x", "/V1/admin/x"],
    "fastapi-mounted": [
        "/v1x/admin/x", "/V1/admin/x", "/v1", "/v1/", "/v1%2Fadmin/x", "/v1//admin/x", "/admin/x", "/outside",
    ],
}  # fmt: skip


def deployment_paths(deployment: Deployment, mount: str) -> list[tuple[str, str]]:
    """(row, target): request targets in other forms, look-alikes of the root path, the root
    path alone, missing or doubled."""
    tail = mount + "/admin/x"
    forms = [
        (
            "(absolute form) http://host" + "{root}" * bool(deployment.base) + tail,
            f"http://{HOST}{deployment.base}{tail}",
        ),
        ("(asterisk form) *", "*"),
    ]
    if not deployment.base:
        if "--root-path" in deployment.options:  # uvicorn prepends the root path: send it again
            return [*forms, ("{root}" + tail, ROOT + tail)]
        return forms
    rows = {
        "{root}": ROOT,
        "{root}/": ROOT + "/",
        "{root}x" + tail: ROOT + "x" + tail,
        "{ROOT}" + tail: ROOT.upper() + tail,
        "(no root)" + tail: tail,
        "{root}{root}" + tail: ROOT + ROOT + tail,
        "{root}%2F" + tail[1:]: ROOT + "%2F" + tail[1:],
        "{root}x/../{root}" + tail: ROOT + "x/.." + ROOT + tail,
        "{root}/.." + tail: ROOT + "/.." + tail,
    }
    return [*forms, *rows.items()]


def targets(deployment: Deployment, app: str) -> list[tuple[str, str]]:
    """(row, target) for each request path of `app`; the relative paths go under its first mount."""
    mount = MIDDLEWARE_MOUNTS[app][0]
    rows = [(mount + path, deployment.base + mount + path) for path in RELATIVE_PATHS]
    rows += [(path, deployment.base + path) for path in APP_PATHS[app]]
    rows += deployment_paths(deployment, mount)
    return list(dict(rows).items())


# --------------------------------------------------------------------------- the runs


@dataclass
class Run:
    deployment: Deployment
    impl: str
    implementation: dict[str, Any]
    observations: dict[str, list[Observation]] = field(default_factory=dict)  # per app


def observe(client: RawClient, app: str, row: str, target: str) -> Observation:
    answers = {
        probe: client.request(method, target, {**headers, "x-rw-app": app})
        for probe, (method, headers) in PROBES.items()
    }
    return Observation(app, row, target, answers)


def observe_app(port: int, deployment: Deployment, app: str) -> list[Observation]:
    client = RawClient(port)
    try:
        return [observe(client, app, row, target) for row, target in targets(deployment, app)]
    finally:
        client.close()


MATRIX = [(deployment, impl) for deployment in DEPLOYMENTS for impl in IMPLS]


@dataclass
class Serving:
    """One deployment of one implementation, started, or why not."""

    port: int = 0  # where the client sends its requests (nginx's port if it is in front)
    processes: list[ServerProcess] = field(default_factory=list)
    problem: BaseException | None = None


def start_deployment(deployment: Deployment, impl: str, directory: Path) -> Serving:
    serving = Serving()
    try:
        backend = server_process(deployment.server_kind(), TARGET, impl_env(impl))
        serving.processes.append(backend)
        serving.port = backend.start("/_impl").port
        if deployment.proxy is not None:
            front = nginx_in_front(directory, backend.port, deployment.proxy)
            serving.processes.append(front)
            serving.port = front.start(f"{ROOT}/_impl").port
    except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:  # raised by the tests that need it
        serving.problem = exc
    return serving


@pytest.fixture(scope="module")
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[Deployment, str], Serving]]:
    """The deployments of MATRIX that the selected tests use, started side by side (starting is
    mostly imports and waiting: one after the other, it would be half this module's time),
    stopped at the end."""
    callspecs = [getattr(item, "callspec", None) for item in request.session.items]
    used = [callspec.params.get("run") for callspec in callspecs if callspec is not None]
    keys = [key for key in MATRIX if key in used]
    with ThreadPoolExecutor(max(len(keys), 1)) as pool:
        futures = {
            key: pool.submit(start_deployment, *key, tmp_path_factory.mktemp(f"{key[0].name}-{key[1]}")) for key in keys
        }
        started = {key: future.result() for key, future in futures.items()}
    try:
        yield started
    finally:
        for serving in started.values():
            for process in reversed(serving.processes):
                process.stop()


@pytest.fixture(scope="module", params=MATRIX, ids=[f"{d.name}-{impl}" for d, impl in MATRIX])
def run(request: pytest.FixtureRequest, servers: dict[tuple[Deployment, str], Serving]) -> Run:
    deployment, impl = request.param
    serving = servers[request.param]
    if isinstance(serving.problem, ServerError):
        pytest.fail(str(serving.problem))
    if serving.problem is not None:
        raise serving.problem
    implementation = json.loads(_body(serving.port, deployment.base + "/_impl"))
    result = Run(deployment, impl, implementation)
    # One connection per app, side by side: the client's parsing and the server's work overlap
    # on the two cores.
    with ThreadPoolExecutor(len(APPS)) as pool:
        observed = pool.map(lambda app: observe_app(serving.port, deployment, app), APPS)
        result.observations = dict(zip(APPS, observed, strict=True))
    for app, observations in result.observations.items():
        for observation in observations:
            cell = f"{observation.route_label} -> {observation.applied}"
            TABLE.record(f"{app} {observation.case}", deployment.name, cell, impl)
    return result


def _body(port: int, target: str) -> bytes:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, f"GET {target}: {response.status} {body!r}"
        return body
    finally:
        connection.close()


def _described(observation: Observation) -> str:
    return (
        f"{observation.app} {observation.target!r}: route {observation.route_label}, scope {observation.seen}, "
        f"applied {observation.applied}"
    )


# --------------------------------------------------------------------------- the tests


def test_the_server_runs_the_implementation_asked_for(run: Run) -> None:
    assert run.implementation["compiled"] == (run.impl == "compiled")


def test_the_deployment_is_what_it_says(run: Run) -> None:
    """The scope the apps get: the root path set or not, prepended to the path or not, and
    dot segments resolved only by nginx when it strips the prefix (a URI in proxy_pass)."""
    root = ROOT if run.deployment.options else ""
    assert run.implementation["scope"]["root_path"] == root
    assert run.implementation["scope"]["route_path"] == "/_impl"
    by_case = {observation.case: observation for observation in run.observations["starlette-outer"]}
    dotted = "/public/../admin/x"
    forwarded = "/admin/x" if run.deployment.proxy == "strip" else dotted
    assert by_case[dotted].seen == {"path": root + forwarded, "root_path": root, "route_path": forwarded}


# What each policy's answers let a browser do (the canonical paths must show exactly this).
EXPECTED_CAPABILITIES: dict[str, frozenset[str]] = {
    "top": frozenset({READ, CREDENTIALS, PREFLIGHT, HEADERS}),
    "admin": frozenset({HEADERS}),
    NO_CORS: frozenset(),
    "public": frozenset({READ, READ_ANY, PREFLIGHT, PREFLIGHT_ANY, HEADERS}),
    "public-locked": frozenset({HEADERS}),
}


@pytest.mark.parametrize("app", APPS)
def test_each_route_gets_its_declared_policy(run: Run, app: str) -> None:
    """The canonical paths: answered by their route, with its policy and what that policy allows."""
    mount = MIDDLEWARE_MOUNTS[app][0]
    by_case = {observation.case: observation for observation in run.observations[app]}
    for label, path in CANONICAL.items():
        observation = by_case[mount + path]
        assert observation.route is not None and declared_policy(observation.route) == label, _described(observation)
        assert observation.applied == label, _described(observation)
        assert observation.capabilities() == EXPECTED_CAPABILITIES[label], _described(observation)


def property_failures(observation: Observation) -> list[str]:
    """How one path breaks the routing property (nothing: it holds)."""
    applied, expected, route = observation.applied, observation.expected, observation.route
    if applied != expected:
        return [f"{_described(observation)}; expected {expected} (the route path's prefix)"]
    if route is None:
        return []
    declared = declared_policy(route)
    seen = observation.seen
    if seen is None:
        return [] if declared == NO_CORS else [f"{_described(observation)}: the middleware never saw it"]
    failures = []
    selected, own = longest_prefix(seen["route_path"]), route_prefix(route)
    below = ":path}" in route and (not own or selected.startswith(own + "/"))
    if applied != declared and not below:
        failures.append(f"{_described(observation)}; route {route} declares {declared}")
    if not observation.capabilities() <= EXPECTED_CAPABILITIES[declared]:
        more = sorted(observation.capabilities() - EXPECTED_CAPABILITIES[declared])
        failures.append(f"{_described(observation)}: more permissive than {route}'s {declared}: {more}")
    return failures


@pytest.mark.parametrize("app", APPS)
def test_routing_property(run: Run, app: str) -> None:
    """Every path: the policy of the prefix its route path falls under, which for a path a route
    answers is the policy declared for that route's prefix (or a more specific one declared
    below it, for a path-converter route), and never more permissive than the route's own."""
    failures = [failure for observation in run.observations[app] for failure in property_failures(observation)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("app", APPS)
def test_hostile_paths_are_never_more_permissive_than_the_answering_route(run: Run, app: str) -> None:
    """The capability comparison on its own: with a route, against the route's declared policy;
    without one (404, redirect), against the policy of the prefix its route path falls under."""
    failures = []
    for observation in run.observations[app]:
        bound = declared_policy(observation.route) if observation.route else observation.expected
        extra = observation.capabilities() - EXPECTED_CAPABILITIES[bound]
        if extra:
            failures.append(f"{_described(observation)}: beyond {bound}: {sorted(extra)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("app", APPS)
def test_matching_follows_the_route_path_not_the_raw_path(run: Run, app: str) -> None:
    """Where scope["path"] (the raw path, with the root path in it) would select another policy
    than the route path, the route path's wins. Such paths exist in every deployment with a
    root path, and in every mounted app: this fails if the matching goes back to the raw path."""
    discriminating = [
        observation
        for observation in run.observations[app]
        if observation.seen is not None
        and policy_label(longest_prefix(observation.seen["path"])) != observation.expected
    ]
    if run.deployment.options or "mounted" in app:
        assert discriminating, "no path here tells the raw path from the route path"
    for observation in discriminating:
        raw = policy_label(longest_prefix(observation.seen["path"]))  # type: ignore[index]
        assert observation.applied == observation.expected != raw, (
            f"{_described(observation)}: the raw path would select {raw}, the route path {observation.expected}"
        )


def test_the_issue_example_admin_under_root_path(run: Run) -> None:
    """Issue 18: /admin/x under a root path allowed the top level's origin; /internal/x got CORS
    headers. Through every deployment, the app and paths as a user would write them."""
    by_case = {observation.case: observation for observation in run.observations["fastapi-outer"]}
    admin, internal = by_case["/admin/x"], by_case["/internal/x"]
    assert admin.answers["get app origin"].header("access-control-allow-origin") is None, _described(admin)
    assert admin.answers["preflight app origin"].status == 400, _described(admin)
    assert internal.capabilities() == frozenset(), _described(internal)


# --------------------------------------------------------------------------- in memory


def _scope_cases() -> list[tuple[str, str, str]]:
    """(app, root_path, path) as the servers above make them, for the in-memory check."""
    cases = []
    for app in APPS:
        mount = MIDDLEWARE_MOUNTS[app][0]
        for root in ("", ROOT, ROOT + "/"):  # (a root path given with a final slash: uvicorn keeps it)
            for path in [*CANONICAL.values(), "/ADMIN/x", "/public/../admin/x", "//admin/x", "/admin/", "/publicity/x"]:
                cases.append((app, root, root + mount + path))
            cases.append((app, root, root + "x" + mount + "/admin/x"))
    cases.append(("starlette-mounted", ROOT, ROOT + "/public/admin/x"))
    return cases


@functools.cache
def in_memory_apps(impl_name: str) -> dict[str, Any]:
    module = compiled_module() if impl_name == "compiled" else _loader.load_pure_python()
    return build_apps(module.CORSMiddleware, module.CORSSettings)


def in_memory_observation(apps: dict[str, Any], app: str, root: str, path: str) -> Observation:
    """The four probes of `path` under `root`, called in this process (no server)."""

    async def call(method: str, headers: dict[str, str]) -> Answer:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode("utf-8", "surrogateescape"), "root_path": root,
            "query_string": b"", "server": ("test", 80), "client": ("127.0.0.1", 1),
            "headers": [(key.encode(), value.encode()) for key, value in {**headers, "host": "test"}.items()],
        }  # fmt: skip
        started: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)

        await apps[app](scope, receive, send)
        headers_sent = tuple((key.decode().lower(), value.decode("latin-1")) for key, value in started["headers"])
        return Answer(started["status"], headers_sent)

    async def probes() -> dict[str, Answer]:
        return {probe: await call(method, headers) for probe, (method, headers) in PROBES.items()}

    return Observation(app, path, path, asyncio.run(probes()))


@pytest.mark.parametrize("impl_name", IMPLS)
def test_routing_property_in_memory(impl_name: str) -> None:
    """The same oracle on scopes built here (no server): quick to run when a real-server test fails."""
    apps = in_memory_apps(impl_name)
    failures = [
        failure
        for app, root, path in _scope_cases()
        for failure in property_failures(in_memory_observation(apps, app, root, path))
    ]
    assert not failures, "\n".join(failures)


# Paths made of the segments that matter here: the prefixes and their look-alikes, dot segments,
# empty segments, the root path and the mounts, a final newline.
SEGMENTS = ["admin", "ADMIN", "internal", "public", "locked", "publicity", "top", "x", "..", ".", "", "api", "v1"]
generated_paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts))


@pytest.mark.parametrize("impl_name", IMPLS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    app=st.sampled_from(APPS),
    root=st.sampled_from(["", ROOT, ROOT + "/", "/v1", "/public"]),
    prepended=st.booleans(),
    path=generated_paths,
    newline=st.booleans(),
)
def test_routing_property_in_memory_generated(
    impl_name: str, app: str, root: str, prepended: bool, path: str, newline: bool
) -> None:
    """Generated scopes: a root path prepended to the path (uvicorn, a Mount) or not (hypercorn)."""
    apps = in_memory_apps(impl_name)
    full = (root if prepended else "") + path + ("\n" if newline else "")
    failures = property_failures(in_memory_observation(apps, app, root, full))
    assert not failures, "\n".join(failures)
