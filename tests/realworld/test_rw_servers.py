"""fastcors handed straight to real ASGI servers (uvicorn, hypercorn, granian), each event loop.

`rw_served.bare:app` is the middleware object itself, so each server's ASGI 2/3 detection
looks at fastcors (reference section 2). Each server process runs one implementation,
selected with FASTCORS_NO_EXTENSIONS, and the app reports which one ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import httpx
import pytest

from .rw_expect import Target, each_check, served_target
from .rw_support import IMPLS, SERVERS

MATRIX = [(server, impl) for server in SERVERS for impl in IMPLS]


@pytest.fixture(scope="module", params=MATRIX, ids=[f"{server}-{impl}" for server, impl in MATRIX])
def bare_server(request: pytest.FixtureRequest) -> Iterator[Target]:
    server_name, impl = request.param
    with served_target(server_name, "rw_served.bare:app", impl) as target:
        yield target


@each_check
def test_bare_app_over_http(
    bare_server: Target, http: httpx.Client, check: Callable[[Target, httpx.Client], None]
) -> None:
    check(bare_server, http)


def test_servers_detect_asgi3(impl: ModuleType) -> None:
    """The servers' own detection, called directly: a precise message if the trap returns.

    (The HTTP tests above would only show it as failed requests.)
    """
    from hypercorn.utils import is_asgi
    from uvicorn.config import Config

    app = impl.CORSMiddleware(lambda scope, receive, send: None, allow_origins=["*"])
    config = Config(app=app)  # interface="auto", as on the command line
    config.load()
    assert config.interface == "asgi3"
    assert is_asgi(app), "hypercorn would treat fastcors as an ASGI 2 (WSGI-style) app"
