"""Compiled against pure Python on odd inputs: same exception class, same messages, no crash.

The inputs (fuzz/fuzz_cases.py) include wrong types, non-tuples, str for bytes, bytearray, huge
and empty values and missing keys. Three drivers share them: hypothesis (quick, everywhere),
a fixed list of seeds (also run under valgrind by scripts/memcheck.sh), and atheris
coverage-guided fuzzing in a subprocess (bounded by FASTCORS_FUZZ_SECONDS, 60 s in CI).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from asgi_harness import IN_CI, compiled_module, unavailable
from fuzz_cases import CONFIGS, Case, RandomChooser, build_case
from fuzz_compare import check_case, run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastcors import _loader

FUZZ_DIR = Path(__file__).resolve().parents[1] / "fuzz"
EXAMPLES = int(os.environ.get("FASTCORS_FUZZ_EXAMPLES", "400"))
SEEDS = int(os.environ.get("FASTCORS_FUZZ_SEEDS", "300"))
FUZZ_SECONDS = int(os.environ.get("FASTCORS_FUZZ_SECONDS", "60" if IN_CI else "15"))


@pytest.fixture(scope="module")
def compiled() -> ModuleType:
    module = compiled_module()
    for name in _loader.TWINNED:
        source = Path(_loader.__file__).with_name(f"{name}.py")
        if Path(module.__file__).stat().st_mtime < source.stat().st_mtime:
            unavailable(f"the compiled extension is older than {name}.py: rebuild it (pip install -e .)")
    return module


@pytest.fixture(scope="module")
def pure() -> ModuleType:
    return _loader.load_pure_python()


class DrawChooser:
    """fuzz_cases.py choices drawn by hypothesis, so failures shrink to the plainest input."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def index(self, n: int) -> int:
        return self.data.draw(st.integers(0, n - 1))

    def raw(self, max_len: int) -> bytes:
        return self.data.draw(st.binary(max_size=max_len))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_same_behaviour_on_generated_inputs(compiled: ModuleType, pure: ModuleType, data: st.DataObject) -> None:
    problem = check_case(compiled, pure, build_case(DrawChooser(data)))
    assert problem is None, problem


@pytest.mark.parametrize("block", range(4))
def test_same_behaviour_on_seeded_inputs(compiled: ModuleType, pure: ModuleType, block: int) -> None:
    # Deterministic (no hypothesis database): the same inputs every run, under valgrind too.
    for seed in range(block * SEEDS, (block + 1) * SEEDS):
        case = build_case(RandomChooser(seed))
        problem = check_case(compiled, pure, case)
        assert problem is None, f"seed {seed}: {problem}"


def test_cases_reach_every_outcome(compiled: ModuleType) -> None:
    # The generator must not be so odd that everything fails the same way: the inputs
    # reach the application, get preflight answers, and raise several exception classes.
    outcomes = [run_case(compiled, build_case(RandomChooser(seed))) for seed in range(600)]
    errors = {o["error"] for o in outcomes}
    assert {None, "TypeError", "KeyError", "ValueError", "AttributeError"} <= errors
    sent = "".join("".join(o["sent"]) for o in outcomes)
    assert "Disallowed CORS" in sent
    assert "b'OK'" in sent
    assert "access-control-allow-origin" in sent
    assert {o["app_scope"] is not None for o in outcomes} == {True, False}


