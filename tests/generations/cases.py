"""Starlette's answers recorded in one env, replayed against fastcors in another (one Starlette
per process, so comparing fastcors pinned to an old generation with that release's real answers
takes two processes).

    python -m generations.cases record FILE EXAMPLES     (an env with Starlette)
    python -m generations.cases replay FILE [VERSION]    fastcors, pinned to VERSION if given,
                                                         against the recorded answers
    python -m generations.cases same FILE VERSION        fastcors by default against fastcors
                                                         pinned to VERSION, on the recorded cases

The cases are the differential suite's (configuration, request, app response), drawn
derandomized; the file keeps Python types (bytes, tuples, sets) exactly. Both commands run both
implementations and print a JSON summary: per implementation, the number of cases, how many
differ, and the first difference. Run with PYTHONHASHSEED=0 in every env: a configuration's sets
are rebuilt from the same items in the same order, so they iterate alike in both processes.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from asgi_harness import Outcome, outcome

from generations import env_checks


def encode(value: Any) -> Any:
    """JSON for the values of a case or an outcome, keeping the types that change answers."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, tuple):
        return {"tuple": [encode(item) for item in value]}
    if isinstance(value, set | frozenset):
        return {"set": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Outcome):
        return {"outcome": {f.name: encode(getattr(value, f.name)) for f in fields(Outcome)}}
    raise TypeError(f"cannot record {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    ((tag, inner),) = value.items()
    if tag == "bytes":
        return inner.encode("latin-1")
    if tag == "tuple":
        return tuple(decode(item) for item in inner)
    if tag == "set":
        return {decode(item) for item in inner}
    if tag == "dict":
        return {decode(k): decode(v) for k, v in inner}
    if tag == "outcome":
        return Outcome(**{name: decode(v) for name, v in inner.items()})
    raise ValueError(f"unknown tag {tag!r}")


def answer(factory: Any, case: Any) -> Outcome | str:
    """The middleware's outcome on a recorded case, rebuilt afresh (a run may change the app's lists)."""
    case = decode(case)
    return outcome(factory, case["config"], case["scope"], case["response"])


def _hash_seed_fixed() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        raise SystemExit("run with PYTHONHASHSEED=0: recorded sets must iterate alike in every process")


def record(path: Path, examples: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from starlette.middleware.cors import CORSMiddleware
    from test_differential import configs, requests, responses

    cases: list[dict[str, Any]] = []

    @settings(
        max_examples=examples, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(config=configs, scope=requests, response=responses())
    def draw(config: dict[str, Any], scope: dict[str, Any], response: Any) -> None:
        case = encode({"config": config, "scope": scope, "response": response})
        # Starlette answers the case as the replay will rebuild it (fresh objects, sets included).
        expected = answer(CORSMiddleware, case)
        built_config = encode(decode(case)["config"])
        cases.append({"case": case, "built_config": built_config, "expected": encode(expected)})

    draw()
    path.write_text(json.dumps({"starlette": env_checks.installed_starlette(), "cases": cases}))


def compare(path: Path, pin: str | None, against_recorded: bool) -> dict[str, Any]:
    import fastcors
    from fastcors import _loader

    recorded = json.loads(path.read_text())
    implementations = {"compiled": _loader.load_compiled(), "python": _loader.load_pure_python()}
    summary: dict[str, Any] = {"recorded_with": recorded["starlette"], "pin": pin, "fastcors": fastcors.__file__}
    for name, impl in implementations.items():
        default = impl.CORSMiddleware
        pinned = functools.partial(impl.CORSMiddleware, starlette_version=pin) if pin else default
        differ, first = 0, None
        for entry in recorded["cases"]:
            case = entry["case"]
            if encode(decode(case)["config"]) != entry["built_config"]:
                raise SystemExit("a recorded set iterates differently here: different interpreter or hash seed")
            if against_recorded:
                expected, actual = decode(entry["expected"]), answer(pinned, case)
            else:
                expected, actual = answer(default, case), answer(pinned, case)
            if actual != expected:
                differ += 1
                first = first or {"case": repr(decode(case)), "expected": repr(expected), "actual": repr(actual)}
        summary[name] = {"cases": len(recorded["cases"]), "differ": differ, "first": first}
    return summary


def main(argv: list[str]) -> int:
    _hash_seed_fixed()
    env_checks.check()
    command, path = argv[0], Path(argv[1])
    if command == "record":
        record(path, int(argv[2]))
        return 0
    pin = argv[2] if len(argv) > 2 else None
    summary = compare(path, pin, against_recorded=command == "replay")
    print(json.dumps(summary))
    return 0 if all(summary[name]["differ"] == 0 for name in ("compiled", "python")) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
