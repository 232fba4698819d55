"""Named attacks on origin checking: look-alike hosts, `null`, case and whitespace games,
duplicate Origin headers, huge values, cache flooding.

For each, on both implementations: the attacker's origin is never reflected (nor given
credentials) where the configuration does not allow it, and every message sent is the same
as with Starlette's middleware.
"""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

import pytest
from asgi_harness import Outcome, http_scope, run, same_as_starlette

ALLOWED = "https://app.example.com"
EXPLICIT = {
    "allow_origins": [ALLOWED],
    "allow_credentials": True,
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["X-Token"],
}
REGEX = {
    "allow_origin_regex": r"https://[a-z0-9-]+\.example\.com",
    "allow_credentials": True,
    "allow_headers": ["*"],
}

# Origins an attacker can send from a page they control (or forge outside a browser).
ATTACKS_ON_EXPLICIT = [
    "https://app.example.com.evil.com",  # suffix look-alike
    "https://evilapp.example.com",  # prefix look-alike
    "https://app.example.co",  # prefix of the allowed origin
    "https://app.example.comm",
    "https://evil.com/https://app.example.com",
    "https://evil.com@app.example.com",
    "null",
    "HTTPS://APP.EXAMPLE.COM",  # case games
    "https://App.Example.com",
    " https://app.example.com",  # surrounding whitespace
    "https://app.example.com ",
    "\thttps://app.example.com",
    "https://app.example.com/",
    "https://app.example.com:443",
    "http://app.example.com",  # downgraded scheme
    "https://app.example.com\r\nX-Injected: 1",
    "https://app.example.com\x00",
    "https://app.example.com\xff",
    "",
    "*",
    ALLOWED + "a" * 65536,  # 64 KiB
]
ATTACKS_ON_REGEX = [
    "https://app.example.com.evil.com",
    "https://evilexample.com",
    "https://example.com",  # no subdomain: not matched by this pattern
    "https://a.b.example.com",  # two labels: not matched either
    "https://app.example.com:8443",
    "https://evil.com#.example.com",
    "https://evil.com/.example.com",
    "https://APP.example.com",
    " https://app.example.com",
    "null",
    "https://" + "a" * 65536 + ".example.com.evil.com",
]


def scope_for(kind: str, origins: list[bytes], requested_headers: bytes | None = None) -> dict[str, Any]:
    headers = [(b"origin", origin) for origin in origins]
    if kind == "preflight":
        headers.append((b"access-control-request-method", b"GET"))
        if requested_headers is not None:
            headers.append((b"access-control-request-headers", requested_headers))
        return http_scope("OPTIONS", headers)
    return http_scope("GET", headers)


def cors_headers(outcome: Outcome) -> dict[bytes, list[bytes]]:
    start = next(m for m in outcome.sent if m["type"] == "http.response.start")
    found: dict[bytes, list[bytes]] = {}
    for name, value in start["headers"]:
        found.setdefault(bytes(name), []).append(bytes(value))
    return found


def assert_refused(outcome: Outcome, kind: str, through_harness_app: bool = True) -> None:
    headers = cors_headers(outcome)
    assert b"access-control-allow-origin" not in headers
    if kind == "preflight":
        start = outcome.sent[0]
        assert start["status"] == 400
        assert outcome.sent[1]["body"].startswith(b"Disallowed CORS origin")
    elif through_harness_app:
        assert outcome.app_scope is not None  # a simple request still reaches the app
        assert b"access-control-allow-credentials" in headers  # as Starlette: harmless without ACAO


@pytest.mark.parametrize("kind", ["simple", "preflight"])
@pytest.mark.parametrize("origin", ATTACKS_ON_EXPLICIT, ids=lambda o: repr(o[:40]))
def test_explicit_list_refuses_attack(impl: ModuleType, kind: str, origin: str) -> None:
    outcome = same_as_starlette(impl, EXPLICIT, scope_for(kind, [origin.encode("latin-1")]))
    assert_refused(outcome, kind)


@pytest.mark.parametrize("kind", ["simple", "preflight"])
@pytest.mark.parametrize("origin", ATTACKS_ON_REGEX, ids=lambda o: repr(o[:40]))
def test_regex_refuses_attack(impl: ModuleType, kind: str, origin: str) -> None:
    outcome = same_as_starlette(impl, REGEX, scope_for(kind, [origin.encode("latin-1")]))
    assert_refused(outcome, kind)


