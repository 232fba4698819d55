"""The API that the browser tests call: one server, several CORS configurations.

`/<config>/<anything>` goes through a CORS middleware built with CONFIGS[config];
`with_service` in front logs every request and serves `/_log`, `/_impl`, `/_set_cookie`
(rw_served.paths_api uses it too).

Environment of the server process:
  RW_MIDDLEWARE      "fastcors" or "starlette" (the reference)
  FASTCORS_NO_EXTENSIONS=1 for fastcors' pure-Python implementation
  RW_PAGE_ORIGIN     origin of the page allowed by the explicit-origin configurations
  RW_PATTERN_PORT    the page port that the "fixedport" origin pattern allows
  RW_STARLETTE_VERSIONS  fastcors only: comma-separated `starlette_version` values; each
                     configuration is served once more per value, as `/<config>@<value>/...`
"""

from __future__ import annotations

import json
import os
from typing import Any

from rw_served.asgi_parts import read_body, request_header, serve_lifespan

MIDDLEWARE = os.environ.get("RW_MIDDLEWARE", "fastcors")
COOKIE_NAME = "rwsession"
COOKIE_VALUE = "abc"

REQUEST_LOG: list[dict[str, Any]] = []


def request_cookie(scope: dict[str, Any]) -> str:
    """The value of the test cookie in the request, or ""."""
    for part in (request_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == COOKIE_NAME:
            return value
    return ""


async def reply(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    # no-store: Chromium must ask the server every time, so the log shows every fetch.
    headers = [*headers, (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _implementation() -> dict[str, Any]:
    if MIDDLEWARE == "starlette":
        return {"middleware": "starlette"}
    import fastcors

    return {"middleware": "fastcors", "compiled": fastcors.COMPILED}


def with_service(app: Any) -> Any:
    """`app` behind the service endpoints and the request log."""

    async def served(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        json_type = [(b"content-type", b"application/json")]
        if path == "/_log":
            await reply(send, 200, json.dumps(REQUEST_LOG).encode(), json_type)
        elif path == "/_impl":
            await reply(send, 200, json.dumps(_implementation()).encode(), json_type)
        elif path == "/_set_cookie":
            # A first-party page of the API origin sets the cookie. SameSite=Lax: sent on
            # same-site requests (127.0.0.1:page -> 127.0.0.1:api, ports do not split sites),
            # not on cross-site ones (localhost -> 127.0.0.1).
            cookie = f"{COOKIE_NAME}={COOKIE_VALUE}; Path=/; SameSite=Lax; HttpOnly".encode()
            headers = [(b"content-type", b"text/html"), (b"set-cookie", cookie)]
            await reply(send, 200, b"<!doctype html><title>cookie set</title>", headers)
        else:
            origin = request_header(scope, b"origin")
            REQUEST_LOG.append(
                {"method": scope["method"], "path": path, "origin": origin, "cookie": request_cookie(scope)}
            )
            await app(scope, receive, send)

    return served


# ---------------------------------------------------------------------------- the CORS configurations


PAGE_ORIGIN = os.environ.get("RW_PAGE_ORIGIN", "http://127.0.0.1:1")
STARLETTE_VERSIONS = [version for version in os.environ.get("RW_STARLETTE_VERSIONS", "").split(",") if version]

if MIDDLEWARE == "starlette":
    from starlette.middleware.cors import CORSMiddleware
else:
    from fastcors import CORSMiddleware

CONFIGS: dict[str, dict[str, Any]] = {
    "main": {
        "allow_origins": [PAGE_ORIGIN],
        "allow_methods": ["GET", "PUT"],
        "allow_headers": ["x-custom"],
        "expose_headers": ["x-exposed"],
        "allow_credentials": True,
        "max_age": 600,
    },
    "nocred": {"allow_origins": [PAGE_ORIGIN], "allow_methods": ["GET", "PUT"], "allow_headers": ["x-custom"]},
    # max_age=0: the browser must not cache the preflight (the contrast to "main").
    "nocache": {
        "allow_origins": [PAGE_ORIGIN],
        "allow_methods": ["GET", "PUT"],
        "allow_headers": ["x-custom"],
        "max_age": 0,
    },
    "star": {"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"]},
    # `*` with credentials: Starlette reflects any origin, with credentials allowed.
    "starcred": {"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "allow_credentials": True},
    "regex": {"allow_origin_regex": r"http://localhost:\d+"},
}

# fastcors' origin patterns (test_rw_browser_patterns.py): config -> (pattern, the regex that
# means the same). Starlette has no patterns, so its reference row is served the regex.
PATTERN_PORT = os.environ.get("RW_PATTERN_PORT", "1")  # the one port "fixedport" allows
PATTERN_CONFIGS = {
    "sub": ("http://*.example.test:*", r"http://([a-z0-9_-]+\.)+example\.test(:[0-9]+)?"),
    "fixedport": (f"http://*.example.test:{PATTERN_PORT}", rf"http://([a-z0-9_-]+\.)+example\.test:{PATTERN_PORT}"),
    "localsub": ("http://*.localhost:*", r"http://([a-z0-9_-]+\.)+localhost(:[0-9]+)?"),
}
for _name, (_pattern, _regex) in PATTERN_CONFIGS.items():
    CONFIGS[_name] = {
        "allow_methods": ["GET", "PUT"],
        "allow_headers": ["x-custom"],
        "expose_headers": ["x-exposed"],
        "allow_credentials": True,
        **({"allow_origin_regex": _regex} if MIDDLEWARE == "starlette" else {"allow_origin_patterns": [_pattern]}),
    }


async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Behind the middleware: says what it saw, plus one exposed and one unexposed header."""
    body = await read_body(receive)
    seen = {"method": scope["method"], "path": scope["path"], "cookie": request_cookie(scope), "body": body.decode()}
    headers = [(b"content-type", b"application/json"), (b"x-exposed", b"yes"), (b"x-hidden", b"yes")]
    await reply(send, 200, json.dumps(seen).encode(), headers)


PROTECTED = {name: CORSMiddleware(endpoint, **options) for name, options in CONFIGS.items()}
for _version in STARLETTE_VERSIONS:  # fastcors answering as another Starlette release
    for _name, _options in CONFIGS.items():
        PROTECTED[f"{_name}@{_version}"] = CORSMiddleware(endpoint, **_options, starlette_version=_version)


async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    config = scope["path"].split("/")[1]
    if config in PROTECTED:
        await PROTECTED[config](scope, receive, send)
    else:
        await reply(send, 404, b"no such configuration", [(b"content-type", b"text/plain")])


app = with_service(dispatch)
