"""The micro-benchmark scenarios: a middleware configuration plus one request each.

Each scenario gives Starlette's keyword arguments (fastcors takes the same ones) and, where
asgi-cors can express it, the equivalent asgi-cors arguments. asgi-cors (1.0.1) only
decorates responses the application sends: it has no credentials support, does not answer
preflights itself (the application answers OPTIONS and asgi-cors adds its headers) and
checks neither methods nor requested headers.

The pattern scenarios also give fastcors-only arguments (`pattern_config`: an
`allow_origin_patterns` list in place of the equivalent `allow_origin_regex`) for the extra
"pattern" rows, whose answers are checked against Starlette's with the regex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALLOWED = "https://app.example.com"
DENIED = "https://evil.example.net"
REGEX_ORIGIN = "https://tenant-42.example.org"
MANY_ORIGINS = [f"https://app{i}.example.com" for i in range(1000)]
# The middle of the list: the average cost of Starlette's linear `in` over a list.
MANY_ORIGINS_PICK = MANY_ORIGINS[500]

# fastcors' origin pattern and a regex allowing exactly the same origins: https, no port, one
# or more labels of [a-z0-9_-] before ".example.org" (what the pattern code accepts).
PATTERN = "https://*.example.org"
PATTERN_REGEX = r"https://([a-z0-9_-]+\.)+example\.org"
# Four times as many distinct origins as fastcors' regex memo holds (1,024 verdicts): cycled
# through in order, every one (compiled, nearly every one) is a miss (the multi-tenant, or
# attacker-chosen, case).
TENANT_ORIGINS = tuple(f"https://tenant-{i}.example.org" for i in range(4096))
# Origins on which every pattern row must answer exactly as Starlette with PATTERN_REGEX does
# (checked before timing, never timed): what either should allow, and look-alikes neither should.
PATTERN_PROBES = (
    REGEX_ORIGIN,
    "https://a.b-c.example.org",
    "https://under_score.example.org",
    "https://xn--bcher-kva.example.org",
    "https://example.org",
    "https://evilexample.org",
    "https://tenant-42.example.org.evil.com",
    "https://tenant-42.example.orgx",
    "http://tenant-42.example.org",
    "https://tenant-42.example.org:8443",
    "https://tenant-42.example.org/",
    "https://tenant-42.example.org.",
    "https://a..example.org",
    "https://.example.org",
    "https://Tenant-42.example.org",
    "https://tenant 42.example.org",
    "null",
)

# What a browser sends with a typical same-site fetch; every scenario starts from this.
BROWSER_HEADERS: list[tuple[bytes, bytes]] = [
    (bytes(name, "latin-1"), bytes(value, "latin-1"))
    for name, value in (
        line.split(": ", 1)
        for line in """\
