"""The Redis settings source against a real redis-server (started by the tests), on both implementations.

The first read before `start()` returns, a change announced on the channel, a change missed
(caught by the periodic re-read), a bad version (kept out, logged once), Redis restarted,
Redis down at startup, `publish_settings` and `python -m fastcors publish`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sources_support import (
    CODE,
    A,
    B,
    RedisServer,
    allows,
    document,
    errors,
    eventually,
    followed,
    running_redis,
    warnings_about,
)

from bench.launch import free_port
from fastcors import CORSConfigError, CORSHandle, CORSSettings, RedisSource, publish_settings
from fastcors._redis import without_password
from fastcors._sources import settings_document, version_of

pytestmark = pytest.mark.slow  # starts redis-server processes


@pytest.fixture
def handle_and_middleware(impl: ModuleType) -> tuple[CORSHandle, Any]:
    return followed(impl)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    return f"fastcors-test:{request.node.name}"  # a key per test: the server is shared


def redis_source(handle: CORSHandle, server: RedisServer, key: str, **options: Any) -> RedisSource:
    return RedisSource(handle, server.url, key=key, **options)


def test_redis_start_reads_the_key_before_it_returns(
    handle_and_middleware: tuple[CORSHandle, Any], redis_server: RedisServer, key: str
) -> None:
    handle, middleware = handle_and_middleware
    published = publish_settings(redis_server.url, {"allow_origins": [A]}, key=key)
    with redis_source(handle, redis_server, key) as source:
        assert allows(middleware, A) and not allows(middleware, CODE)
        assert source.version == published.version and source.last_error is None


def test_redis_publish_reaches_the_source_at_once(
    handle_and_middleware: tuple[CORSHandle, Any], redis_server: RedisServer, key: str
) -> None:
    middleware = handle_and_middleware[1]
    with redis_source(handle_and_middleware[0], redis_server, key, resync=60) as source:  # only the channel
        assert "no settings under the key" in source.last_error and allows(middleware, CODE)
        published = publish_settings(redis_server.url, CORSSettings(allow_origins=[B]), key=key)
        assert published.notified == 1
        took = eventually(lambda: allows(middleware, B), "the published settings", timeout=2)
        assert source.version == published.version and took < 1


def test_redis_a_missed_message_is_caught_by_the_resync(
    handle_and_middleware: tuple[CORSHandle, Any], redis_server: RedisServer, key: str
) -> None:
    middleware = handle_and_middleware[1]
    with redis_source(handle_and_middleware[0], redis_server, key, resync=0.3):
        redis_server.client().set(key, document(allow_origins=[B]))  # no announcement
        eventually(lambda: allows(middleware, B), "the key re-read", timeout=3)


def test_redis_a_bad_version_keeps_the_settings_and_is_logged_once(
    handle_and_middleware: tuple[CORSHandle, Any], redis_server: RedisServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    handle, middleware = handle_and_middleware
    publish_settings(redis_server.url, {"allow_origins": [A]}, key=key)
    with redis_source(handle, redis_server, key, resync=0.1) as source:
        good = source.version
        bad = document(allow_origins=[B], allow_origin_patterns=["https://*example.com"])
        with pytest.raises(CORSConfigError):
            publish_settings(redis_server.url, bad, key=key)  # checked before anything is stored
        assert redis_server.client().get(key) == settings_document({"allow_origins": [A]})
        publish_settings(redis_server.url, bad, key=key, check=False)
        eventually(lambda: source.last_error is not None, "the bad version seen")
        time.sleep(1)  # ten re-reads
        assert len(errors(caplog, f"settings version {version_of(bad)} refused, keeping version {good}")) == 1
        assert source.version == good and allows(middleware, A) and not allows(middleware, B)


def test_redis_a_restart_keeps_the_settings_and_is_followed_after(
    handle_and_middleware: tuple[CORSHandle, Any], redis_server: RedisServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    middleware = handle_and_middleware[1]
    publish_settings(redis_server.url, {"allow_origins": [A]}, key=key)
    with redis_source(handle_and_middleware[0], redis_server, key) as source:
        redis_server.stop()
        eventually(lambda: source.last_error is not None, "Redis seen down")
        assert "Redis unavailable" in source.last_error and allows(middleware, A)
        time.sleep(2.5)  # several reconnection attempts: one warning
        assert len(warnings_about(caplog, "Redis unavailable")) == 1
        redis_server.start()  # empty, as Redis without persistence restarts
        eventually(lambda: "no settings under the key" in (source.last_error or ""), "Redis reached again", timeout=5)
        assert allows(middleware, A)
        publish_settings(redis_server.url, {"allow_origins": [B]}, key=key)
        eventually(lambda: allows(middleware, B) and source.last_error is None, "a change after the restart", timeout=3)


def test_redis_down_at_start_keeps_the_code_settings(handle_and_middleware: tuple[CORSHandle, Any]) -> None:
    handle, middleware = handle_and_middleware
    started = time.monotonic()
    with RedisSource(handle, f"redis://127.0.0.1:{free_port()}/0", timeout=0.5) as source:  # nothing listens
        assert time.monotonic() - started < 2
        assert "Redis unavailable" in source.last_error and allows(middleware, CODE)


def test_the_publish_command_line(redis_server: RedisServer, key: str, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(document(allow_origins=[A]))
    bad.write_bytes(document(allow_origins=[A], allow_origin=[B]))
    command = [sys.executable, "-m", "fastcors", "publish", "--redis", redis_server.url, "--key", key]
    done = subprocess.run([*command, str(good)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"version {version_of(good.read_bytes())}" in done.stdout
    refused = subprocess.run([*command, "-"], input=bad.read_text(), capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and "did you mean 'allow_origins'" in refused.stderr
    assert redis_server.client().get(key) == good.read_bytes()


def test_the_password_stays_out_of_the_logs() -> None:
    assert without_password("redis://user:s3cret@cache:6379/0") == "redis://user:***@cache:6379/0"
    assert without_password("redis://cache:6379/0") == "redis://cache:6379/0"


@pytest.mark.parametrize(
    ("url", "options"),
    [("http://cache:6379", {}), ("redis://cache:6379/0", {"resync": 0}), ("redis://cache:6379/0", {"timeout": -1})],
)
def test_redis_source_arguments_are_checked(url: str, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RedisSource(CORSHandle(), url, **options)
