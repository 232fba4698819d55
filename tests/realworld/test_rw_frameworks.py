"""fastcors inside FastAPI, Starlette and Litestar (not Starlette-based), and wrapping them.

Each app is served by a real server process and called over HTTP. The matrix is lean:
every server and every framework appears with the middleware both inside the framework
and wrapping it from outside, each with both implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from asgi_harness import require_modules

from .rw_expect import Target, each_check, served_target
from .rw_support import IMPLS

# (framework module, app attribute, server, packages the app needs)
APPS = [
    ("fw_fastapi", "inside", "uvicorn", ("fastapi",)),
    ("fw_fastapi", "wrapped", "hypercorn-trio", ("fastapi",)),
    ("fw_starlette", "inside", "hypercorn-asyncio", ("starlette",)),
    ("fw_starlette", "wrapped", "granian", ("starlette",)),
    ("fw_litestar", "inside", "granian", ("litestar",)),
    ("fw_litestar", "wrapped", "uvicorn", ("litestar",)),
]
MATRIX = [(*app, impl) for app in APPS for impl in IMPLS]


@pytest.fixture(
    scope="module",
    params=MATRIX,
    ids=[f"{module.removeprefix('fw_')}-{attr}-{server}-{impl}" for module, attr, server, _, impl in MATRIX],
)
def framework_server(request: pytest.FixtureRequest) -> Iterator[Target]:
    module, attr, server_name, packages, impl = request.param
    require_modules(*packages)
    with served_target(server_name, f"rw_served.{module}:{attr}", impl) as target:
        yield target


@each_check
def test_framework_over_http(
    framework_server: Target, http: httpx.Client, check: Callable[[Target, httpx.Client], None]
) -> None:
    check(framework_server, http)
