"""Turn CORSMiddleware's arguments into the values the per-request code looks up.

This is the one place that decides. It follows Starlette's constructor step by step, so the
same arguments give the same header bytes and raise the same exceptions; the per-request
code (compiled or pure Python) only looks things up in what is built here and splices.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastcors._errors import CORSConfigError
from fastcors._generations import Generation, generation
from fastcors._patterns import OriginPattern, parse_patterns
from fastcors._routing import installed_rule

if TYPE_CHECKING:
    from fastcors._settings import CORSSettings

SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}
# What every generation merges into `vary` when the answer depends on the origin.
VARY_ORIGIN = (b"vary", b"Origin")
# The headers a simple response may get besides `vary` (Starlette's simple_headers and the origin).
RESPONSE_HEADER_NAMES = (
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"access-control-expose-headers",
)
# The response header names the simple-response step sets or merges, and their first letters:
# an app's header starting otherwise is none of them.
RESPONSE_NAMES = frozenset({VARY_ORIGIN[0], *RESPONSE_HEADER_NAMES})
RESPONSE_NAME_INITIALS = bytes(sorted({name[0] for name in RESPONSE_NAMES}))

# Bits of a refused preflight, in the order Starlette lists them in the 400 body.
FAILURE_NAMES = ("origin", "method", "headers", "private-network")
ORIGIN_FAILURE, METHOD_FAILURE, HEADERS_FAILURE, PRIVATE_NETWORK_FAILURE = (1 << bit for bit in range(4))
# A bit beyond those, for explanations only: a WebSocket handshake refused for its origin.
WEBSOCKET_FAILURE = 1 << len(FAILURE_NAMES)
# Requests are counted (fastcors.request_counts) by kind and by the first failed check, in
# Starlette's order, or "none" when allowed: one slot per pair.
COUNTED_KINDS = ("none", "preflight", "simple", "websocket")  # "none": no Origin
COUNTED_REASONS = ("none", *FAILURE_NAMES)
COUNT_SLOTS = len(COUNTED_KINDS) * len(COUNTED_REASONS)


def count_slot(kind: str, reason: str) -> int:
    return COUNTED_KINDS.index(kind) * len(COUNTED_REASONS) + COUNTED_REASONS.index(reason)


# A preflight's slot, by its failure bits.
PREFLIGHT_COUNT_SLOTS = bytes(
    count_slot("preflight", FAILURE_NAMES[(failures & -failures).bit_length() - 1] if failures else "none")
    for failures in range(1 << len(FAILURE_NAMES))
)
# The content type of every plain-text answer fastcors sends itself (Starlette's PlainTextResponse).
PLAIN_TEXT = (b"content-type", b"text/plain; charset=utf-8")
# What the origin rule answers (see _rules) for an allowed origin that has no ready answers in
# `origin_answers`: allowed by `*` (an answer that does not name it), or by a rule beyond the
# exact set (one that names it). Compared by identity.
ANY_ORIGIN = "any origin"
UNLISTED_ORIGIN = "unlisted origin"


@dataclass(frozen=True)
class Config:
    """Everything the per-request code needs, precomputed as bytes, sets and tuples."""

    generation: Generation  # the Starlette releases whose answers these are
    allow_all_origins: bool
    # `*` with credentials (from 1.0): Starlette answers every origin with itself.
    reflect_any_origin: bool
    # `*` before 1.0: Starlette answers with the origin itself when the request has a cookie.
    reflect_origin_on_cookie: bool
    # Whether every response gets `vary` (else only those naming the origin, and requests
    # without an Origin pass through untouched).
    vary_on_every_response: bool
    # Whether the merge into the app's `vary` joins all its values, or only the first.
    vary_joins_every_value: bool
    # Exact-match set of allowed origins (latin-1 bytes), or None when the user passed
    # something other than a plain collection of str: then `origins_fallback` is used with
    # Python's `in`, exactly as Starlette does (a str makes it a substring test).
    origins: frozenset[bytes] | None
    origins_fallback: Any
    origin_regex: re.Pattern[str] | None
    preflight_explicit_origin: bool
    methods: frozenset[bytes] | None
    methods_fallback: Any
    allow_all_headers: bool
    allowed_headers: frozenset[str]
    header_names: HeaderNames  # the same, as the tables the request path scans with
    allow_private_network: bool
    # Whether Access-Control-Request-Private-Network is looked at (Starlette 1.0 on).
    check_private_network: bool
    preflight_headers: tuple[tuple[bytes, bytes], ...]
    # (status, body, content-length header) for each combination of failure bits.
    preflight_answers: tuple[tuple[int, bytes, tuple[bytes, bytes]], ...]
    # Headers set on simple responses to requests with an Origin; the explicit origin, when
    # one is sent, goes between `before` and `after` (replacing a `*` if there was one).
    simple_headers: tuple[tuple[bytes, bytes], ...]
    simple_before_origin: tuple[tuple[bytes, bytes], ...]
    simple_after_origin: tuple[tuple[bytes, bytes], ...]
    # The headers appended to a response none of whose headers this step replaces or merges
    # (the common case): one list concatenation. Without an Origin (reached only when every
    # response gets vary), and with an Origin the answer does not name. Lists, as the request
    # path concatenates them to the app's list; never mutated.
    suffix_without_origin: list[tuple[bytes, bytes]]
    suffix_not_named: list[tuple[bytes, bytes]]
    # The suffix naming an origin not known in advance, with None where the origin goes
    # (at `named_suffix_at`): concatenated, then that one item replaced.
    named_suffix: list[tuple[bytes, bytes] | None]
    named_suffix_at: int
    # Per origin of the exact set (when it is not `*`): (the suffix naming it, the headers of
    # the preflight answer allowing it with nothing requested beyond the allowed method and
    # headers). `small_origin_answers` holds the same, flat (origin, answers, origin, ...),
    # when there are few: compiled, a few length-first comparisons cost less than hashing.
    origin_answers: dict[bytes, tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]]
    small_origin_answers: tuple[Any, ...] | None
    # The allowed methods as a tuple when there are few (compared the same way), else None.
    small_methods: tuple[bytes, ...] | None
    # The longest key of `origin_answers` and of `methods` (0 when empty or None): a longer
    # origin or method, whatever its length, is refused without being hashed.
    longest_origin: int
    longest_method: int
    # fastcors' own, opt-in rules, consulted only when Starlette's rules refuse an origin.
    origin_patterns: tuple[OriginPattern, ...]
    origin_func: Callable[[str], bool] | None
    websocket_guard: bool
    websocket_denial: tuple[int, tuple[tuple[bytes, bytes], ...], bytes]  # status, headers, body
    # (prefix, its configuration, or None for no CORS handling), longest prefix first, and how
    # the route path they are matched against is derived (the installed router's rule, see _routing).
    paths: tuple[tuple[str, Config | None], ...]
    route_path_rule: int
    # Whether an answer naming the origin lets credentials through (for the report-only comparison).
    allow_credentials: bool
    # The report-only candidate's configuration, or None.
    report_only: Config | None

    @property
    def origin_extended(self) -> bool:
        """Whether an origin Starlette's rules refuse may still be allowed (patterns or a function)."""
        return bool(self.origin_patterns) or self.origin_func is not None


