"""fastcors: a drop-in, compiled replacement for Starlette's CORSMiddleware."""

from typing import TYPE_CHECKING

from fastcors._checks import Problem
from fastcors._counting import count_requests, request_counts
from fastcors._errors import CORSConfigError
from fastcors._events import CORSEvent
from fastcors._handle import CORSHandle
from fastcors._loader import load as _load
from fastcors._redis import RedisSource, publish_settings
from fastcors._report import CORSReport, report_counts
from fastcors._settings import CORSSettings, check_config
from fastcors._sources import FileSource, SettingsDocumentError, SettingsSource
from fastcors._version import __version__

_core = _load()

if TYPE_CHECKING:
    # Type checkers read the class from its source, fastcors/_core.py, whichever module runs.
    from fastcors._core import CORSMiddleware as CORSMiddleware
else:
    CORSMiddleware = _core.CORSMiddleware
COMPILED: bool = _core.COMPILED

__all__ = [
    "COMPILED",
    "CORSConfigError",
    "CORSEvent",
    "CORSHandle",
    "CORSMiddleware",
    "CORSReport",
    "CORSSettings",
    "FileSource",
    "Problem",
    "RedisSource",
    "SettingsDocumentError",
    "SettingsSource",
    "__version__",
    "check_config",
    "count_requests",
    "publish_settings",
    "report_counts",
    "request_counts",
]
