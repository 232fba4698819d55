#!/usr/bin/env bash
# Memory-check the compiled extension: run the in-memory tests (not servers or browsers)
# against it, under valgrind memcheck (default), with an AddressSanitizer build, or with a
# ThreadSanitizer build on a free-threaded CPython built with TSAN too.
#
#   scripts/memcheck.sh            # valgrind: any invalid read/write/free fails
#   scripts/memcheck.sh asan       # AddressSanitizer build of the extension: any report fails
#   scripts/memcheck.sh tsan       # ThreadSanitizer, the GIL off: any data race reported fails
#   scripts/memcheck.sh valgrind tests/test_attacks.py   # only some tests
#
# The repository is copied to a temporary directory and the extension built there (with
# debug info), so the tree under test is never touched. Hypothesis and seeded-fuzz example
# counts are reduced (valgrind runs Python ~30x slower); override them by exporting
# FASTCORS_DIFF_EXAMPLES, FASTCORS_FUZZ_EXAMPLES, FASTCORS_FUZZ_SEEDS.
set -euo pipefail

MODE=${1:-valgrind}
shift || true
REPO=$(cd "$(dirname "$0")/.." && pwd)
# The real interpreter, not a pyenv shim: valgrind does not follow the shim's exec.
PY=$(python -c 'import sys; print(sys.executable)')
RUN_PY=$PY
if [ "$MODE" = tsan ]; then
    # The free-threaded 3.13 and its venv build the extension; the same CPython built with
    # TSAN (same ABI) runs the tests, on that venv's packages. Both built once per machine.
    FT_VENV=$REPO/.venv-3.13t
    "$REPO/scripts/setup_free_threaded.sh" "$FT_VENV"
    PY=$FT_VENV/bin/python
    RUN_PY=$("$REPO/scripts/free_threaded_python.sh" tsan | tail -n1)
