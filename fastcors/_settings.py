"""CORSMiddleware's arguments as one value, and the one way they are validated.

`CORSSettings` declares each argument once. `prepare` validates settings and precomputes
them: the constructor, `reconfigure`, the settings sources and `CORSSettings.validate()` all
go through it, and `check_config` runs the same checks on arguments as a function.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from fastcors._checks import Problem, check_settings, report
from fastcors._config import Config, build_config
from fastcors._errors import CORSConfigError, logger
from fastcors._events import CORSEvent, Listener, Watch
from fastcors._report import CORSReport, ReportLog

# Arguments that steer fastcors itself, not the CORS answers.
BEHAVIOUR = ("strict", "debug", "on_denied", "log_denials", "on_report")


@dataclass(frozen=True)
class CORSSettings:
    """Every CORSMiddleware argument (Starlette's, then fastcors' own), as given.

    This is where an argument is declared: its name, type and default. The constructor and
    `check_config` spell the same signature out for users and type checkers, and a test
    holds them to this one; everything inside fastcors takes a CORSSettings.
    """

    allow_origins: Collection[str] = ()
    allow_methods: Collection[str] = ("GET",)
    allow_headers: Collection[str] = ()
    allow_credentials: bool = False
    allow_origin_regex: str | None = None
    allow_private_network: bool = False
    expose_headers: Collection[str] = ()
    max_age: int = 600
    allow_origin_patterns: Collection[str] = ()
    allow_origin_func: Callable[[str], bool] | None = None
    websocket_origin_guard: bool = False
    # The Starlette release whose answers to give: "installed", "newest", or e.g. "0.46.2".
    starlette_version: str = "installed"
    # Policies for path prefixes: {"/public": CORSSettings(...), "/internal": None}.
    paths: Mapping[str, CORSSettings | None] | None = None
    strict: bool = False
    debug: bool = False
    # Told of each refused request (a CORSEvent); the production log of refusals.
    on_denied: Callable[[CORSEvent], None] | None = None
    log_denials: bool = False
    # A candidate policy evaluated beside this one, which alone answers; told where they differ.
    report_only: CORSSettings | None = None
    on_report: Callable[[CORSReport], None] | None = None

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> CORSSettings:
        """The settings named in `arguments` (a signature's locals(): other names are ignored)."""
        return cls(**{name: arguments[name] for name in NAMES if name in arguments})

    def arguments(self) -> dict[str, Any]:
        """As CORSMiddleware's keyword arguments: ``add_middleware(CORSMiddleware, **settings.arguments())``."""
        return {name: getattr(self, name) for name in NAMES}

    def validate(self) -> CORSSettings:
        """Check these settings now, as the constructor will: raise what it would raise (with
        ``strict=True``, a CORSConfigError listing the misconfigurations too); else return them.

        Frameworks build the middleware late (Starlette on the first request, or at lifespan
        startup, whose errors uvicorn's default ``--lifespan auto`` only logs): validating where
        the settings are written makes a refused configuration fail at import instead.
        """
        prepare(self, log=False)  # the constructor logs the misconfigurations
        return self


# Every argument's name, in the constructor's order.
NAMES = tuple(field.name for field in dataclasses.fields(CORSSettings))


def new_settings(base: CORSSettings | None, arguments: dict[str, Any]) -> CORSSettings:
    """`base` (or the defaults) with `arguments` replacing some; TypeError for an unknown name."""
    if base is None:
        return CORSSettings(**arguments)
    if not isinstance(base, CORSSettings):
        raise TypeError(f"reconfigure's first argument must be a CORSSettings (e.g. middleware.settings), not {base!r}")
    return CORSSettings(**{**vars(base), **arguments})


def prepare(settings: CORSSettings, log: bool = True) -> tuple[Config, Watch | None]:
    """Validate and precompute; raises (changing nothing anywhere) if the settings are refused.

    Returns the configuration and who hears of refused requests (None: nobody).
    """
    config = build_config(settings)  # raises where Starlette's constructor raises
    report(check_settings(settings), settings.strict, log)  # warns (or, strict, raises) on misconfigurations
    # Denials are explained only when asked for: with debug=True at WARNING (shown with no
    # logging set up), or at DEBUG when the "fastcors" logger is enabled for DEBUG.
    explain_level = None
    if settings.debug:
        explain_level = logging.WARNING
    elif logger.isEnabledFor(logging.DEBUG):
        explain_level = logging.DEBUG
    return config, watch_for(settings, explain_level)


def watch_for(settings: CORSSettings, explain_level: int | None) -> Watch | None:
    """Who hears of these settings' requests, or None when nobody does (no observer at all)."""
    on_denied = Listener.of("on_denied", settings.on_denied, "CORSEvent")
    on_report = Listener.of("on_report", settings.on_report, "CORSReport")
    if not isinstance(settings.log_denials, bool):
        raise CORSConfigError(f"log_denials must be True or False, not {settings.log_denials!r}")
    report = None if settings.report_only is None else ReportLog(on_report)
    if explain_level is None and on_denied is None and not settings.log_denials and report is None:
        return None
    return Watch(explain_level, on_denied, settings.log_denials, report)


def check_config(
    allow_origins: Collection[str] = (),
    allow_methods: Collection[str] = ("GET",),
    allow_headers: Collection[str] = (),
    allow_credentials: bool = False,
    allow_origin_regex: str | None = None,
    allow_private_network: bool = False,
    expose_headers: Collection[str] = (),
    max_age: int = 600,
    *,
    allow_origin_patterns: Collection[str] = (),
    allow_origin_func: Callable[[str], bool] | None = None,
    websocket_origin_guard: bool = False,
    starlette_version: str = "installed",
    paths: Mapping[str, CORSSettings | None] | None = None,
    report_only: CORSSettings | None = None,
) -> list[Problem]:
    """Every problem found in CORSMiddleware's arguments (same names, same defaults).

    Any value is taken, odd ones included: a value of a type or shape a check does not analyse
    is left out of it (the constructor reports what it refuses).
    """
    return check_settings(CORSSettings.from_arguments(locals()))
