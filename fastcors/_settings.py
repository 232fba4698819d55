"""CORSMiddleware's arguments as one value, and what turns them into a running configuration.

`CORSSettings` names every argument once, with its default. `prepare` validates them (raising
where Starlette's constructor raises, or CORSConfigError), reports misconfigurations, and
returns the precomputed `Config` with the debug explainer. `CORSHandle` replays new
settings into every middleware built with it, for apps whose framework builds the
middleware itself.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fastcors._checks import check_config, logger, report
from fastcors._config import Config, build_config
from fastcors._debug import Explainer, denial_explainer

# Arguments that steer fastcors itself, not the CORS answers.
_BEHAVIOUR = ("strict", "debug")


@dataclass(frozen=True)
class CORSSettings:
    """Every CORSMiddleware argument (Starlette's, then fastcors' own), as given."""

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
    strict: bool = False
    debug: bool = False

    def cors_arguments(self) -> dict[str, Any]:
        """The arguments that decide the CORS answers (all but strict and debug)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _BEHAVIOUR}


def new_settings(base: CORSSettings | None, arguments: dict[str, Any]) -> CORSSettings:
    """`base` (or the defaults) with `arguments` replacing some; TypeError for an unknown name."""
    if base is None:
        return CORSSettings(**arguments)
    if not isinstance(base, CORSSettings):
        raise TypeError(f"reconfigure's first argument must be a CORSSettings (e.g. middleware.settings), not {base!r}")
    return CORSSettings(**{**vars(base), **arguments})


def prepare(settings: CORSSettings) -> tuple[Config, Explainer | None]:
    """Validate and precompute; raises (changing nothing anywhere) if the settings are refused."""
    arguments = settings.cors_arguments()
    config = build_config(**arguments)  # raises where Starlette's constructor raises
    report(check_config(**arguments), settings.strict)  # warns (or, strict, raises) on misconfigurations
    # Denials are explained only when asked for: with debug=True at WARNING (shown with no
    # logging set up), or at DEBUG when the "fastcors" logger is enabled for DEBUG.
    if settings.debug:
        return config, denial_explainer(config, logging.WARNING)
    if logger.isEnabledFor(logging.DEBUG):
        return config, denial_explainer(config, logging.DEBUG)
    return config, None


class CORSHandle:
    """Reconfigures, at run time, the CORSMiddleware instances built with ``handle=this``.

    Frameworks such as FastAPI and Starlette build the middleware themselves (``add_middleware``),
    so the application never holds the instance; it holds the handle instead. A middleware
    built after a ``reconfigure`` (Starlette builds its stack on the first request) starts
    with the handle's latest settings.
    """

    def __init__(self) -> None:
        # Held across a swap, so a middleware built meanwhile is never left behind.
        self._lock = threading.Lock()
        self._middlewares: weakref.WeakSet[Any] = weakref.WeakSet()
        self._latest: tuple[CORSSettings, Config, Explainer | None] | None = None

    def reconfigure(self, base: CORSSettings | None = None, /, **arguments: Any) -> None:
        """Validate the new settings once, then swap them into every middleware of this handle.

        Takes CORSMiddleware's keyword arguments; any left out take their defaults, as in the
        constructor, or their values in `base` when given (``handle.reconfigure(handle.settings,
        allow_origins=[...])`` changes only the origins). If the new settings are refused, the
        exception propagates and nothing changes.
        """
        settings = new_settings(base, arguments)
        config, explain = prepare(settings)
        with self._lock:
            self._latest = (settings, config, explain)
            for middleware in list(self._middlewares):
                middleware._install(settings, config, explain)

    @property
    def settings(self) -> CORSSettings | None:
        """The settings of the last ``reconfigure``, or None if there was none yet."""
        return None if self._latest is None else self._latest[0]

    def _attach(self, middleware: Any) -> None:
        """Register a new middleware; it takes the latest settings if there was a reconfigure."""
        with self._lock:
            self._middlewares.add(middleware)
            if self._latest is not None:
                middleware._install(*self._latest)
