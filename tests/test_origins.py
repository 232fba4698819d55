"""The origin-shape rules (fastcors._origins) and the one helper that quotes values in messages."""

from __future__ import annotations

import pytest

from fastcors._errors import shown
from fastcors._origins import browser_origin, shape_flaws, split_origin


@pytest.mark.parametrize(
    ("written", "flaws"),
    [
        ("https://app.example.com", []),
        ("http://localhost:8000", []),
        ("https://[::1]:8443", []),
        (" https://app.example.com\n", ["whitespace"]),
        ("NULL", ["null"]),
        (" null", ["whitespace", "null"]),
        ("app.example.com", ["no-scheme"]),
        ("https://app.example.com/", ["trailing-slash"]),
        ("https://app.example.com/api", ["path"]),
        ("https://app.example.com?x=1", ["path"]),
        ("https://app.example.com:443", ["default-port"]),
        ("HTTP://app.example.com:80/", ["trailing-slash", "default-port", "uppercase"]),
        ("https://App.example.com", ["uppercase"]),
        ("https://", ["no-host"]),
        ("https://:8080", ["no-host"]),
    ],
)
def test_shape_flaws(written: str, flaws: list[str]) -> None:
    assert shape_flaws(written) == flaws


def test_flawless_shapes_are_what_browsers_send() -> None:
    for written in ("https://app.example.com", "http://localhost:8000", "https://x.example.com:8443"):
        assert shape_flaws(written) == []
        assert browser_origin(written) == written
    assert browser_origin(" HTTPS://App.Example.com:443/path") == "https://app.example.com"


def test_split_origin_keeps_ipv6_colons() -> None:
    parts = split_origin("http://[::1]:8000/x")
    assert parts is not None
    assert (parts.host, parts.port, parts.rest) == ("[::1]", "8000", "/x")
    assert split_origin("no scheme here") is None


def test_shown_bounds_what_it_quotes() -> None:
    assert shown("short") == "'short'"
    assert shown("a\r\nb") == "'a\\r\\nb'"  # no forged log line
    long = "x" * 1000
    assert shown(long) == repr("x" * 120) + "... (1000 characters)"
    assert shown(long, 10) == repr("x" * 10) + "... (1000 characters)"
    assert shown(list(range(100)), 20) == repr(list(range(100)))[:17] + "..."
    assert len(shown(list(range(100)), 20)) == 20
