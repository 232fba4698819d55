"""Build the Cython extension, or fall back to pure Python, loudly and with an honest tag.

- FASTCORS_NO_EXTENSIONS=1 at build time skips the extension.
- FASTCORS_REQUIRE_EXTENSIONS=1 (release builds) turns every fallback into a build failure.
- Otherwise a missing compiler, a failed compile, or neither Cython nor a shipped `_core.c`
  does not fail the install: it says so, and the wheel is `py3-none-any` (it holds no
  extension, so it must not claim a platform). Importing fastcors says it once more.
- Without Cython, the `_core.c` the sdist carries is compiled as it is.
"""

import os
import platform
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent


def _flag(name):
    return os.environ.get(name, "") not in ("", "0")


NO_EXTENSIONS = _flag("FASTCORS_NO_EXTENSIONS")
REQUIRE_EXTENSIONS = _flag("FASTCORS_REQUIRE_EXTENSIONS")
# The compiled modules: _scan (C byte scans, cimported by _rules), _rules (the verdicts,
# cimported by _core) and _core (the request path).
COMPILED_MODULES = ("_scan", "_rules", "_core")
# Set when the extension was planned but not built: the wheel is then pure Python.
_fallbacks = []


class ExtensionRequired(RuntimeError):
    pass


def _fall_back(reason):
    if REQUIRE_EXTENSIONS:
        raise ExtensionRequired(f"fastcors: {reason}, and FASTCORS_REQUIRE_EXTENSIONS is set")
    _fallbacks.append(reason)
    _say(reason)


def _say(reason):
    print(f"*** fastcors: {reason}; the pure-Python implementation will be used.", file=sys.stderr)


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except ExtensionRequired:
            raise
        except Exception as exc:  # no compiler, or the platform cannot build extensions
            _fall_back(f"the extension could not be built ({exc})")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            _fall_back(f"compiling {ext.name} failed ({exc})")


class HonestBdistWheel(bdist_wheel):
    """Builds first, so a wheel whose extension failed is tagged (and laid out) as pure."""

    def run(self):
        if not self.skip_build:
            self.run_command("build")
        if _fallbacks:
            self.root_is_pure = True
        super().run()


def extensions():
    if NO_EXTENSIONS:
        if REQUIRE_EXTENSIONS:
            raise ExtensionRequired("fastcors: FASTCORS_NO_EXTENSIONS and FASTCORS_REQUIRE_EXTENSIONS are both set")
        _say("FASTCORS_NO_EXTENSIONS is set")
        return []
    if platform.python_implementation() != "CPython":
        # The extension is written against CPython's C API; elsewhere the twin is the package.
        _fall_back(f"{platform.python_implementation()} is not CPython")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        shipped = [HERE / "fastcors" / f"{name}.c" for name in COMPILED_MODULES]
        if all(path.exists() for path in shipped):  # an sdist: compile the C Cython generated when it was made
            return [Extension(f"fastcors.{name}", [f"fastcors/{name}.c"]) for name in COMPILED_MODULES]
        _fall_back("neither Cython nor the C of fastcors' compiled modules is available")
        return []
    return cythonize(
        [f"fastcors/{name}.py" for name in COMPILED_MODULES],
        # freethreading_compatible: the request path needs no GIL (see _core: caches that never
        # iterate, the policy read and swapped under a critical section, no free list there).
        compiler_directives={"language_level": "3", "binding": True, "freethreading_compatible": True},
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt, "bdist_wheel": HonestBdistWheel})
