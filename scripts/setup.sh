#!/usr/bin/env bash
# Make this machine ready to test and benchmark fastcors: Debian packages (as root),
# then a virtualenv with fastcors installed in place, its Cython extension built.
# Usage: scripts/setup.sh PYTHON VENV
set -euo pipefail
PYTHON=${1:-python3}
VENV=${2:-.venv}

# prometheus: the real Prometheus server of tests/realworld/test_rw_prometheus.py (the tests start their own).
SYSTEM_PACKAGES=(chromium chromium-driver wrk valgrind gcc redis-server nginx prometheus)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        echo ">>> installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo ">>> not root: cannot install ${missing[*]} (the tests that need them will say so)"
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo ">>> creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
echo ">>> installing fastcors (building the extension) and its test, bench and docs dependencies"
"$VENV/bin/python" -m pip install -q -e ".[test,bench,docs]"
"$VENV/bin/python" -c "import fastcors; print('>>> fastcors', fastcors.__version__, 'COMPILED =', fastcors.COMPILED)"
