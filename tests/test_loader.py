"""Choosing the implementation: `_rules.py` and `_core.py` run once each, as
`fastcors._rules_py` and `fastcors._core_py`, when there is no compiled module; pure Python
off CPython; the twin runs where Cython is not installed; a missing compiled module is said
once on CPython, unless pure Python was asked for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asgi_harness import unavailable

import fastcors

PACKAGE = Path(fastcors.__file__).resolve().parent
WARNING_TEXT = "fastcors is running its pure-Python implementation"

# A preflight through the default CORSMiddleware, printed as the status and header names.
PREFLIGHT = """
import asyncio, fastcors
async def app(scope, receive, send):
    raise AssertionError("a preflight never reaches the app")
sent = []
async def send(message):
    sent.append(message)
async def receive():
    return {"type": "http.request", "body": b""}
middleware = fastcors.CORSMiddleware(app, allow_origins=["https://a.example"], allow_methods=["PUT"])
scope = {"type": "http", "method": "OPTIONS", "path": "/", "headers": [
    (b"origin", b"https://a.example"), (b"access-control-request-method", b"PUT")]}
asyncio.run(middleware(scope, receive, send))
print(sent[0]["status"], dict(sent[0]["headers"])[b"access-control-allow-origin"].decode())
"""


def run_python(code: str, *, pythonpath: object = PACKAGE.parent, **env: str) -> subprocess.CompletedProcess[str]:
    # By default the child imports the very package under test (the copy scripts/memcheck.sh
    # builds, say), not whichever one the interpreter has installed.
    environ = {k: v for k, v in os.environ.items() if k not in ("FASTCORS_NO_EXTENSIONS", "PYTHONPATH")}
    environ["PYTHONPATH"] = str(pythonpath)
    environ.update(env)
    result = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def package_without_extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package as a build without a compiler installs it: no compiled module."""
    root = tmp_path_factory.mktemp("no-extension")
    shutil.copytree(PACKAGE, root / "fastcors", ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"))
    return root


@pytest.fixture(scope="module")
def without_cython(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that, first on the path, makes `import cython` fail as if not installed."""
    root = tmp_path_factory.mktemp("no-cython")
    for name in ("cython.py", "Cython/__init__.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("raise ImportError('Cython is not installed here')\n")
    return root


def test_without_the_extension_core_runs_once_and_says_so_once(package_without_extension: Path) -> None:
    code = """
import sys, fastcors, fastcors._core, fastcors._rules
from fastcors import _loader
_loader.load()  # a second load neither runs _core.py again nor warns again
twin = sys.modules["fastcors._core_py"]
assert fastcors._core is twin, "fastcors._core and fastcors._core_py are two modules"
assert fastcors._rules is sys.modules["fastcors._rules_py"], "two modules of rules"
assert twin.OriginRule is fastcors._rules.OriginRule
assert fastcors.CORSMiddleware is twin.CORSMiddleware
print(fastcors.COMPILED, fastcors.__file__)
"""
    result = run_python(code, pythonpath=package_without_extension)
    compiled, path = result.stdout.split()
    assert compiled == "False"
    assert Path(path).is_relative_to(package_without_extension)
    assert result.stderr.count(WARNING_TEXT) == 1, result.stderr
    assert "FASTCORS_NO_EXTENSIONS=1" in result.stderr  # how to choose pure Python on purpose


def test_a_partial_build_is_not_taken_for_the_extension(tmp_path: Path) -> None:
    # _core compiled without _rules (or _scan) would fail at import: the twin runs, and says why.
    if not fastcors._loader.compiled_available():
        unavailable("the compiled extension is not built here")
    shutil.copytree(PACKAGE, tmp_path / "fastcors", ignore=shutil.ignore_patterns("_rules.*.so", "__pycache__"))
    result = run_python("import fastcors; print(fastcors.COMPILED)", pythonpath=tmp_path)
    assert result.stdout.strip() == "False"
    assert result.stderr.count(WARNING_TEXT) == 1, result.stderr


def test_asking_for_pure_python_is_silent(package_without_extension: Path) -> None:
    result = run_python(
        "import fastcors; print(fastcors.COMPILED)", pythonpath=package_without_extension, FASTCORS_NO_EXTENSIONS="1"
    )
    assert result.stdout.strip() == "False"
    assert WARNING_TEXT not in result.stderr


def test_the_compiled_module_is_loaded_silently() -> None:
    if not fastcors._loader.compiled_available():
        unavailable("the compiled extension is not built here")
    result = run_python(
        "import sys, fastcors\n"
        "print(fastcors.COMPILED, any(m in sys.modules for m in ('fastcors._core_py', 'fastcors._rules_py')))"
    )
    assert result.stdout.split() == ["True", "False"]  # the twin is not even run
    assert WARNING_TEXT not in result.stderr


def test_off_cpython_the_pure_implementation_is_used_silently() -> None:
    # PyPy and other interpreters: the extension is CPython's, so the twin runs, as chosen.
    code = "import sys; sys.implementation.name = 'pypy'\nimport fastcors; print(fastcors.COMPILED)"
    result = run_python(code)
    assert result.stdout.strip() == "False"
    assert WARNING_TEXT not in result.stderr
    refused = run_python(
        "import sys; sys.implementation.name = 'pypy'\nfrom fastcors import _loader\n"
        "try:\n    _loader.load_compiled()\nexcept ImportError as exc:\n    print('refused:', exc)"
    )
    assert "refused: the compiled extension is for CPython, not pypy" in refused.stdout


def test_the_twin_runs_without_cython(without_cython: Path, package_without_extension: Path) -> None:
    code = (
        "import sys, typing\n"
        "try:\n    import cython\nexcept ImportError:\n    pass\nelse:\n    raise SystemExit('cython importable')\n"
        + PREFLIGHT
        + "twin = sys.modules['fastcors._core_py']\n"
        "from fastcors import _cython_shim\n"
        "assert twin.cython is _cython_shim\n"
        # The C type names the annotations use resolve to Python types.
        "for cls in (twin.OriginRule, twin.Policy, twin.SendWithCORS):\n"
        "    typing.get_type_hints(cls)\n"
        "print(typing.get_type_hints(twin.OriginRule)['allow_all'].__name__)\n"
    )
    for root in (package_without_extension, PACKAGE.parent):  # without, and next to, a compiled module
        result = run_python(code, pythonpath=f"{without_cython}{os.pathsep}{root}", FASTCORS_NO_EXTENSIONS="1")
        assert result.stdout.split() == ["200", "https://a.example", "bool"], result.stdout


def test_the_twin_runs_no_cast_and_compares_str_with_eq() -> None:
    # cython.cast and _same_str's length test are for the C compiler: in the twin each would be
    # a call per request for nothing.
    twin = fastcors._loader.load_pure_python()
    source = Path(fastcors._loader.__file__).with_name("_core.py").read_text(encoding="utf-8")
    assert "cython.cast(tuple, item)" in source  # what the twin drops is there to drop
    assert "cast" not in twin._splice.__code__.co_names
    assert "_same_str(message[\"type\"], _RESPONSE_START)" in source
    assert "_same_str" not in twin.SendWithCORS.forward.__code__.co_names
    assert "_same_str" not in twin.Middleware.__call__.__code__.co_names
    # ... and compares as `==` would, odd values included.
    for value, same in (("http.response.start", True), ("http.response.body", False), (b"x", False)):
        assert twin._same_str(value, "http.response.start") is same  # (the function itself is kept)
