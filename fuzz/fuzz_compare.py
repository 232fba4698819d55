"""Run one case through an implementation and describe everything observable, as text.

Two implementations agree on a case when the descriptions are equal: the same exception
class (or none), the same messages sent downstream, the same scope the application saw,
and the same state of the caller's own objects afterwards.
"""

from __future__ import annotations

import re
from types import ModuleType, SimpleNamespace
from typing import Any

from fuzz_cases import Case

# Exceptions that mean a bug in C code (or in Cython's use of the C API), never bad input.
CRASH_CLASSES = ("SystemError", "MemoryError", "RecursionError")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def snapshot(obj: Any, depth: int = 0) -> str:
    """A faithful, address-free text for the values a middleware handles."""
    if depth > 8:
        return "..."
    kind = type(obj)
    name = kind.__name__
    if obj is None or kind in (bool, int, float, bytes, str):
        return repr(obj)
    if isinstance(obj, (bytes, str)):  # a subclass: keep the class visible
        return f"{name}({kind.__mro__[1](obj)!r})"
    if isinstance(obj, (bytearray, memoryview)):
        return f"{name}({bytes(obj)!r})"
    if isinstance(obj, dict):
        items = ", ".join(f"{snapshot(k, depth + 1)}: {snapshot(v, depth + 1)}" for k, v in obj.items())
        return f"{name}{{{items}}}"
    if isinstance(obj, (list, tuple)):
        return f"{name}[{', '.join(snapshot(item, depth + 1) for item in obj)}]"
    return f"<{name}>"


def starlette_module() -> Any:
    """Starlette's middleware, shaped like an implementation module."""
    from starlette.middleware.cors import CORSMiddleware

    return SimpleNamespace(CORSMiddleware=CORSMiddleware, COMPILED=False)


def run_case(module: ModuleType | Any, case: Case) -> dict[str, Any]:
    config, scope, messages = case.make()
    sent: list[str] = []
    seen: dict[str, str] = {}

    async def app(app_scope: Any, receive: Any, send: Any) -> None:
        seen["app_scope"] = snapshot(app_scope)
        for message in messages:
            await send(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(snapshot(message))  # at send time: later mutation must not hide

    middleware = module.CORSMiddleware(app, **config)
    error = None
    try:
        steps = middleware(scope, receive, send).__await__()
        steps.send(None)
        error = "suspended"  # nothing here ever waits
        steps.close()
    except StopIteration:
        pass
    except Exception as exc:
        error = type(exc).__name__
    outcome = {
        "error": error,
        "sent": sent,
        "app_scope": seen.get("app_scope"),
        "scope_after": snapshot(scope),
        "messages_after": snapshot(messages),
    }
    return {key: _ADDRESS.sub("0x?", value) if isinstance(value, str) else value for key, value in outcome.items()}


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    return [f"{key}:\n  {left[key]!r}\n  {right[key]!r}" for key in left if left[key] != right[key]]


def check_case(compiled: ModuleType, pure: ModuleType, case: Case) -> str | None:
    """None if both implementations agree and neither crashed; otherwise what went wrong."""
    a, b = run_case(compiled, case), run_case(pure, case)
    problems = []
    for label, outcome in (("compiled", a), ("python", b)):
        if outcome["error"] in CRASH_CLASSES or outcome["error"] == "suspended":
            problems.append(f"{label} raised {outcome['error']}")
    problems += differences(a, b)
    if not problems:
        return None
    return "compiled vs pure Python:\n" + "\n".join(problems) + f"\n-- case --\n{case}"
