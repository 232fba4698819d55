"""What the figures were measured on: CPU, cores, load, interpreter and library versions."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["Cython", "starlette", "fastcors", "asgi-cors", "uvicorn", "uvloop", "httptools", "granian"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _run(command: list[str]) -> str | None:
    """First line of the command's output (stdout, else stderr); None if it failed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, cwd=REPO, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 and not done.stdout:
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def info() -> dict[str, Any]:
    from fastcors import _loader

    try:
        _loader.load_compiled()
        compiled = True
    except ImportError:
        compiled = False
    wrk = shutil.which("wrk")
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "load_average_at_start": load_average(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": {name: _version(name) for name in PACKAGES},
        "fastcors_compiled_available": compiled,
        # wrk --version exits 1 and prints to stderr.
        "wrk": (_run([wrk, "--version"]) or "unknown") if wrk else "not installed",
        "git": _run(["git", "rev-parse", "--short", "HEAD"]) or "unknown",
        # Uncommitted changes to the core: the figures are for the working tree, not the commit.
        "core_modified": bool(_run(["git", "status", "--porcelain", "--untracked-files=no", "fastcors"])),
    }


def _busy_seconds() -> float | None:
    """CPU-seconds all CPUs have spent busy since boot (/proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal: everything but idle and iowait.
    values = [int(v) for v in fields[1:9]]
    busy = sum(values) - values[3] - values[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    # This process plus every descendant it has waited for (servers, wrk, memory children).
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


class Interference:
    """CPU time other processes used while a phase ran: the machine is shared and noisy."""

    def __init__(self) -> None:
        self.busy, self.own, self.wall = _busy_seconds(), _own_seconds(), time.monotonic()

    def result(self) -> dict[str, float] | None:
        busy = _busy_seconds()
        if busy is None or self.busy is None:
            return None
        wall = time.monotonic() - self.wall
        foreign = max(0.0, (busy - self.busy) - (_own_seconds() - self.own))
        capacity = wall * len(os.sched_getaffinity(0))
        return {"wall_s": wall, "foreign_cpu_s": foreign, "foreign_share": foreign / capacity if capacity else 0.0}
