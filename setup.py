"""Build the Cython extension, or fall back to pure Python.

FASTCORS_NO_EXTENSIONS=1 at build time skips the extension; a missing compiler (or a failed
compile) does not fail the install either: it says so, and the pure-Python twin is used.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get("FASTCORS_NO_EXTENSIONS", "") not in ("", "0")


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, or the platform cannot build extensions
            _say_pure_python(f"the extension could not be built ({exc})")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            _say_pure_python(f"compiling {ext.name} failed ({exc})")


def _say_pure_python(reason):
    print(f"*** fastcors: {reason}; the pure-Python implementation will be used.", file=sys.stderr)


def extensions():
    if NO_EXTENSIONS:
        _say_pure_python("FASTCORS_NO_EXTENSIONS is set")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _say_pure_python("Cython is not installed")
        return []
    return cythonize(
        ["fastcors/_core.py"],
        compiler_directives={"language_level": "3", "binding": True},
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
