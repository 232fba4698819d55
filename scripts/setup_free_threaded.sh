#!/usr/bin/env bash
# A virtualenv on the free-threaded CPython 3.13 (scripts/free_threaded_python.sh), with
# fastcors installed in place (its extension built for 3.13t) and only what the in-memory
# suite imports: each has a pure-Python or free-threaded build that leaves the GIL off
# (tests/conftest.py fails the run otherwise). Cython and setuptools build the extension
# again under ThreadSanitizer (scripts/memcheck.sh tsan). Done again when this script,
# setup.py, pyproject.toml or a compiled module's source (fastcors/_scan, _rules, _core) change.
# Usage: scripts/setup_free_threaded.sh [VENV]   (default .venv-3.13t)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-3.13t}
PY=$(scripts/free_threaded_python.sh plain | tail -n1)
STAMP=$VENV/.installed
if [ -f "$STAMP" ] && [ -z "$(find "$0" setup.py pyproject.toml fastcors/_scan.py fastcors/_rules.py fastcors/_core.py fastcors/*.pxd "$PY" -newer "$STAMP")" ]; then
    exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# Wheels only: a package with no free-threaded wheel would be built from its sdist (Rust
# crates are not reachable here), so pip takes its newest release with a usable wheel instead
# (hypothesis: the last pure-Python one).
"${pip[@]}" --only-binary=:all: "pytest>=8.2" "hypothesis>=6.100" "starlette>=0.47" "httpx>=0.27" "anyio>=4" "fastapi>=0.115" \
    "uvicorn>=0.30" "hypercorn>=0.17" "prometheus_client>=0.17" \
    "Cython>=3.3,<3.4" "setuptools>=77"
# With the Cython just installed (no isolated build environment to make); the C that an
# earlier build generated is reused when it is newer than its source.
FASTCORS_REQUIRE_EXTENSIONS=1 "${pip[@]}" --no-build-isolation -e .
"$VENV/bin/python" -c 'import fastcors, sys; print(">>> fastcors on", sys.version.split()[0], "free-threaded, COMPILED =", fastcors.COMPILED)'
touch "$STAMP"
