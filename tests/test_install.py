"""Installing fastcors: compiled by default, pure Python on request or without a compiler (then
a py3-none-any wheel, and said at import); a release build that must compile fails instead;
the sdist carries the generated C, LICENSE and CHANGELOG, and builds the extension without Cython."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _source(tmp_path: Path) -> Path:
    """A clean copy of the checkout: no built extension, no generated C."""
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv*", "build", "*.so", "*.c", "__pycache__", "results", "*.egg-info"),
    )
    return source


def _pip(*args: object, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *map(str, args)], env={**os.environ, **env}, capture_output=True, text=True
    )


def _install(tmp_path: Path, **env: str) -> tuple[Path, str]:
    source = _source(tmp_path)
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "-v", "--target", target, source],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target, result.stdout + result.stderr


def _import(site: Path) -> subprocess.CompletedProcess[str]:
    code = "import fastcors; print(fastcors.COMPILED)"
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("FASTCORS_NO_EXTENSIONS", None)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=site, check=True)


def _compiled_flag(site: Path) -> str:
    return _import(site).stdout.strip()


NO_COMPILER = {"CC": "/bin/false", "LDSHARED": "/bin/false"}


def test_default_install_builds_the_extension(tmp_path: Path) -> None:
    site, _ = _install(tmp_path)
    assert list((site / "fastcors").glob("_core*.so"))
    assert _compiled_flag(site) == "True"


def test_no_extensions_variable_installs_pure_python(tmp_path: Path) -> None:
    site, log = _install(tmp_path, FASTCORS_NO_EXTENSIONS="1")
    assert "pure-Python implementation will be used" in log
    assert not list((site / "fastcors").glob("_core*.so"))
    assert _compiled_flag(site) == "False"


def test_missing_compiler_still_installs(tmp_path: Path) -> None:
    site, log = _install(tmp_path, **NO_COMPILER)
    assert "pure-Python implementation will be used" in log
    assert _compiled_flag(site) == "False"


def test_missing_compiler_gives_a_pure_wheel_that_says_so_at_import(tmp_path: Path) -> None:
    source = _source(tmp_path)
    built = _pip("wheel", "--no-build-isolation", "--no-deps", "-w", tmp_path / "dist", source, **NO_COMPILER)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name  # never a platform tag without the extension
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert not [n for n in names if n.endswith((".so", ".pyd", ".c"))], names
        (wheel_file,) = [n for n in names if n.endswith(".dist-info/WHEEL")]
        assert "Root-Is-Purelib: true" in archive.read(wheel_file).decode()
    site = tmp_path / "site"
    installed = _pip("install", "--no-deps", "--target", site, wheel)
    assert installed.returncode == 0, installed.stderr
    # pip showed nothing of the build (no -v); the import says it, once, without any logging setup.
    result = _import(site)
    assert result.stdout.strip() == "False"
    assert result.stderr.count("fastcors is running its pure-Python implementation") == 1, result.stderr


def test_a_release_build_fails_rather_than_fall_back(tmp_path: Path) -> None:
    source = _source(tmp_path)
    built = _pip("wheel", "--no-build-isolation", "--no-deps", "-v", "-w", tmp_path / "dist", source,
                 FASTCORS_REQUIRE_EXTENSIONS="1", **NO_COMPILER)
    assert built.returncode != 0
    assert "FASTCORS_REQUIRE_EXTENSIONS is set" in built.stdout + built.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


def test_sdist_carries_c_and_license_and_builds_without_cython(tmp_path: Path) -> None:
    source = _source(tmp_path)
    made = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", tmp_path / "dist", source],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    compiled = [f"fastcors/{module}.{ext}" for module in ("_scan", "_rules", "_core") for ext in ("c", "py")]
    for wanted in (*compiled, "fastcors/_scan.pxd", "fastcors/_rules.pxd", "fastcors/py.typed", "LICENSE",
                   "CHANGELOG.md", "README.md", "setup.py", "pyproject.toml"):
        assert wanted in names, wanted
    # The suite needs the checkout (servers, browser, bench): left out, not shipped broken.
    assert not [name for name in names if name.startswith(("tests/", "bench/", "fuzz/"))]
    # Without Cython (a package of that name that fails to import comes first on the path).
    hide = tmp_path / "no-cython"
    (hide / "Cython").mkdir(parents=True)
    (hide / "Cython" / "__init__.py").write_text("raise ImportError('Cython is not installed here')\n")
    built = _pip("wheel", "--no-build-isolation", "--no-deps", "-v", "-w", tmp_path / "wheels", sdist,
                 PYTHONPATH=str(hide), FASTCORS_REQUIRE_EXTENSIONS="1")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "cythoniz" not in built.stdout.lower()  # compiled from the shipped C
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    assert "-cp3" in wheel.name and "-none-any" not in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    for module in ("_scan", "_rules", "_core"):  # every compiled module
        assert [n for n in names if n.startswith(f"fastcors/{module}.") and n.endswith((".so", ".pyd"))], names
    assert [n for n in names if n.endswith(".dist-info/licenses/LICENSE")], names
