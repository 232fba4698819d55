"""The CORS configuration served by the server and framework apps, shared with the tests."""

from __future__ import annotations

from typing import Any

ALLOWED_ORIGIN = "http://allowed.example"
DENIED_ORIGIN = "http://denied.example"

# Every option that changes an answer is set, so each answer has something to check.
CORS_OPTIONS: dict[str, Any] = {
    "allow_origins": [ALLOWED_ORIGIN],
    "allow_methods": ["GET", "PUT"],
    "allow_headers": ["x-custom"],
    "allow_credentials": True,
    "expose_headers": ["x-exposed"],
    "max_age": 321,
}

IMPL_HEADER = "x-fastcors-compiled"


def impl_value() -> str:
    """What the running process really uses: '1' compiled, '0' pure Python."""
    import fastcors

    return "1" if fastcors.COMPILED else "0"