@pytest.mark.parametrize("config", [EXPLICIT, REGEX], ids=["explicit", "regex"])
@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_allowed_origin_is_reflected(impl: ModuleType, config: dict[str, Any], kind: str) -> None:
    # The control: the same harness does see a reflection when one is due.
    outcome = same_as_starlette(impl, config, scope_for(kind, [ALLOWED.encode()]))
    headers = cors_headers(outcome)
    assert headers[b"access-control-allow-origin"] == [ALLOWED.encode()]
    assert headers[b"access-control-allow-credentials"] == [b"true"]


@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_duplicate_origin_first_wins_attacker_first(impl: ModuleType, kind: str) -> None:
    scope = scope_for(kind, [b"https://evil.com", ALLOWED.encode()])
    assert_refused(same_as_starlette(impl, EXPLICIT, scope), kind)


@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_duplicate_origin_first_wins_attacker_second(impl: ModuleType, kind: str) -> None:
    outcome = same_as_starlette(impl, EXPLICIT, scope_for(kind, [ALLOWED.encode(), b"https://evil.com"]))
    assert cors_headers(outcome)[b"access-control-allow-origin"] == [ALLOWED.encode()]


@pytest.mark.parametrize("kind", ["simple", "preflight"])
def test_origin_header_name_is_compared_exactly(impl: ModuleType, kind: str) -> None:
    # Servers lower-case header names; a raw "Origin" key is not the origin header (as Starlette).
    scope = scope_for(kind, [])
    scope["headers"].insert(0, (b"Origin", ALLOWED.encode()))
    scope["headers"].insert(1, (b"origin", b"https://evil.com"))
    assert_refused(same_as_starlette(impl, EXPLICIT, scope), kind)


@pytest.mark.parametrize(
    "config",
    [
        {"allow_origins": ["*"], "allow_credentials": True},  # reflects anything, by (mis)configuration
        {"allow_origins": ["*"]},
        {"allow_origins": [ALLOWED, "null"], "allow_credentials": True},
        {"allow_origin_regex": r"https://.*example.com", "allow_credentials": True},  # over-broad
        {"allow_origins": ALLOWED},  # a str: substring matching
    ],
    ids=["wildcard-credentials", "wildcard", "null-listed", "broad-regex", "str-origins"],
)
@pytest.mark.parametrize("kind", ["simple", "preflight"])
@pytest.mark.parametrize("origin", ["null", "https://evilexample.com", "app.example", ALLOWED + "a" * 65536])
def test_misconfigurations_answer_as_starlette(
    impl: ModuleType, config: dict[str, Any], kind: str, origin: str
) -> None:
    # Insecure configurations reflect attackers' origins; fastcors must do exactly what
    # Starlette does (drop-in), and configuration checks warn about them.
    same_as_starlette(impl, config, scope_for(kind, [origin.encode()]))


def test_requested_headers_are_mirrored_verbatim_as_starlette(impl: ModuleType) -> None:
    # With allow_headers=["*"], whatever was requested is echoed back (even CR/LF); the
    # server's HTTP layer, not CORS, must refuse such values. Same bytes as Starlette.
    scope = scope_for("preflight", [ALLOWED.encode()], b"x-a\r\nset-cookie: a=b")
    outcome = same_as_starlette(impl, REGEX, scope)
    assert cors_headers(outcome)[b"access-control-allow-headers"] == [b"x-a\r\nset-cookie: a=b"]


@pytest.mark.parametrize("config", [EXPLICIT, REGEX], ids=["explicit", "regex"])
def test_cache_flooding_changes_no_verdict(impl: ModuleType, config: dict[str, Any]) -> None:
    # The memos of verdicts are bounded; flooding them with distinct origins and header lists
    # (more entries than they hold, long and short) must not change any later answer.
    rng = random.Random(1234)
    middleware = impl.CORSMiddleware(_ok_app, **config)
    for i in range(3000):
        label = "".join(rng.choice("abcdefghij") for _ in range(rng.randrange(1, 400)))
        origin = f"https://{label}.example.com".encode() if i % 2 else f"https://{label}.evil.com".encode()
        run(lambda app, m=middleware: m, scope_for("preflight", [origin], f"x-{label}".encode()))
    for kind in ("simple", "preflight"):
        ours = run(lambda app, m=middleware: m, scope_for(kind, [b"https://app.example.com.evil.com"]))
        assert_refused(ours, kind, through_harness_app=False)
        allowed = run(lambda app, m=middleware: m, scope_for(kind, [ALLOWED.encode()]))
        assert cors_headers(allowed)[b"access-control-allow-origin"] == [ALLOWED.encode()]


async def _ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})
