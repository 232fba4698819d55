# What type checkers see of fastcors._core, compiled or not. A stub is needed because _core
# is decorated through Cython's pure-Python mode, whose `cython` module is untyped (Any) to
# mypy, which would make the constructor Any. tests/test_typing.py holds every signature
# here to the running module's, so the stub cannot drift from it.
from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from fastcors._config import Config
from fastcors._handle import CORSHandle
from fastcors._settings import CORSSettings

COMPILED: bool
CACHE_ENTRIES: int
CACHE_KEY_BYTES: int

class Policy: ...

class Middleware:
    """The ASGI entry point; CORSMiddleware below adds Starlette's constructor."""

    app: Any
    @property
    def policy(self) -> Policy: ...
    def __init__(self, app: Any, policy: Policy) -> None: ...
    @property
    def config(self) -> Config: ...
    @property
    def settings(self) -> CORSSettings: ...
    def __call__(self, scope: Any, receive: Any, send: Any) -> Any: ...

class CORSMiddleware(Middleware):
    """Drop-in replacement for ``starlette.middleware.cors.CORSMiddleware``."""

    def __init__(
        self,
        app: Any,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
        *,
        allow_origin_patterns: Collection[str] = (),
        allow_origin_func: Callable[[str], bool] | None = None,
        websocket_origin_guard: bool = False,
        starlette_version: str = "installed",
        handle: CORSHandle | None = None,
        strict: bool = False,
        debug: bool = False,
    ) -> None: ...
    def reconfigure(self, base: CORSSettings | None = None, /, **arguments: Any) -> None: ...
