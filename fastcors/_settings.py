"""CORSMiddleware's arguments as one value: `CORSSettings` declares each argument once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

# Arguments that steer fastcors itself, not the CORS answers.
BEHAVIOUR = ("strict", "debug")


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
        from fastcors._checks import check_settings, report  # (they import this module)
        from fastcors._config import build_config

        build_config(self)
        report(check_settings(self), self.strict, log=False)  # the constructor logs them
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
