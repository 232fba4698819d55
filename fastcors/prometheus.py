"""fastcors' request counts as Prometheus counters: ``fastcors.prometheus.enable()``.

The core counts in plain integers (a counter increment of prometheus_client's costs more than
fastcors' whole answer); a thread of this process hands the new counts over to
``fastcors_requests_total{kind, outcome, reason}``, and the report-only candidate's reports to
``fastcors_report_only_total{kind, change, reason}``, every FLUSH_SECONDS, so the figures a
scrape sees are at most that old. In prometheus_client's multiprocess mode the counter is its
multiprocess counter: every worker writes its own file, and the exposition sums them.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from fastcors._counting import COUNTED, count_requests, request_counts
from fastcors._report import REPORT_KEYS, report_counts

try:
    import prometheus_client
except ImportError as exc:  # pragma: no cover - tested in a venv without it
    raise ImportError('fastcors.prometheus needs prometheus_client: pip install "fastcors[prometheus]"') from exc

FLUSH_SECONDS = 1.0
# (name without the _total prometheus_client adds, documentation, labels, the counts, their keys)
COUNTERS = (
    (
        "fastcors_requests",
        "Requests answered by fastcors, by kind, outcome and the first failed check",
        ("kind", "outcome", "reason"),
        request_counts,
        COUNTED,
    ),
    (
        "fastcors_report_only",
        "Requests the report-only candidate policy would answer otherwise, by kind, change and reason",
        ("kind", "change", "reason"),
        report_counts,
        REPORT_KEYS,
    ),
)

_lock = threading.Lock()
_counters: list[Any] = []  # prometheus_client's, as COUNTERS lists them
_registry: Any = None
_handed_over: list[dict[tuple[str, str, str], int]] = []  # what each has been given so far
_wake = threading.Event()


def enable(registry: Any = None) -> None:
    """Count every fastcors middleware's requests of this process into `registry`
    (prometheus_client's default REGISTRY when None), from now on; once per process.

    Call it before or after the middleware is built; a worker forked later counts too.
    """
    global _registry
    with _lock:
        if _counters:
            if registry is not _registry:
                raise ValueError("fastcors.prometheus.enable() was called already, with another registry")
            return
        count_requests()
        for name, documentation, labels, counts, keys in COUNTERS:
            counter = prometheus_client.Counter(
                name, documentation, labels, registry=prometheus_client.REGISTRY if registry is None else registry
            )
            for key in keys:  # every series exists from the start, at 0
                counter.labels(*key)
            _counters.append(counter)
            _handed_over.append(counts())
        _registry = registry
    _start_thread()


def flush() -> None:
    """Hand the counts so far over to the counter now (the thread does it every FLUSH_SECONDS)."""
    with _lock:
        for counter, given, (_, _, _, counts, _) in zip(_counters, _handed_over, COUNTERS, strict=True):
            for key, value in counts().items():
                new = value - given.get(key, 0)
                if new:
                    counter.labels(*key).inc(new)
                    given[key] = value


def _hand_over() -> None:
    while not _wake.wait(FLUSH_SECONDS):
        flush()


def _start_thread() -> None:
    threading.Thread(target=_hand_over, name="fastcors-prometheus", daemon=True).start()


def _restart_in_child() -> None:
    # The counts the parent had are its own to hand over: a forked worker starts from them.
    global _lock, _wake
    _lock, _wake = threading.Lock(), threading.Event()
    if _counters:
        for given, (_, _, _, counts, _) in zip(_handed_over, COUNTERS, strict=True):
            given.update(counts())
        _start_thread()


# Held across a fork, so that no hand-over is half done in the child (prometheus_client's own
# locks included, which the hand-over takes).
os.register_at_fork(
    before=lambda: _lock.acquire(), after_in_parent=lambda: _lock.release(), after_in_child=_restart_in_child
)
atexit.register(flush)
