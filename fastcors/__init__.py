"""fastcors: a drop-in, compiled replacement for Starlette's CORSMiddleware."""

from fastcors._checks import Problem, check_config
from fastcors._errors import CORSConfigError
from fastcors._handle import CORSHandle
from fastcors._loader import load as _load
from fastcors._settings import CORSSettings

_core = _load()

CORSMiddleware = _core.CORSMiddleware
COMPILED: bool = _core.COMPILED

__version__ = "0.1.0"
__all__ = [
    "COMPILED",
    "CORSConfigError",
    "CORSHandle",
    "CORSMiddleware",
    "CORSSettings",
    "Problem",
    "__version__",
    "check_config",
]
