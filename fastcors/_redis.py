"""Settings shared through Redis: a key holding the JSON document, a channel announcing changes.

Needs redis-py (``pip install fastcors[redis]``), imported only when a Redis source or
`publish_settings` is used. A worker subscribes to the channel, then reads the key (so no change
falls between), applies the key again on each message, and re-reads it every `resync` seconds
in case a message was missed. When Redis goes away it keeps the settings in force and
reconnects every second; on reconnecting it reads the key again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from fastcors._handle import CORSHandle
from fastcors._settings import CORSSettings
from fastcors._sources import (
    MAX_DOCUMENT_BYTES,
    RETRY_SECONDS,
    SettingsSource,
    parse_settings_document,
    settings_document,
    version_of,
)

DEFAULT_KEY = "fastcors:settings"


def _redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError("the Redis settings source needs redis-py: pip install 'fastcors[redis]'") from exc
    return redis


def _client(url: str, timeout: float) -> Any:
    redis = _redis()
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries inside redis-py: the source decides when to reconnect, and never blocks long.
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def without_password(url: str) -> str:
    """`url` as it may appear in logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class RedisSource(SettingsSource):
    """A CORSHandle following the settings document under `key` in Redis.

    A change published on `channel` (by default the key's name) reaches the worker at once; the
    key is also re-read every `resync` seconds. `timeout` bounds every Redis call, including the
    first read in `start()` while Redis is down.
    """

    def __init__(
        self,
        handle: CORSHandle,
        url: str,
        *,
        key: str = DEFAULT_KEY,
        channel: str | None = None,
        base: CORSSettings | None = None,
        resync: float = 5.0,
        timeout: float = 2.0,
    ) -> None:
        super().__init__(handle, base=base)
        if not resync > 0 or not timeout > 0:
            raise ValueError(f"resync and timeout must be positive numbers of seconds, not {resync!r}, {timeout!r}")
        _client(url, timeout).close()  # a bad URL or no redis-py fails here, not in the thread (connects nothing)
        self.url, self.key, self.channel = url, key, channel or key
        self.resync, self.timeout = resync, timeout
        self._connection: Any = None  # (client, pubsub) while connected

    def describe(self) -> str:
        return f"Redis {without_password(self.url)} key {self.key!r}"

    def _first_read(self) -> None:
        self._try(self._connect_and_read)

    def _follow(self, stopping: threading.Event) -> None:
        next_read = time.monotonic() + self.resync
        while not stopping.is_set():
            if self._connection is None:
                if stopping.wait(RETRY_SECONDS):
                    return
                if not self._try(self._connect_and_read):
                    continue
                next_read = time.monotonic() + self.resync
            wait = min(1.0, max(0.0, next_read - time.monotonic()))  # wakes at least every second to see stop()
            due = self._try(self._changed, wait) or time.monotonic() >= next_read
            if due and self._try(self._read):
                next_read = time.monotonic() + self.resync

    def _try(self, step: Any, *arguments: Any) -> bool:
        """Run one Redis step; on a Redis error, disconnect and say so once. True if the step says so."""
        redis = _redis()
        try:
            return bool(step(*arguments))
        except (redis.RedisError, OSError) as exc:
            self._close()
            self._unreachable(f"Redis unavailable ({type(exc).__name__}: {exc})")
            return False

    def _connect_and_read(self) -> bool:
        client = _client(self.url, self.timeout)
        self._connection = (client, client.pubsub(ignore_subscribe_messages=True))
        self._connection[1].subscribe(self.channel)  # before reading: no change falls between
        return self._read()

    def _changed(self, wait: float) -> bool:
        """Whether a change was announced within `wait` seconds."""
        if self._connection is None:
            return False
        return self._connection[1].get_message(timeout=wait) is not None

    def _read(self) -> bool:
        if self._connection is None:
            return False
        data = self._connection[0].getrange(self.key, 0, MAX_DOCUMENT_BYTES)  # at most one byte too many
        if data:
            self._offer(data)
        else:
            self._unreachable("no settings under the key (publish some with: python -m fastcors publish)")
        return True

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            for part in reversed(connection):
                with contextlib.suppress(Exception):  # it is going away anyway
                    part.close()

    def _forget_connections(self) -> None:
        self._connection = None


class Published(NamedTuple):
    version: str  # what `source.version` shows in the workers once they applied it
    notified: int  # how many subscribers (workers) the channel reached


def publish_settings(
    url: str,
    settings: CORSSettings | Mapping[str, Any] | str | bytes,
    *,
    key: str = DEFAULT_KEY,
    channel: str | None = None,
    check: bool = True,
    timeout: float = 5.0,
) -> Published:
    """Store a settings document under `key` and announce it on `channel` (by default the key).

    `settings` is a CORSSettings, a mapping of CORSMiddleware arguments, or a JSON document.
    With `check`, the document is validated first, on its own (arguments it leaves out take
    their defaults): a refused one raises and nothing is published. Workers validate it again
    on top of their own base settings.
    """
    data = settings if isinstance(settings, (str, bytes)) else settings_document(settings)
    data = data.encode() if isinstance(data, str) else data
    if check:
        CORSHandle().reconfigure(**parse_settings_document(data))  # raises if refused
    with _client(url, timeout) as client, client.pipeline(transaction=True) as pipeline:
        pipeline.set(key, data)
        version = version_of(data)
        pipeline.publish(channel or key, version)
        _, notified = pipeline.execute()
    return Published(version, notified)
