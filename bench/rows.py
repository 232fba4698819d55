"""The rows of every micro-benchmark scenario, and the check that each answers correctly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import drive
from bench.scenarios import Scenario

# The rows of every scenario.
ROWS = ["bare", "starlette", "fastcors", "fastcors-py", "asgi-cors"]
# Rows of the pattern scenarios only: fastcors with `scenario.pattern_config` (fastcors' own
# allow_origin_patterns) instead of Starlette's arguments (the equivalent allow_origin_regex).
PATTERN_ROWS = ["fastcors-pattern", "fastcors-py-pattern"]
ROW_TITLES = {
    "bare": "bare app (no middleware)",
    "starlette": "Starlette CORSMiddleware",
    "fastcors": "fastcors compiled",
    "fastcors-py": "fastcors pure-Python",
    "asgi-cors": "asgi-cors",
    "fastcors-pattern": "fastcors compiled, origin pattern",
    "fastcors-py-pattern": "fastcors pure-Python, origin pattern",
}
# Rows whose messages must be exactly Starlette's (with the scenario's `config`).
SAME_AS_STARLETTE = ("starlette", "fastcors", "fastcors-py", "fastcors-pattern", "fastcors-py-pattern")


def for_scenario(scenario: Scenario) -> list[str]:
    """The rows of `scenario`, in report order (each pattern row after its regex twin)."""
    if scenario.pattern_config is None:
        return list(ROWS)
    return ["bare", "starlette", "fastcors", "fastcors-pattern", "fastcors-py", "fastcors-py-pattern", "asgi-cors"]


class Unavailable(Exception):
    """This row cannot run here (not applicable, or not installed/built)."""


def build(row: str, scenario: Scenario, app: Callable[..., Any] = drive.app) -> Callable[..., Any]:
    """The ASGI callable for `row` in `scenario`, wrapping `app`; Unavailable if it cannot."""
    if row == "bare":
        return app
    if row == "starlette":
        from starlette.middleware.cors import CORSMiddleware

        return CORSMiddleware(app, **scenario.config)
    if row in ("fastcors", "fastcors-py", "fastcors-pattern", "fastcors-py-pattern"):
        from fastcors import _loader

        config = scenario.config
        if row in PATTERN_ROWS:
            if scenario.pattern_config is None:
                raise Unavailable("n/a: no origin pattern in this scenario")
            config = scenario.pattern_config
        try:
            module = _loader.load_pure_python() if "-py" in row else _loader.load_compiled()
        except ImportError as exc:
            raise Unavailable(f"compiled extension not built: {exc}") from None
        return module.CORSMiddleware(app, **config)
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
    """Raise WrongAnswer unless `asgi` answers this scenario's requests correctly.

    fastcors must send exactly Starlette's messages (a pattern row: Starlette's with the
    equivalent regex), on the timed requests and on the scenario's probe origins; the bare app
    must answer at all; asgi-cors must answer sensibly (allow exactly when Starlette allows).
    """
    if row in SAME_AS_STARLETTE:
        for scope in scenario.check_scopes() + scenario.probe_scopes():
            got = drive.record(asgi, scope)
            expected = drive.record(reference, scope)
            if got != expected:
                origin = dict(scope["headers"]).get(b"origin")
                raise WrongAnswer(
                    f"{row} differs from Starlette in {scenario.name} (origin {origin!r}):\n got {got}\nwant {expected}"
                )
        return
    for scope in scenario.check_scopes():
        _check_other(row, scenario, scope, asgi, reference)


def _check_other(
    row: str, scenario: Scenario, scope: dict[str, Any], asgi: Callable[..., Any], reference: Callable[..., Any]
) -> None:
    got = drive.record(asgi, scope)
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
