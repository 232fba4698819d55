"""The handle that swaps new settings into running middleware.

`CORSHandle` replays new settings into every middleware built with it, for apps whose
framework builds the middleware itself.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from fastcors._config import Config
from fastcors._events import Watch
from fastcors._settings import CORSSettings, new_settings, prepare


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
        self._latest: tuple[CORSSettings, Config, Watch | None] | None = None

    def reconfigure(self, base: CORSSettings | None = None, /, **arguments: Any) -> None:
        """Validate the new settings once, then swap them into every middleware of this handle.

        Takes CORSMiddleware's keyword arguments; any left out take their defaults, as in the
        constructor, or their values in `base` when given (``handle.reconfigure(handle.settings,
        allow_origins=[...])`` changes only the origins). If the new settings are refused, the
        exception propagates and nothing changes.
        """
        settings = new_settings(base, arguments)
        config, watch = prepare(settings)
        with self._lock:
            self._latest = (settings, config, watch)
            for middleware in list(self._middlewares):
                middleware._install(settings, config, watch)

    @property
    def settings(self) -> CORSSettings | None:
        """The settings of the last ``reconfigure``, or None if there was none yet."""
        return None if self._latest is None else self._latest[0]

    def would_deny_origins(self) -> list[tuple[str, int]]:
        """With `report_only`: the origins the candidate would newly refuse in this handle's
        middlewares, with how often, most frequent first; else an empty list."""
        logs: list[Any] = []  # (the middlewares of one reconfigure share theirs)
        for middleware in list(self._middlewares):
            report = middleware.policy.report
            if report is not None and all(report.log is not log for log in logs):
                logs.append(report.log)
        counts: dict[str, int] = {}
        for log in logs:
            for origin, count in log.would_deny_origins():
                counts[origin] = counts.get(origin, 0) + count
        return sorted(counts.items(), key=lambda item: -item[1])

    def _attach(self, middleware: Any) -> None:
        """Register a new middleware; it takes the latest settings if there was a reconfigure."""
        with self._lock:
            self._middlewares.add(middleware)
            if self._latest is not None:
                middleware._install(*self._latest)
