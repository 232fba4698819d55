"""The rules _scan runs in C, written in Python: what the uncompiled twin runs in its place.

Same names, same constructors, same answers (the tests hold them to it on every byte value),
memo_hash aside: any hash whose top bits depend on every byte serves a memo.
"""

from __future__ import annotations

from fastcors._config import HeaderNames
from fastcors._patterns import LABEL_ALPHABET, OriginPattern

# What may stand in a host label before a pattern's `.example.com`, besides the dots.
_LABEL_BYTES = (LABEL_ALPHABET + ".").encode("ascii")


class Pattern:
    """An OriginPattern (see _patterns), matched on bytes without a regex."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: OriginPattern) -> None:
        self.pattern = pattern

    def matches(self, origin: bytes) -> bool:
        pattern = self.pattern
        if not origin.startswith(pattern.scheme):
            return False
        host = origin[len(pattern.scheme) :]
        if pattern.any_port:
            host = _without_port(host)
        elif pattern.port:
            if not host.endswith(pattern.port):
                return False
            host = host[: -len(pattern.port)]
        if not pattern.subdomains:
            return host == pattern.host
        # One or more whole labels, then ".example.com".
        labels = host[: len(host) - len(pattern.host)]
        return (
            len(host) > len(pattern.host)
            and host.endswith(pattern.host)
            and not labels.translate(None, _LABEL_BYTES)
            and not labels.startswith(b".")
            and not labels.endswith(b".")
            and b".." not in labels
        )


def _without_port(host: bytes) -> bytes:
    """`host` without its ":port" (1 to 65535, no leading zero, as browsers send it), if any."""
    host_part, colon, digits = host.rpartition(b":")
    if not colon or not digits.isdigit() or len(digits) > 5 or digits.startswith(b"0") or int(digits) > 65535:
        return host
    return host_part


class RequestedHeaders:
    """Starlette's test of an Access-Control-Request-Headers value, on bytes: lower-case,
    split on ",", strip, look up (the steps of its own code)."""

    __slots__ = ("names",)

    def __init__(self, names: HeaderNames) -> None:
        self.names = names

    def allows(self, value: bytes) -> bool:
        """Whether every item of `value` is allowed (Starlette's verdict)."""
        names = self.names
        items = value.translate(names.lower).split(b",")
        return all(item.strip(names.whitespace) in names.allowed for item in items)


def memo_hash(key: bytes) -> int:
    """A 64-bit hash of `key` (see _rules.Memo): Python's own, whose top bits depend on every byte."""
    return hash(key) & 0xFFFF_FFFF_FFFF_FFFF
