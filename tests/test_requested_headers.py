"""The requested-headers scan (RequestedHeaders: _scan compiled, _reference in Python) and the
tables it reads (_config).

Starlette decodes Access-Control-Request-Headers as latin-1, lower-cases it, splits it on ","
and strips each item: the scan does the same on the bytes, with tables that must agree with
Python's own str methods on every one of the 256 latin-1 characters.
"""

from __future__ import annotations

import dataclasses
import sys
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastcors import _reference
from fastcors._config import LATIN1_LOWER, LATIN1_STRIPPED, LATIN1_WHITESPACE, HeaderNames, header_names

BYTES = range(256)


def starlette_allows(allowed: frozenset[str], value: bytes) -> bool:
    """Starlette's test, as its preflight_response writes it."""
    text = value.decode("latin-1")
    return all(header.strip() in allowed for header in [h.lower() for h in text.split(",")])


def scans(impl: ModuleType) -> ModuleType:
    """Where an implementation's RequestedHeaders comes from: compiled, _scan; else _reference."""
    if impl.COMPILED:
        from fastcors import _scan

        return _scan
    return _reference


def scan(impl: ModuleType, *allowed: str) -> object:
    return scans(impl).RequestedHeaders(header_names(frozenset(name.lower() for name in allowed)))


def test_the_lower_case_table_is_str_lower_on_every_latin1_character() -> None:
    assert len(LATIN1_LOWER) == 256
    for byte in BYTES:
        assert chr(LATIN1_LOWER[byte]) == chr(byte).lower(), hex(byte)
    changed = {byte for byte in BYTES if LATIN1_LOWER[byte] != byte}
    assert changed == set(range(0x41, 0x5B)) | set(range(0xC0, 0xDF)) - {0xD7}


def test_the_whitespace_table_is_str_strip_on_every_latin1_character() -> None:
    assert len(LATIN1_STRIPPED) == 256
    for byte in BYTES:
        character = chr(byte)
        assert LATIN1_STRIPPED[byte] == (character.strip() == "") == (character.lower().strip() == ""), hex(byte)
        # Lower-casing never makes or unmakes whitespace: strip before or after lower agrees.
        assert LATIN1_STRIPPED[LATIN1_LOWER[byte]] == LATIN1_STRIPPED[byte]
    assert bytes([9, 10, 11, 12, 13, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0]) == LATIN1_WHITESPACE


@pytest.mark.parametrize("byte", BYTES)
def test_every_byte_alone_and_inside_a_name(impl: ModuleType, byte: int) -> None:
    character = chr(byte)
    allowed = frozenset({"x" + character.lower() + "y", character.lower(), "plain"})
    tested = scans(impl).RequestedHeaders(header_names(allowed))
    for value in (
        bytes([byte]),
        b"x" + bytes([byte]) + b"y",
        b" X" + bytes([byte]) + b"Y ",
        b"plain," + bytes([byte]),
        bytes([byte]) + b",plain",
        bytes([byte, byte]),
        b"plain" + bytes([byte]) + b"plain",
    ):
        assert tested.allows(value) is starlette_allows(allowed, value), (hex(byte), value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"content-type", True),
        (b"Content-Type, X-Custom", True),
        (b"\xa0x-custom\x85,\x1ccontent-type\x1f", True),
        (b"x-custom,", False),  # an empty item after the last comma
        (b",x-custom", False),
        (b"x-custom,,content-type", False),
        (b"", False),
        (b" ", False),
        (b",", False),
        (b"x-custom content-type", False),
        (b"x-customx", False),
        (b"x-custo", False),
        (b"X-\xc9T\xc9", True),  # latin-1 capitals lower-case as str.lower() does
        (b"x-\xe9t\xe9", True),
        (b"x-\xc9t\xc9\xd7", False),
        (b"x-custom\x00", False),  # NUL is not whitespace
        (b"x-custom" * 10_000, False),
        (b"x-custom," * 10_000 + b"content-type", True),
        (b"x-custom," * 10_000 + b"x-evil", False),
    ],
)
def test_values(impl: ModuleType, value: bytes, expected: bool) -> None:
    allowed = ("X-Custom", "Content-Type", "X-\xc9t\xe9")
    assert scan(impl, *allowed).allows(value) is expected
    assert starlette_allows(frozenset(name.lower() for name in allowed), value) is expected


