"""Settings sources: a CORSHandle following a JSON file or a Redis key (in this process).

The documents (what a source may hold), then the file source and the Redis source on both
implementations: the first read before `start()` returns, changes, bad versions (kept out,
logged once, visible), a source that goes away and returns, a Kubernetes ConfigMap symlink
swap, a fork, the ASGI lifespan. The Redis source: test_sources_redis.py; several worker
processes: tests/realworld/test_rw_sources.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sources_support import (
    CODE,
    A,
    B,
    C,
    allowed,
    allows,
    configmap,
    document,
    errors,
    eventually,
    followed,
    ok_app,
    warnings_about,
    write,
)
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fastcors import (
    CORSHandle,
    CORSSettings,
    FileSource,
    SettingsDocumentError,
)
from fastcors._sources import MAX_DOCUMENT_BYTES, READERS, parse_settings_document, settings_document, version_of

INTERVAL = 0.05  # the file sources' poll interval in these tests


@pytest.fixture
def handle_and_middleware(impl: ModuleType) -> tuple[CORSHandle, Any]:
    return followed(impl)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "cors.json"
    write(path, document(allow_origins=[A]))
    return path


@pytest.fixture
def file_source(handle_and_middleware: tuple[CORSHandle, Any], settings_file: Path) -> Iterator[FileSource]:
    source = FileSource(handle_and_middleware[0], settings_file, interval=INTERVAL)
    yield source
    source.stop()


# ---------------------------------------------------------------------------- documents

BAD_DOCUMENTS = {
    "truncated JSON": (b'{"allow_origins": [', "not JSON"),
    "not UTF-8": (b'{"allow_origins": ["\xff"]}', "not JSON"),
    "a list": (b'["https://a.example"]', "must be a JSON object"),
    "unknown argument": (document(allow_origin=[A]), "unknown argument 'allow_origin'; did you mean 'allow_origins'?"),
    "code": (document(allow_origin_func=None), "allow_origin_func cannot come from a settings source"),
    "a string for a list": (document(allow_origins=A), "allow_origins must be a list of strings"),
    "a number in a list": (document(allow_methods=["GET", 1]), "allow_methods must be a list of strings"),
    "a number for a flag": (document(allow_credentials=1), "allow_credentials must be true or false"),
    "a flag for a number": (document(max_age=True), "max_age must be an integer"),
    "a fraction": (document(max_age=1.5), "max_age must be an integer"),
    "a list for a regex": (document(allow_origin_regex=[A]), "allow_origin_regex must be a string or null"),
    "null for a string": (document(starlette_version=None), "starlette_version must be a string"),
    "too large": (b" " * MAX_DOCUMENT_BYTES + b"{}", "larger than"),
    "paths not an object": (document(paths=["/public"]), "paths must be an object of path prefixes"),
    "a path's policy a list": (document(paths={"/public": [A]}), "paths['/public'] must be an object of arguments"),
    "a path's unknown argument": (document(paths={"/public": {"allow_origin": [A]}}), "unknown argument"),
    "a path's code": (document(paths={"/p": {"allow_origin_func": None}}), "allow_origin_func cannot come"),
}


@pytest.mark.parametrize(("data", "message"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS)
def test_a_bad_document_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(SettingsDocumentError) as caught:
        parse_settings_document(data)
    assert message in str(caught.value)


def test_the_reason_is_bounded_whatever_the_document() -> None:
    with pytest.raises(SettingsDocumentError) as caught:
        parse_settings_document(document(**{"x" * 100_000: 1}))
    assert len(str(caught.value)) < 300
    with pytest.raises(SettingsDocumentError) as caught:
        parse_settings_document(document(allow_origins=["y" * 100_000, 5]))
    assert len(str(caught.value)) < 300


def test_every_argument_but_code_can_come_from_a_document() -> None:
    # Guards the document format against a new CORSSettings field it would not know.
    code = {"allow_origin_func", "on_denied", "on_report"}
    assert set(READERS) == {field.name for field in dataclasses.fields(CORSSettings)} - code


def test_a_settings_document_round_trips() -> None:
    settings = CORSSettings(
        allow_origins=[A], allow_methods=["GET", "PUT"], allow_headers=["x-a"], allow_credentials=True,
        allow_origin_regex=r"https://.*\.b\.example", allow_private_network=True, expose_headers=["x-b"],
        max_age=5, allow_origin_patterns=["https://*.c.example"], websocket_origin_guard=True,
        starlette_version="newest", strict=True, debug=True,
        paths={"/public": CORSSettings(allow_origins=["*"], max_age=1), "/internal": None},
    )  # fmt: skip
    assert CORSSettings(**parse_settings_document(settings_document(settings))) == settings
    assert parse_settings_document(settings_document(CORSSettings(max_age=7))) == {"max_age": 7}  # defaults left out
    assert parse_settings_document(settings_document({"allow_origins": (A,)})) == {"allow_origins": [A]}


def test_code_cannot_be_written_into_a_document() -> None:
    with pytest.raises(SettingsDocumentError, match="allow_origin_func cannot come from a settings source"):
        settings_document(CORSSettings(allow_origin_func=lambda origin: True))
    with pytest.raises(SettingsDocumentError, match="unknown argument"):
        settings_document({"allow_origin": [A]})


# ---------------------------------------------------------------------------- the file source


def test_start_applies_the_file_before_it_returns(
    handle_and_middleware: tuple[CORSHandle, Any], file_source: FileSource, settings_file: Path
) -> None:
    handle, middleware = handle_and_middleware
    assert allows(middleware, CODE) and file_source.version is None
    file_source.start()
    assert allows(middleware, A) and not allows(middleware, CODE)
    assert handle.settings == CORSSettings(allow_origins=[A])  # arguments left out take their defaults
    assert file_source.version == version_of(settings_file.read_bytes())
    assert file_source.last_error is None and file_source.applied_at is not None


def test_a_change_is_applied_within_the_interval(
    handle_and_middleware: tuple[CORSHandle, Any], file_source: FileSource, settings_file: Path
) -> None:
    middleware = handle_and_middleware[1]
    file_source.start()
    write(settings_file, document(allow_origins=[B], allow_credentials=True))
    eventually(lambda: allows(middleware, B), "the new origin allowed", timeout=20 * INTERVAL + 1)
    assert not allows(middleware, A)
    assert handle_and_middleware[0].settings.allow_credentials is True


REFUSED = {
    "bad JSON": b'{"allow_origins": ["https://b.example"',
    "unknown argument": document(allow_origins=[B], allow_origin=[B]),
    "refused by the middleware": document(allow_origins=[B], allow_origin_patterns=["https://*example.com"]),
    "refused under strict": document(allow_origins=[B + "/"], strict=True),
    "a path policy refused": document(allow_origins=[B], paths={"public": {"allow_origins": ["*"]}}),
}


@pytest.mark.parametrize("bad", REFUSED.values(), ids=REFUSED)
def test_a_bad_version_keeps_the_settings_and_is_logged_once(
    handle_and_middleware: tuple[CORSHandle, Any],
    file_source: FileSource,
    settings_file: Path,
    caplog: pytest.LogCaptureFixture,
    bad: bytes,
) -> None:
    handle, middleware = handle_and_middleware
    file_source.start()
    good, settings = file_source.version, handle.settings
    write(settings_file, bad)
    eventually(lambda: file_source.last_error is not None, "the bad version seen")
    time.sleep(10 * INTERVAL)  # many polls: still one log line
    assert len(errors(caplog, f"settings version {version_of(bad)} refused, keeping version {good}")) == 1
    assert version_of(bad) in file_source.last_error
    assert file_source.version == good and handle.settings is settings
    assert allows(middleware, A) and not allows(middleware, B)
    write(settings_file, document(allow_origins=[B]))  # a good version again
    # (The source records what it applied just after the swap: both awaited.)
    eventually(lambda: allows(middleware, B) and file_source.last_error is None, "the next good version applied")
    assert file_source.version != good


def test_policies_per_path_come_from_the_file(
    handle_and_middleware: tuple[CORSHandle, Any], file_source: FileSource, settings_file: Path
) -> None:
    middleware = handle_and_middleware[1]
    write(settings_file, document(allow_origins=[A], paths={"/public": {"allow_origins": ["*"]}, "/internal": None}))
    file_source.start()
    assert allows(middleware, A) and not allows(middleware, B)
    assert allowed(middleware, B, "/public/x") == "*"
    assert allowed(middleware, A, "/internal/x") is None  # no CORS handling there
    write(settings_file, document(allow_origins=[A]))
    eventually(lambda: allows(middleware, A, "/internal/x"), "the path policies dropped")


def test_a_deleted_file_keeps_the_settings_until_it_returns(
    handle_and_middleware: tuple[CORSHandle, Any],
    file_source: FileSource,
    settings_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    middleware = handle_and_middleware[1]
    file_source.start()
    good, applied_at = file_source.version, file_source.applied_at
    content = settings_file.read_bytes()
    settings_file.unlink()
    eventually(lambda: file_source.last_error is not None, "the file's absence seen")
    time.sleep(10 * INTERVAL)
    assert "cannot read the file" in file_source.last_error and f"keeping version {good}" in file_source.last_error
    assert len(warnings_about(caplog, "cannot read the file")) == 1
    assert allows(middleware, A)
    write(settings_file, content)  # the same version returns: nothing to apply again
    eventually(lambda: file_source.last_error is None, "the file seen again")
    assert file_source.version == good and file_source.applied_at == applied_at
    assert warnings_about(caplog, "readable again")
    write(settings_file, document(allow_origins=[B]))
    eventually(lambda: allows(middleware, B), "a change after the file returned")


def test_a_missing_file_at_start_keeps_the_code_settings(
    handle_and_middleware: tuple[CORSHandle, Any], tmp_path: Path
) -> None:
    handle, middleware = handle_and_middleware
    path = tmp_path / "later.json"
    with FileSource(handle, path, interval=INTERVAL) as source:  # never raises for the source
        assert source.version is None and "cannot read the file" in source.last_error
        assert allows(middleware, CODE) and handle.settings is None
        write(path, document(allow_origins=[A]))
        eventually(lambda: allows(middleware, A) and source.last_error is None, "the file, once created")


def test_a_pipe_or_a_directory_is_not_read(handle_and_middleware: tuple[CORSHandle, Any], tmp_path: Path) -> None:
    handle, middleware = handle_and_middleware
    os.mkfifo(tmp_path / "pipe")
    for path in (tmp_path / "pipe", tmp_path):  # opening the pipe would block until a writer came
        with FileSource(handle, path, interval=INTERVAL) as source:
            assert "not a regular file" in source.last_error and allows(middleware, CODE)


def test_a_kubernetes_configmap_update_is_followed(
    handle_and_middleware: tuple[CORSHandle, Any], tmp_path: Path
) -> None:
    handle, middleware = handle_and_middleware
    configmap(tmp_path, "cors.json", document(allow_origins=[A]), "..2026_11_26_00_00_00.000000001")
    with FileSource(handle, tmp_path / "cors.json", interval=INTERVAL) as source:
        assert allows(middleware, A)
        first = source.version
        configmap(tmp_path, "cors.json", document(allow_origins=[B]), "..2026_11_26_00_01_00.000000002")
        eventually(lambda: allows(middleware, B) and source.last_error is None, "the swapped ConfigMap applied")
        assert source.version != first


def test_base_settings_hold_what_the_document_leaves_out(impl: ModuleType, settings_file: Path) -> None:
    handle = CORSHandle()
    middleware = impl.CORSMiddleware(ok_app, handle=handle)
    base = CORSSettings(allow_origin_func=lambda origin: origin == C, allow_credentials=True)
    with FileSource(handle, settings_file, base=base, interval=INTERVAL):
        assert handle.settings == dataclasses.replace(base, allow_origins=[A])
        assert allows(middleware, A) and allows(middleware, C) and not allows(middleware, B)


async def lifespan_then_requests(app: Any, requests: Callable[[httpx.AsyncClient], Any]) -> None:
    """Run `app`'s lifespan startup, then `requests`, then its shutdown, as a server does."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, to_app.get, from_app.put)
    )
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await requests(client)
    await to_app.put({"type": "lifespan.shutdown"})
    assert (await from_app.get())["type"] == "lifespan.shutdown.complete"
    await lifespan


