"""The rows of every micro-benchmark scenario, and the check that each answers correctly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import drive
from bench.scenarios import Scenario

ROWS = ["bare", "starlette", "fastcors", "fastcors-py", "asgi-cors"]
ROW_TITLES = {
    "bare": "bare app (no middleware)",
    "starlette": "Starlette CORSMiddleware",
    "fastcors": "fastcors compiled",
    "fastcors-py": "fastcors pure-Python",
    "asgi-cors": "asgi-cors",
}


class Unavailable(Exception):
    """This row cannot run here (not applicable, or not installed/built)."""


def build(row: str, scenario: Scenario, app: Callable[..., Any] = drive.app) -> Callable[..., Any]:
    """The ASGI callable for `row` in `scenario`, wrapping `app`; Unavailable if it cannot."""
    if row == "bare":
        return app
    if row == "starlette":
        from starlette.middleware.cors import CORSMiddleware

        return CORSMiddleware(app, **scenario.config)
    if row in ("fastcors", "fastcors-py"):
        from fastcors import _loader

        try:
            module = _loader.load_compiled() if row == "fastcors" else _loader.load_pure_python()
        except ImportError as exc:
            raise Unavailable(f"compiled extension not built: {exc}") from None
        return module.CORSMiddleware(app, **scenario.config)
    if row == "asgi-cors":
        if scenario.asgi_cors is None:
            raise Unavailable(f"n/a: {scenario.asgi_cors_na}")
        try:
            from asgi_cors import asgi_cors
        except ImportError as exc:
            raise Unavailable(f"asgi-cors not installed: {exc}") from None
        return asgi_cors(app, **scenario.asgi_cors)
    raise KeyError(row)


class WrongAnswer(AssertionError):
    """A row's output is not what it must be: it is not benchmarked."""


def check(row: str, scenario: Scenario, asgi: Callable[..., Any], reference: Callable[..., Any]) -> None:
    """Raise WrongAnswer unless `asgi` answers this scenario's request correctly.

    fastcors must send exactly Starlette's messages; the bare app must answer at all;
    asgi-cors must answer sensibly (allow exactly when Starlette allows).
    """
    scope = scenario.scope()
    got = drive.record(asgi, scope)
    if row in ("starlette", "fastcors", "fastcors-py"):
        expected = drive.record(reference, scope)
        if got != expected:
            raise WrongAnswer(f"{row} differs from Starlette in {scenario.name}:\n got {got}\nwant {expected}")
        return
    if len(got) != 2 or got[0].get("status") != 200:
        raise WrongAnswer(f"{row} in {scenario.name}: expected the app's 200 answer, got {got}")
    if row == "asgi-cors":
        expected = drive.record(reference, scope)
        want_origin = drive.header_value(expected[0], b"access-control-allow-origin")
        got_origin = drive.header_value(got[0], b"access-control-allow-origin")
        if want_origin != got_origin:
            raise WrongAnswer(
                f"asgi-cors in {scenario.name}: Access-Control-Allow-Origin {got_origin!r}, Starlette {want_origin!r}"
            )
        if scenario.preflight and want_origin is not None:
            for name in (b"access-control-allow-methods", b"access-control-allow-headers"):
                if drive.header_value(got[0], name) is None:
                    raise WrongAnswer(f"asgi-cors in {scenario.name}: preflight answer lacks {name!r}")
