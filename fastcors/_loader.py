"""Choose the implementation: the compiled extension unless it is missing or disabled."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ENV_VAR = "FASTCORS_NO_EXTENSIONS"


def extensions_disabled() -> bool:
    return os.environ.get(ENV_VAR, "") not in ("", "0")


def load_pure_python() -> ModuleType:
    """_core.py run as plain Python, under its own module name, even if compiled exists."""
    name = "fastcors._core_py"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_core.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_compiled() -> ModuleType:
    """The compiled extension; ImportError if it was not built."""
    module = importlib.import_module("fastcors._core")
    if not module.COMPILED:
        raise ImportError("fastcors._core is not compiled (the extension was not built)")
    return module


def load() -> ModuleType:
    if not extensions_disabled():
        try:
            return load_compiled()
        except ImportError:
            pass
    return load_pure_python()