def test_the_lifespan_applies_the_file_before_the_first_request(impl: ModuleType, settings_file: Path) -> None:
    handle = CORSHandle()
    source = FileSource(handle, settings_file, interval=INTERVAL)
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))], lifespan=source.lifespan)
    app.add_middleware(impl.CORSMiddleware, allow_origins=[CODE], handle=handle)

    async def requests(client: httpx.AsyncClient) -> None:
        assert (await client.get("/", headers={"origin": A})).headers["access-control-allow-origin"] == A
        write(settings_file, document(allow_origins=[B]))
        for _ in range(500):
            if (await client.get("/", headers={"origin": B})).headers.get("access-control-allow-origin") == B:
                return
            await asyncio.sleep(0.01)
        pytest.fail("the change was not applied while serving")

    asyncio.run(lifespan_then_requests(app, requests))
    assert source._thread is None  # stopped at shutdown


def test_start_and_stop(handle_and_middleware: tuple[CORSHandle, Any], file_source: FileSource) -> None:
    file_source.start()
    thread = file_source._thread
    file_source.start()  # already following: nothing more
    assert file_source._thread is thread and thread.is_alive() and thread.daemon
    file_source.stop()
    assert not thread.is_alive()
    file_source.start()  # again
    assert file_source._thread.is_alive()


def test_a_source_started_before_a_fork_follows_in_the_child(
    handle_and_middleware: tuple[CORSHandle, Any], file_source: FileSource, settings_file: Path
) -> None:
    middleware = handle_and_middleware[1]
    file_source.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running, as a preloading server does
        child = os.fork()
    if child == 0:  # the child: exit 0 once it applied the parent's later change
        code = 1
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not allows(middleware, B):
                time.sleep(0.01)
            code = 0 if allows(middleware, B) else 1
        finally:
            os._exit(code)
    time.sleep(0.2)
    write(settings_file, document(allow_origins=[B]))
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"handle": object(), "path": "x"}, TypeError),
        ({"handle": CORSHandle(), "path": "x", "base": {"allow_origins": [A]}}, TypeError),
        ({"handle": CORSHandle(), "path": "x", "interval": 0}, ValueError),
    ],
)
def test_file_source_arguments_are_checked(arguments: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        FileSource(**arguments)