fi
# The compiled modules (setup.py's COMPILED_MODULES).
MODULES=(_scan _rules _core)
WORK=$(mktemp -d /tmp/fastcors-memcheck.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

tar -C "$REPO" --exclude=.git --exclude='*.so' --exclude='fastcors/*.c' --exclude=build --exclude='__pycache__' \
    --exclude=.hypothesis --exclude='.venv*' --exclude=.pytest_cache --exclude=.ruff_cache --exclude='*.egg-info' -cf - . \
    | tar -C "$WORK" -xf -
cd "$WORK"
# Cython on 3.13t is pure Python and slow: under TSAN the C an earlier build generated is used
# (Cython regenerates a module's C only where it is older than its source).
if [ "$MODE" = tsan ]; then
    for module in "${MODULES[@]}"; do
        if [ "$REPO/fastcors/$module.c" -nt "$REPO/fastcors/$module.py" ]; then
            cp -p "$REPO/fastcors/$module.c" fastcors/
        fi
    done
fi

CFLAGS="-O1 -g -fno-omit-frame-pointer"
LDFLAGS=""
if [ "$MODE" = asan ]; then
    CFLAGS="$CFLAGS -fsanitize=address"
    LDFLAGS="-fsanitize=address"
elif [ "$MODE" = tsan ]; then
    CFLAGS="$CFLAGS -fsanitize=thread"
    LDFLAGS="-fsanitize=thread"
elif [ "$MODE" != valgrind ]; then
    echo "usage: $0 [valgrind|asan|tsan] [pytest arguments]" >&2
    exit 2
fi
echo "== building the extension ($MODE) in $WORK"
CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS" "$PY" setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log; exit 1; }
for module in "${MODULES[@]}"; do
    ls fastcors/$module.*.so >/dev/null 2>&1 || { echo "$module was not built:"; cat build.log; exit 1; }
    # (grep reads all of nm's output: with -q it would stop early, and pipefail would count
    # nm's broken pipe as a failure.)
    if [ "$MODE" = tsan ] && ! nm -D fastcors/$module.*.so | grep __tsan_func_entry >/dev/null; then
        echo "$module was built without ThreadSanitizer's instrumentation:"; cat build.log; exit 1
    fi
done

export FASTCORS_DIFF_EXAMPLES=${FASTCORS_DIFF_EXAMPLES:-150}
export FASTCORS_FUZZ_EXAMPLES=${FASTCORS_FUZZ_EXAMPLES:-100}
export FASTCORS_FUZZ_SEEDS=${FASTCORS_FUZZ_SEEDS:-100}
if [ "$MODE" = tsan ]; then
    # TSAN runs Python ~10x slower: the bytecode is compiled up front by the plain interpreter
    # (the venv's was at install; the TSAN interpreter's stdlib has none of its own, see
    # free_threaded_python.sh), and the thread test sends fewer origins (still more than the
    # memos' slots, which are replaced when two keys meet in one).
    "$PY" -m compileall -q -j0 fastcors tests fuzz bench "$(dirname "$(dirname "$RUN_PY")")/lib/python3.13t" >/dev/null
    export FASTCORS_THREAD_ORIGINS=${FASTCORS_THREAD_ORIGINS:-200}
    export PYTHONPATH=$("$PY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
else
    # Every allocation through the C allocator, so the checker sees each object's bounds.
    export PYTHONMALLOC=malloc
    export PYTHONDONTWRITEBYTECODE=1
fi
# Hypothesis' timing health checks fire under a 30x slowdown: a profile (loaded as a pytest
# plugin from this temporary copy) turns them off where a test does not set its own.
cat >memcheck_hypothesis.py <<'EOF'
from hypothesis import HealthCheck, settings

settings.register_profile("memcheck", deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("memcheck")
EOF
# Tests of the compiled module (and the compiled-vs-Python comparisons), servers excluded;
# under TSAN the thread tests (both implementations: the interpreter's own races count too).
# The thread tests use no Hypothesis nor anyio: under TSAN their plugins would take a minute
# to load, so they are left out.
TESTS=("$@")
PLUGINS=(-p memcheck_hypothesis)
if [ "$MODE" = tsan ]; then
    PLUGINS=()
    [ ${#TESTS[@]} -eq 0 ] && TESTS=(tests/test_threads.py -p no:hypothesispytest -p no:anyio)
fi
[ ${#TESTS[@]} -eq 0 ] && TESTS=(tests -m "not slow" -k "compiled or fuzz")
PYTEST=("$RUN_PY" -m pytest ${PLUGINS[@]+"${PLUGINS[@]}"} -p no:cacheprovider -q "${TESTS[@]}")

start=$SECONDS
if [ "$MODE" = valgrind ]; then
    command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
    # glibc's vectorised string functions read whole aligned words past the end of a buffer
    # (harmless, and known to valgrind for most but not these variants).
    cat >cpython.supp <<'EOF'
{
   glibc-avx2-overread
   Memcheck:Addr32
   fun:__*_avx2*
}
{
   glibc-avx2-overread-16
   Memcheck:Addr16
   fun:__*_avx2*
}
{
   glibc-evex-overread
   Memcheck:Addr32
   fun:__*_evex*
}
EOF
    # Uninitialised-value tracking is off: CPython's own code triggers it (random seeding),
    # and what must fail here are invalid reads, writes and frees.
    set +e
    valgrind --tool=memcheck --error-exitcode=99 --undef-value-errors=no --leak-check=no \
        --num-callers=40 --suppressions=cpython.supp --log-file=valgrind.log "${PYTEST[@]}"
    status=$?
    set -e
    errors=$(grep -E '^==[0-9]+== (Invalid|Mismatched|Source and destination|Argument|Process terminating)' valgrind.log || true)
    if [ -n "$errors" ]; then
        echo "== valgrind found memory errors:"
        grep -v -E '^==[0-9]+== +(Copyright|Using|Command|Parent|Memcheck|$)' valgrind.log | head -200
        status=99
    fi
    tail -n 3 valgrind.log
elif [ "$MODE" = tsan ]; then
    # Reports from CPython itself are suppressed in scripts/tsan.supp (each says why); any
    # other makes the run fail (exit code 66), and the log is searched for them as well.
    set +e
    env -u PYTHON_GIL TSAN_OPTIONS="suppressions=$REPO/scripts/tsan.supp exitcode=66 second_deadlock_stack=1" \
        "${PYTEST[@]}" 2>&1 | tee tsan.log
    status=${PIPESTATUS[0]}
    set -e
    if grep -q 'WARNING: ThreadSanitizer' tsan.log; then
        echo "== ThreadSanitizer reports: $(grep -c 'WARNING: ThreadSanitizer' tsan.log)"
        [ "$status" -ne 0 ] || status=66
    fi
else
    LIBASAN=$(gcc -print-file-name=libasan.so)
    set +e
    # Leak detection is off: the interpreter does not free everything at exit by design.
    LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 "${PYTEST[@]}"
    status=$?
    set -e
fi
echo "== memcheck ($MODE): exit status $status after $((SECONDS - start)) s"
exit "$status"
