"""Generate odd ASGI inputs for the middleware: scopes and the messages an application sends.

A case is written as Python source text (evaluated afresh for each run), so the very same
input can be given to each implementation, and a failing case is its own reproducer. The
choices come from a `Chooser`: fuzz bytes (atheris), hypothesis, or a seeded random.Random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol


class BytesSub(bytes):
    """A bytes subclass: equal to bytes, but not `type(x) is bytes`."""


class StrSub(str):
    """A str subclass."""


class DictSub(dict):
    """A dict subclass, as some servers or test clients might use for scopes and messages."""


# Names usable in case source text.
NAMESPACE = {"BytesSub": BytesSub, "StrSub": StrSub, "DictSub": DictSub, "memoryview": memoryview}

# Middleware configurations exercised: each takes a different path through the core.
CONFIGS: list[dict[str, Any]] = [
    {"allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "POST"], "allow_headers": ["X-Token"]},
    {"allow_origins": ["*"]},
    {"allow_origins": ["*"], "allow_credentials": True, "expose_headers": ["X-Total"]},
    {
        "allow_origins": ["https://app.example.com"],
        "allow_origin_regex": r"https://[a-z]+\.preview\.example\.com",
        "allow_credentials": True,
    },
    {"allow_origins": "https://app.example.com", "allow_methods": "GET"},  # str: substring tests
    {"allow_origins": ["https://app.example.com"], "allow_methods": ["*"], "allow_headers": ["*"]},
    {"allow_origins": ("https://app.example.com", b"https://evil.com", 3), "allow_private_network": True},
    {},
    {
        "allow_origins": {"https://app.example.com", "null"},
        "allow_credentials": True,
        "expose_headers": ["X-Total", "X-Page"],
        "max_age": 7200,
    },
]

ORIGINS = [
    b"https://app.example.com",
    b"https://evil.com",
    b"https://app.example.com.evil.com",
    b"https://evilapp.example.com",
    b"https://a.preview.example.com",
    b"null",
    b"HTTPS://APP.EXAMPLE.COM",
    b" https://app.example.com",
    b"app.example",  # a substring of a str allow_origins
]
METHOD_VALUES = [b"GET", b"POST", b"OPTIONS", b"PATCH", b"get", b"G"]
HEADER_VALUES = [b"X-Token", b"x-token, content-type", b"accept", b"x-token,,", b"X-Other", b"*"]
INTERESTING = [*ORIGINS, *METHOD_VALUES, *HEADER_VALUES, b"true", b"Accept", b"", b"\xff\xfe\x00"]
# The value pool for a header name: values that mean something for that header, mostly.
VALUES_FOR = {
    b"origin": ORIGINS,
    b"access-control-request-method": METHOD_VALUES,
    b"access-control-request-headers": HEADER_VALUES,
    b"access-control-request-private-network": [b"true", b""],
}
REQUEST_NAMES = [  # weighted towards the two that make a preflight
    b"origin",
    b"origin",
    b"origin",
    b"access-control-request-method",
    b"access-control-request-method",
    b"access-control-request-headers",
    b"access-control-request-private-network",
    b"Origin",
    b"x-other",
]
RESPONSE_NAMES = [
    b"vary",
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"access-control-expose-headers",
    b"content-type",
    b"Vary",
]
SCOPE_TYPES = ['"http"'] * 6 + ['"websocket"', '"lifespan"', 'b"http"', "None"]
METHODS = ['"OPTIONS"', '"OPTIONS"', '"GET"', '"POST"', 'b"OPTIONS"', '"options"', "None", 'StrSub("OPTIONS")']
MESSAGE_TYPES = [
    '"http.response.start"',
    '"http.response.start"',
    '"http.response.body"',
    '"http.response.trailers"',
    "None",
    'b"http.response.start"',
]


class Chooser(Protocol):
    def index(self, n: int) -> int:
        """An int in [0, n)."""

    def raw(self, max_len: int) -> bytes:
        """Up to max_len arbitrary bytes."""


class RandomChooser:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def index(self, n: int) -> int:
        return self.rng.randrange(n)

    def raw(self, max_len: int) -> bytes:
        return self.rng.randbytes(self.rng.randrange(max_len + 1))


@dataclass(frozen=True)
class Case:
    config: int  # index into CONFIGS
    scope: str  # source text of the scope
    messages: str  # source text of the list of messages the application sends

    def make(self) -> tuple[dict[str, Any], Any, Any]:
        """Fresh objects for one run: (config kwargs, scope, messages)."""
        return CONFIGS[self.config], eval(self.scope, dict(NAMESPACE)), eval(self.messages, dict(NAMESPACE))

    def __str__(self) -> str:
        return f"config={CONFIGS[self.config]!r}\nscope={self.scope}\nmessages={self.messages}"


def build_case(ch: Chooser) -> Case:
    # How often a value is malformed, per case: a quarter of the cases are entirely
    # well-formed (so allowed preflights and reflected origins are reached too).
    builder = _Builder(ch, oddness=ch.index(4))
    return Case(ch.index(len(CONFIGS)), builder.scope(), builder.messages())


def _pick(ch: Chooser, options: list[str]) -> str:
    return options[ch.index(len(options))]


class _Builder:
    def __init__(self, ch: Chooser, oddness: int) -> None:
        self.ch = ch
        self.oddness = oddness

    def odd(self) -> bool:
        return self.oddness > 0 and self.ch.index(12) < self.oddness

    def value(self, common: list[bytes]) -> str:
        """Source text of a header value (or name)."""
        known = common[self.ch.index(len(common))]
        if not self.odd():
            return repr(known)
        text = known.decode("latin-1")
        return _pick(
            self.ch,
            [
                repr(self.ch.raw(48)),
                repr(text),  # str instead of bytes
                f"bytearray({known!r})",
                f"BytesSub({known!r})",
                f"StrSub({text!r})",
                f"memoryview({known!r})",
                "None",
                "7",
                f"{known!r} + b'a' * 65536",  # 64 KiB
                repr("\u20ac" + text),  # not latin-1
                f"[{known!r}]",
                "b''",
            ],
        )

    def item(self, names: list[bytes], values: list[bytes]) -> str:
        name = names[self.ch.index(len(names))]
        value = self.value(VALUES_FOR.get(name, values) if self.ch.index(4) else values)
        name_text = self.value(names) if self.odd() else repr(name)
        if not self.odd():
            return f"({name_text}, {value})"
        return _pick(
            self.ch,
            [
                f"[{name_text}, {value}]",
                f"({name_text},)",
                f"({name_text}, {value}, b'')",
                "None",
                "'ab'",
                "b'ab'",
                "5",
            ],
        )

    def headers(self, names: list[bytes], values: list[bytes]) -> str:
        items = ", ".join(self.item(names, values) for _ in range(self.ch.index(5)))
        if not self.odd():
            return f"[{items}]"
        return _pick(
            self.ch, [f"({items},)" if items else "()", f"iter([{items}])", "None", "'origin'", "{b'origin': b'x'}"]
        )

    def scope(self) -> str:
        if self.odd() and self.ch.index(4) == 0:
            return _pick(self.ch, ["None", "[]", "'http'", "{}"])
        entries = []
        if not self.odd() or self.ch.index(2):
            entries.append(f"'type': {_pick(self.ch, SCOPE_TYPES) if self.odd() else repr('http')}")
        if not self.odd() or self.ch.index(2):
            entries.append(f"'method': {_pick(self.ch, METHODS if self.odd() else METHODS[:4])}")
        if not self.odd() or self.ch.index(2):
            entries.append(f"'headers': {self.headers(REQUEST_NAMES, INTERESTING)}")
        body = "{" + ", ".join(entries) + "}"
        return f"DictSub({body})" if self.odd() and self.ch.index(2) else body

    def message(self) -> str:
        if self.odd() and self.ch.index(4) == 0:
            return _pick(self.ch, ["None", "[]", "'http.response.start'"])
        entries = []
        if not self.odd() or self.ch.index(2):
            entries.append(f"'type': {_pick(self.ch, MESSAGE_TYPES if self.odd() else MESSAGE_TYPES[:3])}")
        entries.append("'status': 200")
        if self.ch.index(4):
            entries.append(f"'headers': {self.headers(RESPONSE_NAMES, INTERESTING)}")
        body = "{" + ", ".join(entries) + "}"
        return f"DictSub({body})" if self.odd() and self.ch.index(2) else body

    def messages(self) -> str:
        return "[" + ", ".join(self.message() for _ in range(1 + self.ch.index(3))) + "]"