host: api.example.com
user-agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0
accept: */*
accept-language: en-US,en;q=0.5
accept-encoding: gzip, deflate, br
connection: keep-alive""".splitlines()
    )
]

BASE_CONFIG: dict[str, Any] = {
    "allow_origins": [ALLOWED, "https://admin.example.com"],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["Content-Type", "X-Requested-With", "Authorization"],
}
ASGI_CORS_BASE: dict[str, Any] = {
    "hosts": [ALLOWED, "https://admin.example.com"],
    "methods": ["GET", "POST"],
    "headers": ["Content-Type", "X-Requested-With", "Authorization"],
}


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    method: str
    headers: tuple[tuple[bytes, bytes], ...]
    config: dict[str, Any]  # CORSMiddleware keyword arguments (Starlette's = fastcors's)
    asgi_cors: dict[str, Any] | None  # asgi_cors keyword arguments, None when it cannot
    asgi_cors_na: str = ""  # why asgi-cors is n/a
    preflight: bool = False
    # fastcors-only keyword arguments for the "pattern" rows (rows.PATTERN_ROWS); those rows are
    # checked against Starlette with `config`, which must allow exactly the same origins.
    pattern_config: dict[str, Any] | None = None
    # When given, the request's Origin changes on every call, cycling through these.
    cycle_origins: tuple[str, ...] = ()
    # Origins checked (never timed) on the rows that must answer exactly as Starlette does.
    probe_origins: tuple[str, ...] = ()
    # When given, the request's Access-Control-Request-Headers changes on every call, cycling
    # through these (the hostile scenarios: long values no memo can hold).
    cycle_requested: tuple[bytes, ...] = ()

    def scope(self, origin: str | None = None, requested: bytes | None = None) -> dict[str, Any]:
        """A fresh ASGI http scope for this scenario's request (with `origin` as its Origin,
        `requested` as its Access-Control-Request-Headers)."""
        headers = list(self.headers)
        if origin is not None:
            headers = [(name, origin.encode() if name == b"origin" else value) for name, value in headers]
        if requested is not None:
            headers = [(name, requested if name == REQUEST_HEADERS else value) for name, value in headers]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "https",
            "path": "/api/items",
            "raw_path": b"/api/items",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }

    def scopes(self) -> list[dict[str, Any]]:
        """The scopes timed, in order: one per origin of `cycle_origins` (or value of
        `cycle_requested`), else the one request."""
        if self.cycle_requested:
            return [self.scope(requested=value) for value in self.cycle_requested]
        if not self.cycle_origins:
            return [self.scope()]
        return [self.scope(origin) for origin in self.cycle_origins]

    def check_scopes(self) -> list[dict[str, Any]]:
        """A sample of the timed requests, on which every row is checked before timing."""
        if self.cycle_requested:
            picks = sorted({0, len(self.cycle_requested) // 2, len(self.cycle_requested) - 1})
            return [self.scope(requested=self.cycle_requested[i]) for i in picks]
        if not self.cycle_origins:
            return [self.scope()]
        picks = sorted({0, len(self.cycle_origins) // 2, len(self.cycle_origins) - 1})
        return [self.scope(self.cycle_origins[i]) for i in picks]

    def probe_scopes(self) -> list[dict[str, Any]]:
        return [self.scope(origin) for origin in self.probe_origins]


REQUEST_HEADERS = b"access-control-request-headers"


def _preflight_headers(
    origin: str, method: bytes, requested: bytes, before: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[tuple[bytes, bytes], ...]:
    return (
        *BROWSER_HEADERS,
        *before,
        (b"origin", origin.encode()),
        (b"access-control-request-method", method),
        (REQUEST_HEADERS, requested),
        (b"sec-fetch-mode", b"cors"),
    )


def _many_headers() -> tuple[tuple[bytes, bytes], ...]:
    # 40 headers in all, the origin in the middle (real browsers put it early or late).
    filler = [(f"x-trace-{i:02d}".encode(), f"value-{i:02d}-abcdefghijklmnop".encode()) for i in range(33)]
    headers = [*BROWSER_HEADERS[:3], *filler[:16], (b"origin", ALLOWED.encode()), *BROWSER_HEADERS[3:], *filler[16:]]
    assert len(headers) == 40
    return tuple(headers)


def _scenario(name: str, title: str, method: str, headers: tuple[tuple[bytes, bytes], ...], **fields: Any) -> Scenario:
    """A scenario with BASE_CONFIG (and asgi-cors's equivalent) unless `fields` say otherwise."""
    return Scenario(name, title, method, headers, **{"config": BASE_CONFIG, "asgi_cors": ASGI_CORS_BASE, **fields})


def _get(name: str, title: str, origin: str | None, *extra: tuple[bytes, bytes], **fields: Any) -> Scenario:
    """A GET from `origin` (None: no Origin header), with `extra` headers after it."""
    with_origin = () if origin is None else ((b"origin", origin.encode()),)
    return _scenario(name, title, "GET", (*BROWSER_HEADERS, *with_origin, *extra), **fields)


def _preflight(
    name: str,
    title: str,
    origin: str,
    method: bytes = b"POST",
    requested: bytes = b"content-type,x-requested-with",
    before: tuple[tuple[bytes, bytes], ...] = (),
    **fields: Any,
) -> Scenario:
    headers = _preflight_headers(origin, method, requested, before)
    return _scenario(name, title, "OPTIONS", headers, preflight=True, **fields)


# Hostile preflights: Access-Control-Request-Headers is the client's to choose, as long as the
# server's header limit, and new on every request (so no memo of verdicts can help). BASE_CONFIG
# allows six names (its three and the safelisted ones): these values are made of them.
ALLOWED_NAMES = (
    b"accept",
    b"accept-language",
    b"authorization",
    b"content-language",
    b"content-type",
    b"x-requested-with",
)
REFUSED_NAME = b"x-not-allowed"
HOSTILE_VALUES = 16  # distinct values cycled per scenario


def allowed_names(size: int, shift: int) -> bytes:
    """About `size` bytes (not more) of allowed names, comma-separated, the `shift`-th first."""
    names = [ALLOWED_NAMES[(shift + i) % len(ALLOWED_NAMES)] for i in range(size // 8)]
    value = b",".join(names)[:size]
    return value[: value.rfind(b",")] if len(value) == size else value


def _hostile_values(size: int, refused: str = "") -> tuple[bytes, ...]:
    """HOSTILE_VALUES values of `size` bytes of allowed names, with REFUSED_NAME first or last."""
    values = []
    for shift in range(HOSTILE_VALUES):
        if refused == "first":
            value = REFUSED_NAME + b"," + allowed_names(size - len(REFUSED_NAME) - 1, shift)
        elif refused == "last":
            value = allowed_names(size - len(REFUSED_NAME) - 1, shift) + b"," + REFUSED_NAME
        else:
            value = allowed_names(size, shift)
        values.append(value)
    return tuple(values)


# 2,000 header lines no CORS rule reads, before the preflight's own.
UNRELATED_LINES = tuple((f"x-unrelated-{i:04d}".encode(), f"value-{i:04d}".encode()) for i in range(2000))


# The pattern scenarios time PATTERN (the "pattern" rows) against PATTERN_REGEX (every other row).
PATTERN_FIELDS: dict[str, Any] = {
    "config": {**BASE_CONFIG, "allow_origin_regex": PATTERN_REGEX},
    "asgi_cors": {**ASGI_CORS_BASE, "host_wildcards": [PATTERN]},
    "pattern_config": {**BASE_CONFIG, "allow_origin_patterns": [PATTERN]},
    "probe_origins": PATTERN_PROBES,
}

SCENARIOS: list[Scenario] = [
    _get("no_origin", "request without Origin", None),
    _get(
        "simple_allowed_credentials",
        "simple, allowed origin, cookie, credentials on",
        ALLOWED,
        (b"cookie", b"session=8f2a61c4d0e94b7f; theme=dark"),
        config={**BASE_CONFIG, "allow_credentials": True},
        asgi_cors=None,
        asgi_cors_na="no credentials support (never sends Access-Control-Allow-Credentials)",
    ),
    _get("simple_denied", "simple, denied origin", DENIED),
    _preflight("preflight_allowed", "preflight allowed (method + 2 headers)", ALLOWED),
    _preflight("preflight_denied", "preflight denied (origin)", DENIED),
    _get(
        "regex_origin",
        "origin allowed by allow_origin_regex",
        REGEX_ORIGIN,
        config={**BASE_CONFIG, "allow_origin_regex": r"https://[a-z0-9-]+\.example\.org"},
        # asgi-cors has shell-style wildcards (fnmatch) instead of regexes.
        asgi_cors={**ASGI_CORS_BASE, "host_wildcards": ["https://*.example.org"]},
    ),
    _preflight(
        "wildcard_preflight",
        "wildcard config (*, *, *), preflight",
        ALLOWED,
        b"PUT",
        b"content-type,x-custom-header",
        config={"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"]},
        asgi_cors={"allow_all": True, "methods": ["*"], "headers": ["*"]},
    ),
    _get(
        "many_origins",
        "1,000 allowed origins",
        MANY_ORIGINS_PICK,
        config={**BASE_CONFIG, "allow_origins": MANY_ORIGINS},
        asgi_cors={**ASGI_CORS_BASE, "hosts": MANY_ORIGINS},
    ),
    _scenario("many_headers", "request carrying 40 headers", "GET", _many_headers()),
    # fastcors' allow_origin_patterns against the equivalent allow_origin_regex (and Starlette
    # with that regex): the "fastcors" rows get the regex, the "pattern" rows the pattern.
    _get(
        "pattern_one_origin",
        "origin allowed by pattern vs equivalent regex, same origin every call",
        REGEX_ORIGIN,
        **PATTERN_FIELDS,
    ),
    _get(
        "pattern_4096_origins",
        "origin allowed by pattern vs equivalent regex, a new origin every call (4,096 cycled)",
        TENANT_ORIGINS[0],
        cycle_origins=TENANT_ORIGINS,
        **PATTERN_FIELDS,
    ),
    _preflight(
        "pattern_preflight",
        "preflight allowed by pattern vs equivalent regex, same origin every call",
        REGEX_ORIGIN,
        **PATTERN_FIELDS,
    ),
    # Hostile preflights (HOSTILE_SCENARIOS): each call a different requested-headers value.
    _preflight(
        "hostile_16k_allowed",
        "preflight requesting 16 KB of allowed names",
        ALLOWED,
        cycle_requested=_hostile_values(16 * 1024),
    ),
    _preflight(
        "hostile_64k_allowed",
        "preflight requesting 64 KB of allowed names",
        ALLOWED,
        cycle_requested=_hostile_values(64 * 1024),
    ),
    _preflight(
        "hostile_16k_refused_last",
        "preflight requesting 16 KB of allowed names, then one refused",
        ALLOWED,
        cycle_requested=_hostile_values(16 * 1024, "last"),
    ),
    _preflight(
        "hostile_16k_refused_first",
        "preflight requesting one refused name, then 16 KB of allowed names",
        ALLOWED,
        cycle_requested=_hostile_values(16 * 1024, "first"),
    ),
    _preflight(
        "hostile_16k_mirrored",
        "preflight requesting 16 KB of names, allow_headers=['*'] (mirrored)",
        ALLOWED,
        config={**BASE_CONFIG, "allow_headers": ["*"]},
        asgi_cors={**ASGI_CORS_BASE, "headers": ["*"]},
        cycle_requested=_hostile_values(16 * 1024),
    ),
    _preflight(
        "hostile_2000_lines",
        "preflight with 2,000 unrelated header lines before the CORS ones",
        ALLOWED,
        before=UNRELATED_LINES,
        cycle_requested=tuple(
            b",".join(ALLOWED_NAMES[i % 6 :] + ALLOWED_NAMES[: i % 6]) for i in range(HOSTILE_VALUES)
        ),
    ),
]

PREFLIGHT_SCENARIOS = [s.name for s in SCENARIOS if s.preflight]
PATTERN_SCENARIOS = [s.name for s in SCENARIOS if s.pattern_config is not None]
HOSTILE_SCENARIOS = [s.name for s in SCENARIOS if s.name.startswith("hostile_")]


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)
