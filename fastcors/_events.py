"""Who hears of the requests fastcors refuses: debug explanations, `on_denied` and `log_denials`.

The core calls a policy's observer (built here, or None when nobody listens) only on its
denial paths, so a request that is allowed, or any request when nothing is set, costs
nothing here. Request values are attacker-controlled: an event holds them cut to
EVENT_CHARS, and a log line shows them with repr() (no forged lines).
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastcors._config import FAILURE_NAMES, WEBSOCKET_FAILURE, Config, is_async
from fastcors._debug import denial_explainer
from fastcors._errors import CORSConfigError, logger, shown

if TYPE_CHECKING:
    from fastcors._report import ReportLog

EVENT_CHARS = 256  # of each value an event holds
LOG_INTERVAL = 60.0  # seconds between two lines about the same reasons and origin
LOG_REMEMBERED = 1000  # (reasons, origin) pairs remembered, and so lines logged, per interval

# observer(scope, origin, requested_method, requested_headers, requested_private_network, failures)
Observer = Callable[[Any, bytes, "bytes | None", "bytes | None", "bytes | None", int], None]


@dataclass(frozen=True, slots=True)
class CORSEvent:
    """A CORS request fastcors refused, as `on_denied` receives it."""

    kind: str  # "preflight", "simple" (any request that is not one) or "websocket" (a handshake)
    reasons: tuple[str, ...]  # of "origin", "method", "headers", "private-network", in that order
    origin: str
    path: str
    requested_method: str | None = None  # preflights only
    requested_headers: str | None = None  # preflights only, and None when none were requested


# The reasons of each combination of failure bits.
FAILURES_MASK = (1 << len(FAILURE_NAMES)) - 1
REASONS = tuple(
    tuple(name for bit, name in enumerate(FAILURE_NAMES) if failures & (1 << bit))
    for failures in range(FAILURES_MASK + 1)
)


def _text(value: Any) -> str:
    if type(value) is bytes:  # (latin-1: a character a byte)
        return value[:EVENT_CHARS].decode("latin-1")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[:EVENT_CHARS]).decode("latin-1")
    return (value if isinstance(value, str) else repr(value))[:EVENT_CHARS]


def denial_event(
    scope: Any,
    origin: bytes,
    requested_method: bytes | None,
    requested_headers: bytes | None,
    requested_private_network: bytes | None,
    failures: int,
) -> CORSEvent:
    """The event of a refused request, from what the core's observer is given (the private
    network request is among its reasons, and has no field of its own)."""
    reasons = REASONS[failures & FAILURES_MASK]
    path = scope.get("path", "") if type(scope) is dict else ""
    if failures & WEBSOCKET_FAILURE:
        kind = "websocket"
    elif requested_method is None:
        kind = "simple"
    else:
        kind = "preflight"
    return CORSEvent(
        kind=kind,
        reasons=reasons,
        origin=_text(origin),
        path=_text(path),
        requested_method=None if requested_method is None else _text(requested_method),
        requested_headers=None if requested_headers is None else _text(requested_headers),
    )


class Listener:
    """A user's function told of events (`on_denied`, `on_report`): if it raises, or returns an
    awaitable, that is logged once, and the request is answered as if it were not there."""

    def __init__(self, name: str, function: Callable[[Any], Any]) -> None:
        self.name = name
        self.function = function
        self._lock = threading.Lock()
        self._failed = False

    @classmethod
    def of(cls, name: str, function: Any, event_type: str) -> Listener | None:
        """The listener given as argument `name`, or None; CORSConfigError if it cannot be one."""
        if function is None:
            return None
        if not callable(function):
            raise CORSConfigError(f"{name} must be a callable taking a fastcors.{event_type}, not {function!r}")
        if is_async(function):
            raise CORSConfigError(
                f"{name} {function!r} is an async function; it must be a plain function (it is called "
                f"while the request is answered: hand the event to a queue or a task of your own)"
            )
        return cls(name, function)

    def tell(self, event: Any) -> None:
        try:
            result = self.function(event)
        except Exception:
            self._say_failed("%s raised for %r; the request was answered as if it were not set", event)
            return
        if result is not None and inspect.isawaitable(result):  # a partial of an async function, say
            close = getattr(result, "close", None)
            if close is not None:
                close()
            self._say_failed("%s returned an awaitable for %r (it must be a plain function)", event, False)

    def _say_failed(self, message: str, event: Any, exc_info: bool = True) -> None:
        with self._lock:
            if self._failed:
                return
            self._failed = True
        logger.error(message + " (said once)", self.name, event, exc_info=exc_info)


class DenialLog:
    """`log_denials=True`: one INFO line per reasons and origin, at most once per LOG_INTERVAL.

    At most LOG_REMEMBERED pairs are remembered, so at most that many lines are logged per
    interval whatever the requests; the lines left out are counted and said in one line.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._said: dict[tuple[tuple[str, ...], str], float] = {}  # pair -> when, oldest first
        self._left_out = 0
        self._left_out_since = 0.0

    def log(self, event: CORSEvent) -> None:
        key = (event.reasons, event.origin)
        with self._lock:
            now = self._clock()
            said = self._said.get(key)
            if said is not None and now - said < LOG_INTERVAL:
                return
            self._forget_before(now - LOG_INTERVAL)
            if len(self._said) >= LOG_REMEMBERED:
                if not self._left_out:
                    self._left_out_since = now
                self._left_out += 1
                return
            self._said.pop(key, None)
            self._said[key] = now
            left_out, self._left_out = self._left_out, 0
        if left_out:
            logger.info("CORS: %d more refused requests were not logged (too many origins at once)", left_out)
        requested = ""
        if event.requested_method is not None:
            requested = f", asking for method {shown(event.requested_method)}"
            if event.requested_headers is not None:
                requested += f" and headers {shown(event.requested_headers)}"
        logger.info(
            "CORS: %s request refused (%s): origin %s, path %s%s",
            event.kind,
            ", ".join(event.reasons),
            shown(event.origin),
            shown(event.path),
            requested,
        )

    def _forget_before(self, limit: float) -> None:
        while self._said:
            key, said = next(iter(self._said.items()))
            if said >= limit:
                return
            del self._said[key]

    def remembered(self) -> int:
        return len(self._said)


class Watch:
    """Who hears of one set of settings' requests: the debug explainer's level, `on_denied`,
    `log_denials`, and the report-only candidate's reports (see _report).

    Built once per settings (shared by the policies of their paths); `observer` gives each
    policy its observer of refusals.
    """

    def __init__(
        self, explain_level: int | None, on_denied: Listener | None, log_denials: bool, report: ReportLog | None
    ) -> None:
        self.explain_level = explain_level
        self.on_denied = on_denied
        self.log = DenialLog() if log_denials else None
        self.report = report

    def observer(self, config: Config) -> Observer | None:
        """The callable the core calls on each refusal of `config`'s policy, or None."""
        tells = self.on_denied is not None or self.log is not None
        if self.explain_level is None and not tells:
            return None
        explain = None if self.explain_level is None else denial_explainer(config, self.explain_level)

        def denied(scope: Any, *request: Any) -> None:
            # request: origin, requested method, headers and private network, failure bits
            if explain is not None:
                explain(*request)
            if tells:
                self.tell(denial_event(scope, *request))

        return denied

    def tell(self, event: CORSEvent) -> None:
        if self.log is not None:
            self.log.log(event)
        if self.on_denied is not None:
            self.on_denied.tell(event)
