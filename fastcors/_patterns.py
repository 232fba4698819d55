"""Origin patterns: `https://*.example.com`, `http://localhost:*`, validated once.

A pattern is an origin (scheme://host[:port]) in which `*.` before the host stands for one or
more whole DNS labels and `:*` for any port, including none. This module turns each pattern
into an `OriginPattern` of bytes; the per-request code matches origins against it with a
prefix, suffix and port check (no regex). Every pattern that could not match what a browser
sends, or that would match origins its author does not own, is refused here with the fix.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, NamedTuple

from fastcors._errors import CORSConfigError
from fastcors._origins import names_default_port, split_origin

# What a host label may hold once a browser has serialized the origin (letters lower-cased,
# international names punycoded): letters, digits, hyphen, and the underscore some hosts use.
LABEL_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_"
LABEL_CHARS = frozenset(LABEL_ALPHABET)
SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")
# Special-use and reserved names (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal) that no
# one can register in the public DNS: their subdomains are the user's own, whatever the
# Public Suffix List's default rule ("any unknown top-level name is public") says.
PRIVATE_NAMES = frozenset({"localhost", "test", "example", "invalid", "local", "internal", "home.arpa"})


class OriginPattern(NamedTuple):
    """A pattern as the per-request code matches it, all lower-case latin-1 bytes."""

    text: str  # as the user wrote it, for messages
    scheme: bytes  # b"https://"
    host: bytes  # the whole host, or, with `subdomains`, the part after `*` (b".example.com")
    subdomains: bool  # `*.` : one or more labels before `host`
    any_port: bool  # `:*` : any port, or none
    port: bytes  # with `any_port` False: b"" (no port) or b":8080"


def pattern_items(patterns: Any) -> Collection[Any]:
    """`allow_origin_patterns` itself, once it is known to be a collection of patterns."""
    if isinstance(patterns, (str, bytes)) or not isinstance(patterns, Collection):
        raise CORSConfigError(
            f"allow_origin_patterns must be a list of patterns such as ['https://*.example.com'], "
            f"not {type(patterns).__name__} {patterns!r}"
        )
    return patterns


def parse_patterns(patterns: Any, credentials: bool) -> tuple[OriginPattern, ...]:
    """Validate `allow_origin_patterns`; CORSConfigError naming the first bad pattern and the fix."""
    parsed = tuple(parse_pattern(pattern, credentials) for pattern in pattern_items(patterns))
    return tuple(dict.fromkeys(parsed))  # duplicates only cost time


def parse_pattern(pattern: Any, credentials: bool = False) -> OriginPattern:
    if not isinstance(pattern, str):
        raise CORSConfigError(f"allow_origin_patterns: {pattern!r} is a {type(pattern).__name__}, not a str")

    def refuse(reason: str) -> CORSConfigError:
        return CORSConfigError(f"allow_origin_patterns: {pattern!r} {reason}")

    if not pattern or pattern != pattern.strip() or any(ch.isspace() for ch in pattern):
        raise refuse("is empty or contains whitespace, which an Origin header never does")
    if not pattern.isascii():
        raise refuse("has non-ASCII characters; browsers send international domain names punycoded (xn--...)")
    if pattern != pattern.lower():
        raise refuse(
            f"has upper-case letters, but browsers send scheme and host in lower case and the match is "
            f"exact; use {pattern.lower()!r}"
        )
    if pattern == "null":
        raise refuse("is allowed by any sandboxed iframe or file: page, so any website can send it")
    parts = split_origin(pattern)
    if parts is None:
        raise refuse(f"has no scheme; write it as {'https://' + pattern.split('/')[0]!r}")
    scheme, authority, host, port, rest = parts
    if not scheme or not scheme[0].isalpha() or not set(scheme) <= SCHEME_CHARS:
        raise refuse(f"has an invalid scheme {scheme!r}; write it as 'https://*.example.com'")
    if rest:
        what = "a trailing slash" if rest == "/" else "a path"
        raise refuse(f"has {what}, but an Origin header is only scheme://host[:port]; use {f'{scheme}://{authority}'!r}")
    if authority.startswith("*.["):
        raise refuse("puts '*.' before an IP address, which has no subdomains")
    if "@" in authority:
        raise refuse("has user information ('@'), which an Origin header never carries")
    any_port = port == "*"
    if port is not None and not any_port:
        if not port.isdigit() or port.startswith("0") or not 0 < int(port) <= 65535:
            raise refuse(f"has the invalid port {port!r}; a port is a number from 1 to 65535, or '*' for any")
        if names_default_port(parts):
            raise refuse(
                f"names the default port :{port}, which browsers leave out of the Origin; "
                f"use {f'{scheme}://{host}'!r} (or ':*' for any port)"
            )
    if host == "*":
        raise refuse("would match every origin of its scheme; use allow_origins=['*'] if that is meant")
    if "*" in scheme or "*" in host[1:] or (host.startswith("*") and not host.startswith("*.")):
        if host.startswith("*") and not host.startswith("*.") and "*" not in host[1:]:
            raise refuse(
                f"puts '*' directly before a name, so it would also match look-alikes such as "
                f"{f'{scheme}://evil{host[1:]}'!r}; '*' stands for whole labels: use "
                f"{f'{scheme}://*.{host[1:]}'!r}"
            )
        raise refuse("has a '*' where none is allowed: only a leading '*.' in the host and a ':*' port")
    subdomains = host.startswith("*.")
    name = host[2:] if subdomains else host
    _check_host(name, subdomains, refuse)
    if subdomains and credentials and is_public_suffix(name):
        raise refuse(
            f"with allow_credentials=True lets every site registered under the public suffix {name!r} "
            f"(anyone can register one) read your users' authenticated responses; name your own domain, "
            f"e.g. {f'{scheme}://*.yourname.{name}'!r}"
        )
    return OriginPattern(
        text=pattern,
        scheme=f"{scheme}://".encode("ascii"),
        host=(host[1:] if subdomains else host).encode("ascii"),
        subdomains=subdomains,
        any_port=any_port,
        port=b"" if port is None or any_port else f":{port}".encode("ascii"),
    )


def _check_host(name: str, subdomains: bool, refuse: Any) -> None:
    if not name:
        raise refuse("has no host; write it as 'https://*.example.com' or 'http://localhost:*'")
    if name.startswith("["):
        if subdomains:
            raise refuse("puts '*.' before an IP address, which has no subdomains")
        if not name.endswith("]") or not set(name[1:-1]) <= set("0123456789abcdef:."):
            raise refuse("has an invalid IPv6 address")
        return
    if name.endswith("."):
        raise refuse(f"ends the host with '.', which browsers drop; use {name.rstrip('.')!r}")
    labels = name.split(".")
    for label in labels:
        if not label or not set(label) <= LABEL_CHARS:
            raise refuse(
                f"has the invalid host label {label!r}; labels are letters, digits, '-' and '_', "
                f"separated by single dots"
            )
    if subdomains and all(label.isdigit() for label in labels):
        raise refuse("puts '*.' before an IP address, which has no subdomains")


@functools.lru_cache(maxsize=1)
def _public_suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()  # the list shipped with the package; nothing is fetched


def public_suffix(host: str) -> str:
    """The public suffix of `host` (github.io, co.uk, com), by the Public Suffix List."""
    for name in PRIVATE_NAMES:
        if host == name or host.endswith("." + name):
            return name
    return _public_suffix_list().publicsuffix(host) or host


def is_public_suffix(host: str) -> bool:
    """Whether anyone can register a name directly under `host` (`com`, `github.io`)."""
    return host not in PRIVATE_NAMES and public_suffix(host) == host
