#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (--disable-gil) for the thread tests, once per machine,
# cached outside the checkout; prints the interpreter's path as its last line.
#
#   scripts/free_threaded_python.sh [plain|tsan]    # tsan: built with --with-thread-sanitizer
#
# 3.13 is the newest CPython whose source Debian's archive has (trixie's python3.13 package);
# its upstream tarball is built as it is, without Debian's patches. The cache is keyed by this
# script's contents: a changed script rebuilds. JOBS (default 2) is make's -j.
set -euo pipefail
MODE=${1:-plain}
case $MODE in
    plain) SUFFIX="" FLAGS=() ;;
    tsan) SUFFIX=-tsan FLAGS=(--with-thread-sanitizer) ;;
    *) echo "usage: $0 [plain|tsan]" >&2; exit 2 ;;
esac
CACHE=${FASTCORS_CACHE:-$HOME/.cache/fastcors}
PREFIX=$CACHE/cpython-3.13t$SUFFIX
PY=$PREFIX/bin/python3.13t
KEY=$(sha256sum "$0" | cut -c1-16)
if [ -x "$PY" ] && [ "$(cat "$PREFIX/.key" 2>/dev/null)" = "$KEY" ]; then
    echo "$PY"
    exit 0
fi
mkdir -p "$CACHE/src"

# The source, from Debian's source archive through an apt configuration of its own: the
# machine's sources and package lists stay as they are. Locked: both modes may run at once.
(
    flock 9
    ls "$CACHE"/src/python3.13_*.orig.tar.xz >/dev/null 2>&1 && exit 0
    APT=$CACHE/apt
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$APT/sources.list"
    OPTS=(-q -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts="$APT/parts"
        -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" -o APT::Sandbox::User=root)
    apt-get "${OPTS[@]}" update >/dev/null
    cd "$CACHE/src" && apt-get "${OPTS[@]}" source --download-only python3.13 >/dev/null
) 9>"$CACHE/src.lock"

BUILD=$(mktemp -d "$CACHE/build$SUFFIX.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
tar -C "$BUILD" --strip-components=1 -xf "$CACHE"/src/python3.13_*.orig.tar.xz
cd "$BUILD"
# Minimal: no test modules, no pip at install (venv still installs the bundled pip wheel),
# none of the optional modules the tests never import.
export py_cv_module__tkinter=n/a py_cv_module__curses=n/a py_cv_module__curses_panel=n/a \
    py_cv_module__dbm=n/a py_cv_module__gdbm=n/a py_cv_module_readline=n/a
# The sanitized interpreter runs during the build (sysconfig, compileall): no reports there.
export TSAN_OPTIONS=report_bugs=0
./configure -q --prefix="$PREFIX" --disable-gil --disable-test-modules --without-ensurepip "${FLAGS[@]}" \
    >configure.log 2>&1 || { tail -30 configure.log; exit 1; }
rm -rf "$PREFIX"
make -s -j"${JOBS:-2}" >make.log 2>&1 || { tail -50 make.log; exit 1; }
# No bytecode compiled at install (PYTHON_FOR_BUILD names the interpreter that would run
# compileall, three optimization levels over the whole stdlib: 6.5 minutes for the sanitized
# one): modules are compiled when first imported, and memcheck.sh compiles the TSAN
# interpreter's stdlib up front with the plain one.
make -s install PYTHON_FOR_BUILD=true >install.log 2>&1 || { tail -50 install.log; exit 1; }
"$PY" -c 'import sys; assert not sys._is_gil_enabled(), "the GIL is on"'
echo "$KEY" >"$PREFIX/.key"
echo "$PY"
