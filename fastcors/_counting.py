"""Requests counted by kind and verdict, process-wide, for exporters (fastcors.prometheus).

Each implementation of the core (the compiled one, the uncompiled twin) keeps its own counts
and registers here as it is imported; counting starts in all of them at once, whenever
`count_requests` is called, and `request_counts` adds them up. Off, the request path pays a
flag test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from fastcors._config import COUNTED_KINDS, COUNTED_REASONS, count_slot

# The counts that can be other than zero: (kind, outcome, reason).
COUNTED = (
    ("none", "allowed", "none"),
    ("preflight", "allowed", "none"),
    *(("preflight", "denied", reason) for reason in COUNTED_REASONS[1:]),
    ("simple", "allowed", "none"),
    ("simple", "denied", "origin"),
    ("websocket", "allowed", "none"),
    ("websocket", "denied", "origin"),
)
assert {kind for kind, _, _ in COUNTED} == set(COUNTED_KINDS)

_lock = threading.Lock()
_counting = False
_implementations: list[tuple[Callable[[bool], None], Callable[[], tuple[int, ...]]]] = []


def _new_lock_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # a thread of the parent's may have held it at the fork


os.register_at_fork(after_in_child=_new_lock_in_child)


def register_counts(switch: Callable[[bool], None], read: Callable[[], tuple[int, ...]]) -> None:
    """An implementation's switch and its counts, by slot (the core calls it as it is imported)."""
    with _lock:
        _implementations.append((switch, read))
        if _counting:
            switch(True)


def count_requests(enabled: bool = True) -> None:
    """Count every request of every fastcors middleware in this process from now on (or,
    `enabled` False, no longer: the counts stay as they are)."""
    global _counting
    with _lock:
        _counting = enabled
        for switch, _ in _implementations:
            switch(enabled)


def request_counts() -> dict[tuple[str, str, str], int]:
    """This process's counts since counting began, by (kind, outcome, reason).

    kind: "none" (no Origin), "preflight", "simple" or "websocket"; outcome: "allowed" or
    "denied"; reason: the first failed check ("origin", "method", "headers",
    "private-network"), or "none" when allowed. Every pair that can occur is a key.
    """
    with _lock:
        readers = [read for _, read in _implementations]
    totals = [0] * (len(COUNTED_KINDS) * len(COUNTED_REASONS))
    for read in readers:
        for slot, value in enumerate(read()):
            totals[slot] += value
    return {key: totals[count_slot(key[0], key[2])] for key in COUNTED}
