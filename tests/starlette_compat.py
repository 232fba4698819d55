"""The Starlette installed here, for suites that run against every release (tests/generations):
which arguments its CORSMiddleware takes, and how fastcors is constructed in the run."""

from __future__ import annotations

import functools
import inspect
import os
from importlib.metadata import version
from types import ModuleType
from typing import Any

from starlette.middleware.cors import CORSMiddleware

STARLETTE_VERSION = version("starlette")
ARGUMENTS = frozenset(inspect.signature(CORSMiddleware.__init__).parameters)
# Set by tests/test_generations.py for the run with an explicit pin (starlette_version=...);
# otherwise fastcors is left to find the installed release itself.
PIN = os.environ.get("FASTCORS_STARLETTE_PIN", "")


def accepted(strategies: dict[str, Any]) -> dict[str, Any]:
    """Only the arguments this release's middleware accepts (allow_private_network came in 1.0)."""
    return {name: strategy for name, strategy in strategies.items() if name in ARGUMENTS}


def fastcors_factory(impl: ModuleType) -> Any:
    if not PIN:
        return impl.CORSMiddleware
    return functools.partial(impl.CORSMiddleware, starlette_version=PIN)
