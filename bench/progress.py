"""A progress line on stderr: phase, step, elapsed time and an estimate of what is left.

The estimate comes from the planned seconds of each phase (the run is time-boxed, so the
plan is close). On a terminal the line is redrawn in place; otherwise (CI logs, pytest) a
line is printed at most every few seconds so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    def __init__(self, planned: dict[str, float], stream: TextIO | None = None) -> None:
        self.planned = dict(planned)  # phase -> planned seconds
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self.done_phases: set[str] = set()
        self.phase = ""
        self.phase_start = self.start
        self.last_draw = 0.0

    def begin(self, phase: str) -> None:
        self.phase = phase
        self.phase_start = time.monotonic()
        self.update("starting", force=True)

    def end(self) -> None:
        self.done_phases.add(self.phase)
        self.update("done", force=True)

    def fraction(self) -> float:
        total = sum(self.planned.values()) or 1.0
        done = sum(self.planned[p] for p in self.done_phases if p in self.planned)
        if self.phase and self.phase not in self.done_phases:
            done += min(time.monotonic() - self.phase_start, self.planned.get(self.phase, 0.0))
        return min(done / total, 1.0)

    def update(self, step: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < (0.25 if self.tty else 5.0):
            return
        self.last_draw = now
        fraction = self.fraction()
        elapsed = now - self.start
        left = sum(self.planned.values()) - fraction * sum(self.planned.values())
        bar = "#" * int(fraction * 24)
        line = f"[{bar:<24}] {fraction:4.0%} {_clock(elapsed)} elapsed, ~{_clock(left)} left | {self.phase}: {step}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line[:160])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A message that stays on screen (warnings, results of a phase)."""
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()
