"""Choose the implementation: the compiled extension unless it is missing, disabled, or
this is not CPython.

The compiled modules' sources run as plain Python under names of their own only,
`fastcors._rules_py` and `fastcors._core_py` (which imports the first): whether the extension
exists is decided from the files the import system would load, before importing, so a source
is never executed a second time as `fastcors._core` (two sets of classes).
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from fastcors._errors import logger

ENV_VAR = "FASTCORS_NO_EXTENSIONS"
COMPILED_NAME = "fastcors._core"
PURE_NAME = "fastcors._core_py"
# Each compiled module with a twin, in import order (_scan's twin is the separate _reference).
TWINNED = ("_rules", "_core")


def extensions_disabled() -> bool:
    return os.environ.get(ENV_VAR, "") not in ("", "0")


def on_cpython() -> bool:
    # The extension is built against CPython's C API; elsewhere (PyPy) the twin is the package.
    return sys.implementation.name == "cpython"


def compiled_available() -> bool:
    """Whether importing fastcors._core would load compiled modules (nothing is imported)."""
    for name in ("_scan", *TWINNED):
        spec = importlib.util.find_spec(f"fastcors.{name}")
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return False
    return True


class _NotCompiled(ast.NodeTransformer):
    """What only C needs spelled out, read as Python says it: `_COMPILED` as the constant False
    (Python's compiler then drops the tests of it); `cython.cast(T, value)` as `value` (a cast
    tells the C compiler what it already holds); `_same_str(value, constant)` as
    `value == constant` (what it is, with the length test first that C's `==` lacks). Each
    would otherwise be a Python call per request for nothing."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == "_COMPILED" and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(False), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        function = node.func
        if (
            isinstance(function, ast.Attribute)
            and function.attr == "cast"
            and isinstance(function.value, ast.Name)
            and function.value.id == "cython"
            and len(node.args) == 2
            and not node.keywords
        ):
            return self.visit(node.args[1])
        if isinstance(function, ast.Name) and function.id == "_same_str" and len(node.args) == 2:
            value, constant = (self.visit(argument) for argument in node.args)
            return ast.copy_location(ast.Compare(value, [ast.Eq()], [constant]), node)
        return self.generic_visit(node)


def load_pure_python() -> ModuleType:
    """_rules.py and _core.py run as plain Python, under their own names, even if compiled exists.

    Their compiled-only branches test `_COMPILED`, which Cython reads as the constant True;
    here it is the constant False, so they cost the uncompiled twin nothing per request.
    """
    if PURE_NAME in sys.modules:
        return sys.modules[PURE_NAME]
    compiled = compiled_available()
    for name in TWINNED:
        module = _run_as_plain_python(name)
        if not compiled:
            # A later `import fastcors._core` gets these very classes instead of a second run
            # (and `fastcors._core`, as an attribute, the same module).
            setattr(sys.modules["fastcors"], name, sys.modules.setdefault(f"fastcors.{name}", module))
    return module


def _run_as_plain_python(name: str) -> ModuleType:
    pure_name = f"fastcors.{name}_py"
    if pure_name in sys.modules:  # (_rules_py, when loading _core_py failed before)
        return sys.modules[pure_name]
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(pure_name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    tree = _NotCompiled().visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    code = compile(tree, str(path), "exec")
    sys.modules[pure_name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[pure_name]
        raise
    return module


def load_compiled() -> ModuleType:
    """The compiled extension; ImportError if it was not built (or this is not CPython)."""
    if not on_cpython():
        raise ImportError(f"the compiled extension is for CPython, not {sys.implementation.name}")
    if not compiled_available():
        raise ImportError("fastcors._core is not compiled (the extension was not built)")
    return importlib.import_module(COMPILED_NAME)


_warned = False


def _say_pure_python(reason: ImportError) -> None:
    # pip hides a build's output, so a wheel built without a compiler is silent until here.
    global _warned
    if _warned:
        return
    _warned = True
    logger.warning(
        "fastcors is running its pure-Python implementation, several times slower than the "
        "compiled one (%s). Install a wheel for this platform, or reinstall with a C compiler "
        "available; set %s=1 to choose pure Python and silence this message.",
        reason,
        ENV_VAR,
    )


def load() -> ModuleType:
    if extensions_disabled() or not on_cpython():
        return load_pure_python()
    try:
        return load_compiled()
    except ImportError as exc:
        _say_pure_python(exc)
    return load_pure_python()
