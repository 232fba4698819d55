"""Coverage-guided fuzzing (atheris / libFuzzer) of the compiled middleware against its twin.

Each input is decoded into a case (a configuration, a scope, the messages the app sends;
see fuzz_cases.py) and run through both implementations: the process must not crash, nothing
may raise SystemError, and both must behave the same (same exception class, same messages).
A mismatch raises AssertionError: libFuzzer saves the input as crash-<sha1> and stops.

Coverage comes from the pure-Python twin (instrumented here): it is the same source as the
compiled module, so its branches are the compiled module's branches. The extension itself
is not instrumented (that needs a clang build with -fsanitize=fuzzer-no-link).

    python fuzz/fuzz_core.py -max_total_time=60 -artifact_prefix=/tmp/ [corpus_dir]
    python fuzz/fuzz_core.py crash-<sha1>        # replay one input, print the case
"""

from __future__ import annotations

import sys

import atheris

# Instrumented too: coverage of the case builder rewards inputs that take new choices.
with atheris.instrument_imports():
    from fuzz_cases import build_case
    from fuzz_compare import check_case

from fastcors import _loader

COMPILED = _loader.load_compiled()
PURE = _loader.load_pure_python()


class FuzzChooser:
    """The choices of fuzz_cases.py, read from libFuzzer's bytes (zeros once they run out)."""

    def __init__(self, data: bytes) -> None:
        self.fdp = atheris.FuzzedDataProvider(data)

    def index(self, n: int) -> int:
        return self.fdp.ConsumeIntInRange(0, n - 1)

    def raw(self, max_len: int) -> bytes:
        return self.fdp.ConsumeBytes(self.fdp.ConsumeIntInRange(0, max_len))


def test_one_input(data: bytes) -> None:
    case = build_case(FuzzChooser(data))
    problem = check_case(COMPILED, PURE, case)
    if problem is not None:
        raise AssertionError(problem)


def main() -> None:
    # Instrument the twin's functions (loaded from a file path, so not via an import hook).
    for obj in vars(PURE).values():
        for func in [obj, *vars(obj).values()] if isinstance(obj, type) else [obj]:
            if callable(func) and getattr(func, "__module__", None) == PURE.__name__ and hasattr(func, "__code__"):
                atheris.instrument_func(func)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