def test_odd_allowed_names(impl: ModuleType) -> None:
    # An empty name allows empty items; names with whitespace at an end, or a comma, match no
    # item (every item is stripped, and none holds a comma); one outside latin-1 matches nothing,
    # unless its lower case is latin-1 (the Kelvin sign lower-cases to "k").
    tested = scan(impl, "", " x-spaced ", "a,b", "\u0100", "\u212a", "x y")
    for value, expected in [
        (b"", True),
        (b",, ,", True),
        (b"x-spaced", False),
        (b" x-spaced ", False),
        (b"a,b", False),
        (b"k", True),
        (b"K", True),
        (b"x y", True),
        (b"X  Y", False),
        (b"\x00", False),
    ]:
        assert tested.allows(value) is expected, value


def test_no_allowed_names(impl: ModuleType) -> None:
    tested = scans(impl).RequestedHeaders(header_names(frozenset()))
    for value in (b"", b",", b"a", b"\xff"):
        assert tested.allows(value) is False


def _grouped(names: HeaderNames) -> dict[int, list[bytes]]:
    """The names of the flat table, by first byte, read back as _config lays them out."""

    def number(table: bytes, at: int) -> int:
        return int.from_bytes(table[at : at + 4], sys.byteorder)

    groups: dict[int, list[bytes]] = {}
    for byte in range(256):
        at, end = number(names.starts, byte * 4), number(names.starts, byte * 4 + 4)
        while at < end:
            length = number(names.names, at)
            groups.setdefault(byte, []).append(names.names[at + 4 : at + 4 + length])
            at += 4 + length
    return groups


def test_the_name_table_holds_what_a_stripped_item_can_equal() -> None:
    names = header_names(frozenset({"accept", "accept-language", "", " x", "a,b", "\u0100", "x\xa0", "\xe9t\xe9"}))
    assert names.allowed == frozenset({b"accept", b"accept-language", b"", b" x", b"a,b", b"x\xa0", b"\xe9t\xe9"})
    assert _grouped(names) == {ord("a"): [b"accept", b"accept-language"], 0xE9: [b"\xe9t\xe9"]}
    assert names.empty_allowed


def test_tables_laid_out_otherwise_are_refused() -> None:
    # The compiled scan indexes the tables by a byte and walks the names by the offsets and
    # lengths they hold: anything else is refused, never read past.
    from fastcors import _scan

    good = header_names(frozenset({"accept", "x-custom"}))
    four = (100).to_bytes(4, sys.byteorder)
    for bad in (
        dataclasses.replace(good, lower=b""),
        dataclasses.replace(good, stripped=good.stripped[:10]),
        dataclasses.replace(good, starts=good.starts[:-4]),
        dataclasses.replace(good, starts=good.starts[:-4] + four),
        dataclasses.replace(good, names=good.names[:-1]),
        dataclasses.replace(good, names=four + good.names[4:]),
        dataclasses.replace(good, names=good.names.replace(b"accept", b"bccept")),
    ):
        with pytest.raises(ValueError, match="HeaderNames"):
            _scan.RequestedHeaders(bad)


NAMES = ["accept", "x-custom", "\xe9t\xe9", "a", "ab", "", "x y"]
pieces = st.one_of(
    st.sampled_from([name.encode("latin-1") for name in NAMES] + [b"X-CUSTOM", b"\xc9T\xc9", b"AB", b"X Y"]),
    st.binary(max_size=3),
    st.sampled_from([bytes([byte]) for byte in LATIN1_WHITESPACE] + [b","] * 4),
)


@settings(max_examples=500, deadline=None)
@given(allowed=st.sets(st.sampled_from(NAMES)), parts=st.lists(pieces, max_size=30))
def test_same_verdicts_as_starlette(impl: ModuleType, allowed: set[str], parts: list[bytes]) -> None:
    value = b"".join(parts)
    assert scan(impl, *allowed).allows(value) is starlette_allows(frozenset(allowed), value)
