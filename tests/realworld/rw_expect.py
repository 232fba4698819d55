"""Exact CORS answers expected over HTTP for rw_served.settings.CORS_OPTIONS, on `/data`.

Written out by hand from Starlette's behaviour (not computed by either middleware), in
Starlette's order: uvicorn, hypercorn and granian all keep the order the app sent, so a
server that garbles, drops or reorders nothing shows exactly these lists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from .rw_served.settings import ALLOWED_ORIGIN, DENIED_ORIGIN, IMPL_HEADER
from .rw_support import impl_env, serving

PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
PREFLIGHT_FIXED = [
    ("vary", PREFLIGHT_VARY),
    ("access-control-allow-methods", "GET, PUT"),
    ("access-control-max-age", "321"),
    # The four CORS-safelisted names are always listed, sorted with the configured ones.
    ("access-control-allow-headers", "Accept, Accept-Language, Content-Language, Content-Type, x-custom"),
    ("access-control-allow-credentials", "true"),
]
PREFLIGHT_TYPE = [("content-type", "text/plain; charset=utf-8")]
SIMPLE_FIXED = [("access-control-allow-credentials", "true"), ("access-control-expose-headers", "x-exposed")]


def cors_headers(response: httpx.Response, extra: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The response's CORS-relevant headers (names lower-cased by httpx), in wire order."""
    keep = {"vary", IMPL_HEADER, *extra}
    return [
        (name, value)
        for name, value in response.headers.multi_items()
        if name in keep or name.startswith("access-control-")
    ]


@dataclass(frozen=True)
class Target:
    url: str  # base URL of the served app
    impl: str  # "compiled" or "python": what the server process was asked to use

    @property
    def impl_value(self) -> str:
        return "1" if self.impl == "compiled" else "0"


@contextlib.contextmanager
def served_target(server: str, app: str, impl: str) -> Iterator[Target]:
    """`app` ("module:attribute" under rw_served) served by `server` with implementation `impl`."""
    with serving(server, app, impl_env(impl), ready_path="/data") as process:
        yield Target(process.url, impl)


def _simple(target: Target, client: httpx.Client, origin: str | None) -> httpx.Response:
    headers = {"origin": origin} if origin else {}
    return client.get(target.url + "/data", headers=headers)


def check_simple_allowed(target: Target, client: httpx.Client) -> None:
    response = _simple(target, client, ALLOWED_ORIGIN)
    assert response.status_code == 200
    assert response.text == "GET /data "
    # The implementation header proves which fastcors ran inside the server process.
    # Origin is merged into the app's own `vary`, where it stands; the rest is appended.
    assert cors_headers(response) == [
        ("vary", "Accept-Encoding, Origin"),
        (IMPL_HEADER, target.impl_value),
        *SIMPLE_FIXED,
        ("access-control-allow-origin", ALLOWED_ORIGIN),
    ]


def check_simple_denied(target: Target, client: httpx.Client) -> None:
    # Starlette still sets the fixed headers, but no allow-origin: the browser blocks the read.
    response = _simple(target, client, DENIED_ORIGIN)
    assert response.status_code == 200
    assert cors_headers(response) == [
        ("vary", "Accept-Encoding, Origin"),
        (IMPL_HEADER, target.impl_value),
        *SIMPLE_FIXED,
    ]


def check_simple_without_origin(target: Target, client: httpx.Client) -> None:
    response = _simple(target, client, None)
    assert response.status_code == 200
    assert cors_headers(response) == [("vary", "Accept-Encoding, Origin"), (IMPL_HEADER, target.impl_value)]


def check_actual_put_with_body(target: Target, client: httpx.Client) -> None:
    # The request after a preflight: the body must reach the app through the middleware.
    response = client.put(target.url + "/data", content=b"hello", headers={"origin": ALLOWED_ORIGIN, "x-custom": "1"})
    assert response.status_code == 200
    assert response.text == "PUT /data hello"
    assert ("access-control-allow-origin", ALLOWED_ORIGIN) in cors_headers(response)


def _preflight(target: Target, client: httpx.Client, origin: str, method: str, headers: str | None) -> httpx.Response:
    request_headers = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        request_headers["access-control-request-headers"] = headers
    return client.request("OPTIONS", target.url + "/data", headers=request_headers)


def check_preflight_allowed(target: Target, client: httpx.Client) -> None:
    response = _preflight(target, client, ALLOWED_ORIGIN, "PUT", "X-Custom")
    assert (response.status_code, response.text) == (200, "OK")
    # No implementation header: a preflight never reaches the application.
    assert cors_headers(response, ("content-type",)) == [
        *PREFLIGHT_FIXED,
        ("access-control-allow-origin", ALLOWED_ORIGIN),
        *PREFLIGHT_TYPE,
    ]
    assert response.headers["content-length"] == "2"


def check_preflight_refused_method(target: Target, client: httpx.Client) -> None:
    response = _preflight(target, client, ALLOWED_ORIGIN, "DELETE", None)
    assert (response.status_code, response.text) == (400, "Disallowed CORS method")
    # A refusal still carries the headers computed so far, the allowed origin included.
    assert cors_headers(response, ("content-type",)) == [
        *PREFLIGHT_FIXED,
        ("access-control-allow-origin", ALLOWED_ORIGIN),
        *PREFLIGHT_TYPE,
    ]


def check_preflight_refused_origin_and_header(target: Target, client: httpx.Client) -> None:
    response = _preflight(target, client, DENIED_ORIGIN, "GET", "x-custom, x-other")
    assert (response.status_code, response.text) == (400, "Disallowed CORS origin, headers")
    assert cors_headers(response, ("content-type",)) == [*PREFLIGHT_FIXED, *PREFLIGHT_TYPE]
    assert response.headers["content-length"] == str(len("Disallowed CORS origin, headers"))


CHECKS: list[Callable[[Target, httpx.Client], None]] = [
    check_simple_allowed,
    check_simple_denied,
    check_simple_without_origin,
    check_actual_put_with_body,
    check_preflight_allowed,
    check_preflight_refused_method,
    check_preflight_refused_origin_and_header,
]
CHECK_IDS = [check.__name__.removeprefix("check_") for check in CHECKS]
# A test taking `check` runs once per check above.
each_check = pytest.mark.parametrize("check", CHECKS, ids=CHECK_IDS)
