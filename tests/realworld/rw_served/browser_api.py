"""The API that the browser tests call: one server, several CORS configurations.

`/<config>/<anything>` goes through a CORS middleware built with CONFIGS[config]; the
dispatcher in front of them logs every request (preflights too, which the middleware
answers itself) so the test can see what the browser really sent. Its own endpoints
(`/_log`, `/_impl`, `/_set_cookie`) bypass CORS.

Environment of the server process:
  RW_MIDDLEWARE      "fastcors" or "starlette" (the reference)
  RW_PAGE_ORIGIN     origin of the page allowed by the explicit-origin configurations
  RW_PATTERN_PORT    the page port that the "fixedport" origin pattern allows
  FASTCORS_NO_EXTENSIONS=1 for fastcors' pure-Python implementation
"""

from __future__ import annotations

import json
import os
from typing import Any

from rw_served.asgi_parts import read_body, request_header, serve_lifespan

MIDDLEWARE = os.environ.get("RW_MIDDLEWARE", "fastcors")
PAGE_ORIGIN = os.environ.get("RW_PAGE_ORIGIN", "http://127.0.0.1:1")
COOKIE_NAME = "rwsession"
COOKIE_VALUE = "abc"

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

REQUEST_LOG: list[dict[str, Any]] = []


def _cookie(scope: dict[str, Any]) -> str:
    for part in (request_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == COOKIE_NAME:
            return value
    return ""


async def _reply(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Behind the middleware: says what it saw, plus one exposed and one unexposed header."""
    body = await read_body(receive)
    reply = {"method": scope["method"], "path": scope["path"], "cookie": _cookie(scope), "body": body.decode()}
    headers = [(b"content-type", b"application/json"), (b"x-exposed", b"yes"), (b"x-hidden", b"yes")]
    await _reply(send, 200, json.dumps(reply).encode(), headers)


PROTECTED = {name: CORSMiddleware(endpoint, **options) for name, options in CONFIGS.items()}


def _implementation() -> dict[str, Any]:
    if MIDDLEWARE == "starlette":
        return {"middleware": "starlette"}
    import fastcors

    return {"middleware": "fastcors", "compiled": fastcors.COMPILED}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/_log":
        await _reply(send, 200, json.dumps(REQUEST_LOG).encode(), [(b"content-type", b"application/json")])
        return
    if path == "/_impl":
        await _reply(send, 200, json.dumps(_implementation()).encode(), [(b"content-type", b"application/json")])
        return
    if path == "/_set_cookie":
        # A first-party page of the API origin sets the cookie. SameSite=Lax: sent on
        # same-site requests (127.0.0.1:page -> 127.0.0.1:api, ports do not split sites),
        # not on cross-site ones (localhost -> 127.0.0.1).
        cookie = f"{COOKIE_NAME}={COOKIE_VALUE}; Path=/; SameSite=Lax; HttpOnly".encode()
        headers = [(b"content-type", b"text/html"), (b"set-cookie", cookie)]
        await _reply(send, 200, b"<!doctype html><title>cookie set</title>", headers)
        return
    config = path.split("/")[1]
    REQUEST_LOG.append(
        {"method": scope["method"], "path": path, "origin": request_header(scope, b"origin"), "cookie": _cookie(scope)}
    )
    if config in PROTECTED:
        await PROTECTED[config](scope, receive, send)
    else:
        await _reply(send, 404, b"no such configuration", [(b"content-type", b"text/plain")])
