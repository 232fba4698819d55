"""fastcors' modules import one another without a cycle: each can be read after the ones it imports.

(Imports for type checkers alone, under TYPE_CHECKING, are left out: nothing runs them.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import fastcors

PACKAGE = Path(fastcors.__file__).parent


def _runtime_imports(tree: ast.Module) -> set[str]:
    """The fastcors modules a module imports when it runs (any depth, functions included)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fastcors."):
            found.add(node.module.split(".")[1])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_no_import_cycle() -> None:
    graph = {path.stem: _runtime_imports(ast.parse(path.read_text())) for path in PACKAGE.glob("*.py")}
    assert graph["_settings"] >= {"_checks", "_config"}  # the walk sees what is there
    cycles = []

    def walk(module: str, chain: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in chain:
                cycles.append([*chain[chain.index(imported) :], imported])
            else:
                walk(imported, [*chain, imported])

    for module in sorted(graph):
        walk(module, [module])
    assert cycles == []
