"""Report-only: where a candidate policy's verdict differs from the one in force, told
(`on_report`), counted (process-wide, for fastcors.prometheus) and tabled (the origins it
would newly refuse). Nothing here decides an answer: the policy in force alone does.

The core compares the two verdicts in compiled code and calls `ReportLog.tell` only where they
differ, so a request both policies treat alike costs no Python call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fastcors._errors import logger
from fastcors._events import CORSEvent, Listener, denial_event

CHANGES = ("would_deny", "would_allow")
# The reasons each kind can be reported for ("credentials": the origin is let through either
# way, credentials by one policy only).
REPORTED = {
    "preflight": ("origin", "method", "headers", "private-network"),
    "simple": ("origin", "credentials"),
    "websocket": ("origin",),
}
# Every (kind, change, reason) a report can be counted under.
REPORT_KEYS = tuple(
    (kind, change, reason) for kind, reasons in REPORTED.items() for change in CHANGES for reason in reasons
)
TABLE_SIZE = 256  # origins in the table of those the candidate would newly refuse


@dataclass(frozen=True, slots=True)
class CORSReport(CORSEvent):
    """A request the report-only candidate would answer otherwise, as `on_report` receives it.

    `change` is "would_deny" (the candidate refuses what the policy in force allows) or
    "would_allow"; `reasons` are the refusing policy's ("credentials" for a simple request
    whose origin both let through, with credentials by one only).
    """

    change: str = field(kw_only=True)


_lock = threading.Lock()
_counts: dict[tuple[str, str, str], int] = dict.fromkeys(REPORT_KEYS, 0)


def report_counts() -> dict[tuple[str, str, str], int]:
    """This process's reports so far, by (kind, change, first reason); every key that can occur."""
    with _lock:
        return dict(_counts)


class ReportLog:
    """The reports of one set of settings: `on_report`, and the table of newly refused origins.

    The table keeps the TABLE_SIZE most frequent origins (the Space-Saving scheme: a new origin
    replaces the least frequent one and starts from its count, so an origin's count is never
    under its true count, and the frequent ones stay whatever the flood).
    """

    def __init__(self, on_report: Listener | None) -> None:
        self.on_report = on_report
        self._lock = threading.Lock()
        self._table: dict[str, int] = {}
        self._failed = False  # whether a comparison raised (said once)

    def tell(
        self,
        kind: str,
        change: str,
        failures: int,
        scope: Any,
        origin: bytes,
        requested_method: bytes | None,
        requested_headers: bytes | None,
    ) -> None:
        """Count and tell one report; `failures` the refusing policy's failure bits, 0 for credentials."""
        event = denial_event(scope, origin, requested_method, requested_headers, None, failures)
        reasons = event.reasons or ("credentials",)
        report = CORSReport(
            kind=kind,
            reasons=reasons,
            origin=event.origin,
            path=event.path,
            requested_method=event.requested_method,
            requested_headers=event.requested_headers,
            change=change,
        )
        with _lock:
            _counts[kind, change, reasons[0]] += 1
        if change == "would_deny":
            self._note(report.origin)
        if self.on_report is not None:
            self.on_report.tell(report)

    def _note(self, origin: str) -> None:
        with self._lock:
            table = self._table
            if origin in table:
                table[origin] += 1
            elif len(table) < TABLE_SIZE:
                table[origin] = 1
            else:
                least = min(table, key=table.__getitem__)
                table[origin] = table.pop(least) + 1

    def comparison_failed(self) -> None:
        """A request could not be compared (odd header values, say); it is answered all the same."""
        with self._lock:
            if self._failed:
                return
            self._failed = True
        logger.warning("report_only: a request could not be compared (said once)", exc_info=True)

    def would_deny_origins(self) -> list[tuple[str, int]]:
        """The origins the candidate would newly refuse, with how often, most frequent first."""
        with self._lock:
            return sorted(self._table.items(), key=lambda item: -item[1])