# Inputs worth keeping whatever the generator becomes: each once behaved differently in
# Starlette (which fastcors copies) or takes a rarely-generated path.
ORIGIN_OK = "(b'origin', b'https://app.example.com')"
PREFLIGHT_GET = "(b'access-control-request-method', b'GET')"
START = "'type': 'http.response.start', 'status': 200"
REGRESSIONS = [
    Case(0, "{'type': 'http', 'method': 'OPTIONS', 'headers': [(b'origin', None), (b'x', b'y', b'z')]}", "[]"),
    Case(
        0,
        "{'type': 'http', 'method': 'GET', 'headers': ((b'origin', bytearray(b'https://app.example.com')),)}",
        f"[{{{START}, 'headers': ((b'vary', b'A'),)}}]",
    ),
    Case(2, "{'type': 'http', 'method': 'GET', 'headers': [(b'origin', 'https://app.example.com')]}", "[{}]"),
    Case(
        3,
        "{'type': 'http', 'method': 'OPTIONS', 'headers': "
        "[(b'origin', b'https://x.preview.example.com'), (b'access-control-request-method', 'GET')]}",
        "[]",
    ),
    Case(
        4,
        "{'type': 'http', 'method': 'GET', 'headers': [(b'origin', b'app.example')]}",
        f"[{{{START}, 'headers': [(b'Vary', b'x'), (b'vary', 'y')]}}]",
    ),
    Case(
        5,
        f"{{'type': 'http', 'method': 'OPTIONS', 'headers': "
        f"iter([{ORIGIN_OK}, {PREFLIGHT_GET}, (b'access-control-request-headers', memoryview(b'x'))])}}",
        "[]",
    ),
    Case(
        6,
        "{'type': 'http', 'method': 'GET', 'headers': [(b'origin', BytesSub(b'https://app.example.com'))]}",
        f"[{{{START}, 'headers': [(b'vary', memoryview(b'x'))]}}]",
    ),
    Case(7, "{'type': 'websocket', 'headers': 5}", "[None]"),
    Case(
        8,
        "DictSub({'type': 'http', 'method': 'GET', 'headers': [(b'origin', b'null')]})",
        f"[DictSub({{{START}, 'headers': [(b'access-control-allow-origin', b'*')] * 3}})]",
    ),
]


@pytest.mark.parametrize("case", REGRESSIONS, ids=range(len(REGRESSIONS)))
def test_same_behaviour_on_regressions(compiled: ModuleType, pure: ModuleType, case: Case) -> None:
    assert 0 <= case.config < len(CONFIGS)
    problem = check_case(compiled, pure, case)
    assert problem is None, problem


@pytest.mark.slow
def test_atheris_finds_no_crash_or_divergence(compiled: ModuleType, tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        unavailable("atheris is not installed (pip install atheris)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = [
        sys.executable,
        str(FUZZ_DIR / "fuzz_core.py"),
        f"-max_total_time={FUZZ_SECONDS}",
        "-timeout=10",  # seconds for one input
        "-rss_limit_mb=1024",
        f"-artifact_prefix={tmp_path}/",
        "-print_final_stats=1",
        str(corpus),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120, cwd=tmp_path)
    log = done.stderr[-6000:] + done.stdout[-3000:]
    artifacts = sorted(p.name for p in tmp_path.iterdir() if p.name != "corpus")
    assert done.returncode == 0, f"atheris failed (exit {done.returncode}), artifacts {artifacts}:\n{log}"
    assert artifacts == [], log
    assert "Done " in log, log


# ---------------------------------------------------------------------------- former divergences
# Found by hand while fuzzing (both fixed): they need objects no ASGI server produces (a
# method whose == returns an object without a truth value, a bytes subclass whose
# decode/encode return non-bytes). Kept as regression tests.


class _NoTruthValue:
    def __bool__(self) -> bool:
        raise ValueError("no truth value")


class _OddMethod:
    def __eq__(self, other: object) -> _NoTruthValue:  # type: ignore[override]
        return _NoTruthValue()

    __hash__ = object.__hash__


class _NotBytesAfterRoundTrip(bytes):
    def decode(self, *args: object) -> str:  # type: ignore[override]
        return _StrToStr("https://app.example.com")


class _StrToStr(str):
    def encode(self, *args: object) -> str:  # type: ignore[override]
        return "https://app.example.com"


def _outcome(module: ModuleType, scope: dict[str, object]) -> str | None:
    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]

    async def send(message: object) -> None:
        pass

    async def receive() -> dict[str, object]:
        return {}

    try:
        module.CORSMiddleware(app, allow_origins=["https://app.example.com"])(scope, receive, send).send(None)
    except StopIteration:
        return None
    except Exception as exc:
        return type(exc).__name__
    return "suspended"


def test_method_truth_value_is_tested_alike(compiled: ModuleType, pure: ModuleType) -> None:
    scope = {"type": "http", "method": _OddMethod(), "headers": []}
    assert _outcome(compiled, dict(scope)) == _outcome(pure, dict(scope)) is None  # as Starlette: never tested


def test_header_value_round_trip_checked_alike(compiled: ModuleType, pure: ModuleType) -> None:
    scope = {"type": "http", "method": "GET", "headers": [(b"origin", _NotBytesAfterRoundTrip(b"x"))]}
    assert _outcome(compiled, dict(scope)) == _outcome(pure, dict(scope))
