"""Choose the implementation: the compiled extension unless it is missing or disabled."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ENV_VAR = "FASTCORS_NO_EXTENSIONS"


def extensions_disabled() -> bool:
    return os.environ.get(ENV_VAR, "") not in ("", "0")


class _NotCompiled(ast.NodeTransformer):
    """`_COMPILED` as the constant False: Python's compiler then drops the tests of it."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == "_COMPILED" and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(False), node)
        return node


def load_pure_python() -> ModuleType:
    """_core.py run as plain Python, under its own module name, even if compiled exists.

    Its compiled-only branches test `_COMPILED`, which Cython reads as the constant True;
    here it is the constant False, so they cost the uncompiled twin nothing per request.
    """
    name = "fastcors._core_py"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).with_name("_core.py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    tree = _NotCompiled().visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    code = compile(tree, str(path), "exec")
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
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