def _latin1(argument: str, value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        # Starlette would accept this and then fail on every response carrying it.
        raise CORSConfigError(
            f"{argument}: {value!r} cannot be sent in an HTTP header (only latin-1 characters can)"
        ) from None


def _raw_headers(argument: str, headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    # The same transformation as Starlette's Response.init_headers.
    return tuple((_latin1(argument, k.lower()), _latin1(argument, v)) for k, v in headers.items())


def _exact_set(collection: Any) -> tuple[frozenset[bytes] | None, Any]:
    """A frozenset of bytes when `in` on the collection means plain string equality."""
    if type(collection) in (list, tuple, set, frozenset) and all(type(item) is str for item in collection):
        # A str outside latin-1 can never equal a latin-1-decoded header value.
        encodable = (item for item in collection if item.isascii() or max(item) <= "\xff")
        return frozenset(item.encode("latin-1") for item in encodable), None
    return None, collection


def _preflight_answers() -> tuple[tuple[int, bytes, tuple[bytes, bytes]], ...]:
    answers = []
    for failures in range(1 << len(FAILURE_NAMES)):
        names = [name for bit, name in enumerate(FAILURE_NAMES) if failures & (1 << bit)]
        if names:
            status, body = 400, ("Disallowed CORS " + ", ".join(names)).encode()
        else:
            status, body = 200, b"OK"
        answers.append((status, body, (b"content-length", str(len(body)).encode())))
    return tuple(answers)


PREFLIGHT_ANSWERS = _preflight_answers()
# Up to this many origins (or methods) are compared one by one rather than hashed.
SMALL_SET = 4
_WEBSOCKET_DENIAL_BODY = b"Disallowed CORS origin"
WEBSOCKET_DENIAL = (
    403,
    (
        PLAIN_TEXT,
        (b"content-length", str(len(_WEBSOCKET_DENIAL_BODY)).encode()),
    ),
    _WEBSOCKET_DENIAL_BODY,
)


# Starlette decodes a header value as latin-1, then lower-cases and strips its items: on
# latin-1 text both act byte by byte, so these tables, read off Python's own str methods
# for each of the 256 characters, let the request path apply them to the bytes as they came.
# (A character whose lower case were not one latin-1 character would fail here, at import.)
LATIN1_LOWER = bytes(ord(chr(byte).lower()) for byte in range(256))
# 1 for a byte whose lower-cased character str.strip() removes (\t to \r, \x1c to \x1f, space, \x85, \xa0).
LATIN1_STRIPPED = bytes(chr(byte).lower().strip() == "" for byte in range(256))
LATIN1_WHITESPACE = bytes(byte for byte in range(256) if LATIN1_STRIPPED[byte])


@dataclass(frozen=True)
class HeaderNames:
    """Starlette's requested-headers test (see refused_headers) as tables over latin-1 bytes.

    An Access-Control-Request-Headers value is allowed when every item, split on ",",
    lower-cased and stripped, is one of the allowed names. The request path scans the bytes
    against these tables, stopping at the first refused item (Starlette's answer depends on
    nothing after it).
    """

    lower: bytes  # LATIN1_LOWER
    stripped: bytes  # LATIN1_STRIPPED
    whitespace: bytes  # LATIN1_WHITESPACE, for bytes.strip
    # The allowed names, lower-cased, as latin-1 bytes (a name outside latin-1 matches nothing).
    allowed: frozenset[bytes]
    # The same for the compiled scan, flat (it reads them in place, with no object to handle):
    # only names a stripped item can equal (not empty, no "," and no whitespace at either end),
    # grouped by first byte, each name a 4-byte length and its bytes; and where each byte's
    # group starts in `names`, 257 offsets of 4 bytes (the last, the end of `names`). Numbers
    # are in the machine's byte order: compiled, each is one load.
    names: bytes
    starts: bytes
    empty_allowed: bool  # whether "" is allowed (else an empty item is refused)


def header_names(allowed_lower: frozenset[str]) -> HeaderNames:
    """The tables of HeaderNames for the allowed names, already lower-cased as Starlette does."""
    allowed = frozenset(name.encode("latin-1") for name in allowed_lower if name.isascii() or max(name) <= "\xff")
    groups: list[list[bytes]] = [[] for _ in range(256)]
    for name in allowed:
        if (
            name
            and b"," not in name
            and name.strip(LATIN1_WHITESPACE) == name
            # The scan takes an item's byte as matching when equal to the name's: true of a
            # lower-cased name, whose every byte is its own lower case (checked all the same).
            and name.translate(LATIN1_LOWER) == name
        ):
            groups[name[0]].append(name)
    names = bytearray()
    starts = bytearray()
    for group in groups:
        starts += len(names).to_bytes(4, sys.byteorder)
        for name in sorted(group):
            names += len(name).to_bytes(4, sys.byteorder) + name
    starts += len(names).to_bytes(4, sys.byteorder)
    return HeaderNames(
        lower=LATIN1_LOWER,
        stripped=LATIN1_STRIPPED,
        whitespace=LATIN1_WHITESPACE,
        allowed=allowed,
        names=bytes(names),
        starts=bytes(starts),
        empty_allowed=b"" in allowed,
    )


def refused_headers(allowed: frozenset[str], requested: str) -> list[str]:
    """The items of an Access-Control-Request-Headers value that `allowed` refuses.

    Starlette's test: split on ",", lower-case, strip, look up (so an empty item is refused).
    For the denial explanations, which list them all; the request path scans with HeaderNames.
    """
    return [item for item in requested.split(",") if item.lower().strip() not in allowed]


def is_async(function: Any) -> bool:
    """Whether calling `function` gives a coroutine (an async function, or an object with an async __call__)."""
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(type(function).__call__)


def _origin_func(func: Any) -> Callable[[str], bool] | None:
    if func is None:
        return None
    if not callable(func):
        raise CORSConfigError(f"allow_origin_func must be a callable taking the origin (a str), not {func!r}")
    if is_async(func):
        # Its coroutine would be truthy: every origin would pass.
        raise CORSConfigError(
            f"allow_origin_func {func!r} is an async function; it must be a plain function returning "
            f"True or False (load the allowed origins into memory, or cache the lookup)"
        )
    return func


def build_config(settings: CORSSettings) -> Config:
    # Mirrors starlette.middleware.cors.CORSMiddleware.__init__, statement for statement, in the
    # generation asked for; fastcors' own arguments come after (see _patterns).
    starlette = generation(settings.starlette_version)
    if settings.allow_private_network and not starlette.private_network:
        # Starlette before 0.51 has no such argument (a TypeError there), and takes
        # expose_headers and max_age in its sixth and seventh places.
        raise CORSConfigError(
            f"allow_private_network={settings.allow_private_network!r}, but fastcors answers as Starlette "
            f"{starlette.releases} (starlette_version={settings.starlette_version!r}), which has no such "
            f"argument. If you passed expose_headers and max_age by position, as those releases take them, "
            f"pass them by name; to allow private network access, pass starlette_version='newest'"
        )
    allow_origins = settings.allow_origins
    allow_methods = settings.allow_methods
    allow_headers = settings.allow_headers
    allow_credentials = settings.allow_credentials
    allow_origin_regex = settings.allow_origin_regex
    expose_headers = settings.expose_headers
    if "*" in allow_methods:
        allow_methods = starlette.all_methods

    compiled_allow_origin_regex = None
    if allow_origin_regex is not None:
        compiled_allow_origin_regex = re.compile(allow_origin_regex)
        if not isinstance(compiled_allow_origin_regex.pattern, str):
            # Starlette accepts it, then raises TypeError on every request with an Origin.
            raise TypeError(f"allow_origin_regex must be a str pattern, not {allow_origin_regex!r}")

    allow_all_origins = "*" in allow_origins
    allow_all_headers = "*" in allow_headers
    preflight_explicit_allow_origin = not allow_all_origins or allow_credentials

    simple_headers: dict[str, str] = {}
    if allow_all_origins:
        simple_headers["Access-Control-Allow-Origin"] = "*"
    if allow_credentials:
        simple_headers["Access-Control-Allow-Credentials"] = "true"
    if expose_headers:
        simple_headers["Access-Control-Expose-Headers"] = ", ".join(expose_headers)

    preflight_headers: dict[str, str] = {}
    if preflight_explicit_allow_origin or starlette.preflight_vary_on_wildcard:
        preflight_headers["Vary"] = starlette.preflight_vary
    if not preflight_explicit_allow_origin:
        preflight_headers["Access-Control-Allow-Origin"] = "*"
    preflight_headers.update(
        {
            "Access-Control-Allow-Methods": ", ".join(allow_methods),
            "Access-Control-Max-Age": str(settings.max_age),
        }
    )
    sorted_headers = sorted(SAFELISTED_HEADERS | set(allow_headers))
    if sorted_headers and not allow_all_headers:
        preflight_headers["Access-Control-Allow-Headers"] = ", ".join(sorted_headers)
    if allow_credentials:
        preflight_headers["Access-Control-Allow-Credentials"] = "true"

    allowed_headers = frozenset(h.lower() for h in sorted_headers)
    origins, origins_fallback = _exact_set(allow_origins)
    methods, methods_fallback = _exact_set(allow_methods)
    simple = _raw_headers("allow/expose headers", simple_headers)
    raw_preflight_headers = _raw_headers("allow_methods/allow_headers/max_age", preflight_headers)
    vary = [VARY_ORIGIN] if starlette.vary_on_every_response else []
    origin_answers = {}
    if origins is not None and not allow_all_origins:
        # Each allowed origin's answers, spliced as the request path would splice them.
        ok_length = PREFLIGHT_ANSWERS[0][2]  # the content-length of b"OK"
        origin_answers = {
            origin: (
                [*simple, (RESPONSE_HEADER_NAMES[0], origin), VARY_ORIGIN],
                [*raw_preflight_headers, (RESPONSE_HEADER_NAMES[0], origin), ok_length, PLAIN_TEXT],
            )
            for origin in sorted(origins)
        }
    reflects_on_credentials = starlette.wildcard_reflects_on == "credentials"
    # With `*`, the origin is named only when reflected, and then replaces the `*` in
    # place; otherwise Starlette appends it after the other simple headers.
    before_origin = () if allow_all_origins else simple
    after_origin = simple[1:] if allow_all_origins else ()
    # fastcors' own arguments are checked after Starlette's, whose errors come first.
    origin_patterns = parse_patterns(settings.allow_origin_patterns, bool(allow_credentials))
    origin_func = _origin_func(settings.allow_origin_func)
    websocket_guard = settings.websocket_origin_guard
    if not isinstance(websocket_guard, bool):
        raise CORSConfigError(f"websocket_origin_guard must be True or False, not {websocket_guard!r}")
    return Config(
        generation=starlette,
        allow_all_origins=bool(allow_all_origins),
        reflect_any_origin=bool(allow_all_origins and allow_credentials and reflects_on_credentials),
        reflect_origin_on_cookie=bool(allow_all_origins and not reflects_on_credentials),
        vary_on_every_response=starlette.vary_on_every_response,
        vary_joins_every_value=starlette.vary_joins_every_value,
        origins=origins,
        origins_fallback=origins_fallback,
        origin_regex=compiled_allow_origin_regex,
        preflight_explicit_origin=bool(preflight_explicit_allow_origin),
        methods=methods,
        methods_fallback=methods_fallback,
        allow_all_headers=bool(allow_all_headers),
        allowed_headers=allowed_headers,
        header_names=header_names(allowed_headers),
        allow_private_network=bool(settings.allow_private_network),
        check_private_network=starlette.private_network,
        preflight_headers=raw_preflight_headers,
        preflight_answers=PREFLIGHT_ANSWERS,
        simple_headers=simple,
        simple_before_origin=before_origin,
        simple_after_origin=after_origin,
        suffix_without_origin=vary,
        named_suffix=[*before_origin, None, *after_origin, VARY_ORIGIN],
        named_suffix_at=len(before_origin),
        suffix_not_named=[*simple, *vary],
        origin_answers=origin_answers,
        small_origin_answers=tuple(item for pair in origin_answers.items() for item in pair)
        if len(origin_answers) <= SMALL_SET
        else None,
        small_methods=tuple(sorted(methods)) if methods is not None and len(methods) <= SMALL_SET else None,
        longest_origin=max(map(len, origin_answers), default=0),
        longest_method=max(map(len, methods or ()), default=0),
        origin_patterns=origin_patterns,
        origin_func=origin_func,
        websocket_guard=websocket_guard,
        websocket_denial=WEBSOCKET_DENIAL,
        paths=_path_configs(settings),
        route_path_rule=installed_rule(),
        allow_credentials=bool(allow_credentials),
        report_only=_candidate_config(settings),
    )


# What a path's (or the report-only candidate's) settings take from the top level; they may
# repeat them, not contradict them.
INHERITED = ("starlette_version", "strict", "debug", "on_denied", "log_denials", "on_report")


def _inherit(where: str, part: CORSSettings, settings: CORSSettings) -> CORSSettings:
    """`part` (a path's settings, the candidate's) with what it takes from the top level."""
    defaults = type(settings)()
    if part.report_only is not None:
        raise CORSConfigError(f"{where} has report_only of its own: report_only is a top-level argument")
    for name in INHERITED:
        value = getattr(part, name)
        if value != getattr(defaults, name) and value != getattr(settings, name):
            raise CORSConfigError(
                f"{where}: {name}={value!r} contradicts the top level's {name}="
                f"{getattr(settings, name)!r}; set {name} once, at the top level ({where} takes it from there)"
            )
    return dataclasses.replace(part, **{name: getattr(settings, name) for name in INHERITED})


def _candidate_config(settings: CORSSettings) -> Config | None:
    """The report-only candidate's configuration (its own `paths` included), or None."""
    if settings.report_only is None:
        return None
    if not isinstance(settings.report_only, type(settings)):
        raise CORSConfigError(
            f"report_only must be a fastcors.CORSSettings (the candidate policy), not {settings.report_only!r}"
        )
    return build_config(_inherit("report_only", settings.report_only, settings))


def _path_configs(settings: CORSSettings) -> tuple[tuple[str, Config | None], ...]:
    """The configuration of each path prefix in `paths`, longest prefix first."""
    if settings.paths is None:
        return ()
    if not isinstance(settings.paths, Mapping):
        raise CORSConfigError(
            f"paths must be a dict mapping path prefixes to CORSSettings (or None for no CORS handling), "
            f"e.g. {{'/public': CORSSettings(allow_origins=['*'])}}, not {settings.paths!r}"
        )
    settings_type = type(settings)  # CORSSettings (its module imports this one)
    configs: list[tuple[str, Config | None]] = []
    for prefix, path_settings in settings.paths.items():
        if type(prefix) is not str or not prefix.startswith("/") or (prefix != "/" and prefix.endswith("/")):
            fixed = "/" + prefix.strip("/") if isinstance(prefix, str) else "'/api'"
            raise CORSConfigError(
                f"paths: the prefix {prefix!r} must start with '/' and not end with '/' ('/' itself aside): "
                f"it stands for itself and everything below it; write {fixed!r}"
            )
        if path_settings is None:
            configs.append((prefix, None))
            continue
        if not isinstance(path_settings, settings_type):
            raise CORSConfigError(
                f"paths[{prefix!r}] must be a fastcors.CORSSettings (or None for no CORS handling), "
                f"not {path_settings!r}"
            )
        if path_settings.paths is not None:
            raise CORSConfigError(f"paths[{prefix!r}] has paths of its own: list every prefix in the top level's paths")
        configs.append((prefix, build_config(_inherit(f"paths[{prefix!r}]", path_settings, settings))))
    return tuple(sorted(configs, key=lambda item: len(item[0]), reverse=True))
