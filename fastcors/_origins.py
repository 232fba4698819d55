"""What an origin looks like: its parts, and how a written one differs from what browsers send.

An Origin header is `scheme://host[:port]`, serialized by the browser: scheme and host in lower
case, no default port, no path, no whitespace. The configuration checks (allowed origins),
the pattern parser (origin patterns) and debug mode (near misses) all ask this module, so
each shape rule is written once.
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


class OriginParts(NamedTuple):
    """An origin as written, cut where browsers' serialization puts its parts."""

    scheme: str
    authority: str  # host[:port]
    host: str
    port: str | None
    rest: str  # a path, query or fragment after the authority (never in an Origin header), or ""


def split_origin(text: str) -> OriginParts | None:
    """`scheme://authority[rest]` cut into its parts; None when there is no '://'."""
    scheme, sep, after = text.partition("://")
    if not sep:
        return None
    cut = min((at for at in map(after.find, "/?#") if at >= 0), default=len(after))
    host, port = split_port(after[:cut])
    return OriginParts(scheme, after[:cut], host, port, after[cut:])


def split_port(authority: str) -> tuple[str, str | None]:
    """`host[:port]` as (host, port or None); an IPv6 literal's colons are not a port separator."""
    if authority.startswith("["):
        end = authority.find("]")
        if end >= 0 and authority[end + 1 :].startswith(":"):
            return authority[: end + 1], authority[end + 2 :]
        return authority, None
    host, sep, port = authority.rpartition(":")
    return (host, port) if sep else (authority, None)


def names_default_port(parts: OriginParts) -> bool:
    """Whether the port written is the scheme's default one, which browsers leave out."""
    return parts.port is not None and DEFAULT_PORTS.get(parts.scheme.lower()) == parts.port


def browser_origin(text: str) -> str:
    """The Origin header a browser sends for what `text` names: without whitespace, a path or the
    default port, the scheme and host in lower case."""
    compact = "".join(text.split())
    parts = split_origin(compact)
    if parts is None:
        return compact.lower()
    port = "" if parts.port is None or names_default_port(parts) else ":" + parts.port
    return f"{parts.scheme}://{parts.host}".lower() + port


# What keeps a written origin from equalling an Origin header, in the order they are reported.
WHITESPACE = "whitespace"  # browsers never send any
NULL = "null"  # sent by sandboxed iframes, file: and data: URLs: anyone can send it
NO_SCHEME = "no-scheme"
TRAILING_SLASH = "trailing-slash"
PATH = "path"  # or a query, or a fragment
DEFAULT_PORT = "default-port"
UPPERCASE = "uppercase"  # in the scheme or the host
NO_HOST = "no-host"


def shape_flaws(text: str) -> list[str]:
    """How `text`, written as an origin, differs from every Origin header a browser sends.

    Whitespace is reported, then looked past; "null" and a missing scheme end the list, since
    nothing else can be said of them.
    """
    flaws = []
    if any(ch.isspace() for ch in text):
        flaws.append(WHITESPACE)
        text = "".join(text.split())
    if text.lower() == "null":
        return [*flaws, NULL]
    parts = split_origin(text)
    if parts is None:
        return [*flaws, NO_SCHEME]
    if parts.rest:
        flaws.append(TRAILING_SLASH if parts.rest == "/" else PATH)
    if names_default_port(parts):
        flaws.append(DEFAULT_PORT)
    if parts.scheme != parts.scheme.lower() or parts.host != parts.host.lower():
        flaws.append(UPPERCASE)
    if not parts.host:
        flaws.append(NO_HOST)
    return flaws
