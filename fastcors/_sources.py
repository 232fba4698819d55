"""Settings shared by every worker and replica: a CORSHandle that follows a settings file.

A source holds one JSON object of CORSMiddleware keyword arguments. `start()` reads it once,
synchronously, so a worker serves its first request on the shared settings; then a daemon
thread follows it and hands each new version to `handle.reconfigure`, which validates it and
swaps it in. The request path is untouched. A version that is not JSON, names an unknown
argument or is refused keeps the configuration in force, is logged at ERROR once and shows
in `last_error`; a source that goes away keeps the last good configuration until it returns.
The Redis source (in _redis) shares all of this.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import json
import logging
import os
import stat
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastcors._errors import shown
from fastcors._handle import CORSHandle
from fastcors._settings import CORSSettings

logger = logging.getLogger("fastcors.sources")

# Larger documents are refused unread: a settings source is bounded like everything else.
MAX_DOCUMENT_BYTES = 1 << 20
# How long the thread waits before following a source again after an unexpected error.
RETRY_SECONDS = 1.0


class SettingsDocumentError(ValueError):
    """A settings document that is not a JSON object of CORSMiddleware arguments."""


# ------------------------------------------------------------------ the document


def _reader(accepts: Callable[[Any], bool], expected: str) -> Callable[[str, Any], Any]:
    """A check of one argument's JSON value: the value if `accepts` it, else the reason."""

    def read(name: str, value: Any) -> Any:
        if accepts(value):
            return value
        raise SettingsDocumentError(f"{name} must be {expected}, not {shown(json.dumps(value))}")

    return read


_strings = _reader(
    lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value), "a list of strings"
)
_boolean = _reader(lambda value: isinstance(value, bool), "true or false")
_integer = _reader(lambda value: isinstance(value, int) and not isinstance(value, bool), "an integer")
_string = _reader(lambda value: isinstance(value, str), "a string")
_optional_string = _reader(lambda value: value is None or isinstance(value, str), "a string or null")


def _paths(name: str, value: Any) -> dict[str, CORSSettings | None]:
    """Policies per path prefix: each an object of arguments (read as the document is), or null."""
    if not isinstance(value, dict):
        raise SettingsDocumentError(f"{name} must be an object of path prefixes, not {shown(json.dumps(value))}")
    return {prefix: _settings_object(f"{name}[{shown(prefix)}]", policy) for prefix, policy in value.items()}


def _settings_object(name: str, value: Any) -> CORSSettings | None:
    """A policy (a path's, the report-only candidate): an object of arguments (read as the
    document is), or null."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SettingsDocumentError(f"{name} must be an object of arguments or null, not {shown(json.dumps(value))}")
    return CORSSettings(**_read_arguments(value))


def _readers() -> dict[str, Callable[[str, Any], Any]]:
    """The arguments a document may hold, by the kind of their default; code (a callable) is left out."""
    readers: dict[str, Callable[[str, Any], Any]] = {}
    for field in dataclasses.fields(CORSSettings):
        default, annotation = field.default, str(field.type).replace(" ", "")
        if "Callable" in annotation:
            continue
        if annotation.startswith("Mapping[str,CORSSettings"):
            readers[field.name] = _paths
        elif annotation == "CORSSettings|None":
            readers[field.name] = _settings_object
        elif isinstance(default, bool):
            readers[field.name] = _boolean
        elif isinstance(default, int):
            readers[field.name] = _integer
        elif isinstance(default, str):
            readers[field.name] = _string
        elif isinstance(default, (tuple, list)):
            readers[field.name] = _strings
        elif default is None and annotation in ("str|None", "Optional[str]"):
            readers[field.name] = _optional_string
    return readers


READERS = _readers()


def parse_settings_document(data: bytes | str) -> dict[str, Any]:
    """The CORSMiddleware keyword arguments in a JSON document; SettingsDocumentError if it is not one."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SettingsDocumentError(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError is one
        raise SettingsDocumentError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SettingsDocumentError(
            f"the document must be a JSON object of CORSMiddleware arguments, not {type(document).__name__}"
        )
    return _read_arguments(document)


def _read_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """`arguments` checked one by one: names a document may hold, values of their kind."""
    read = {}
    for name, value in arguments.items():
        reader = READERS.get(name)
        if reader is None:
            raise SettingsDocumentError(_unreadable(name))
        read[name] = reader(name, value)
    return read


def _unreadable(name: str) -> str:
    fields = {field.name: str(field.type) for field in dataclasses.fields(CORSSettings)}
    if name in fields:
        why = " (it is code)" if "Callable" in fields[name] else ""
        return f"{name} cannot come from a settings source{why}: give it in the source's base settings"
    close = difflib.get_close_matches(name[:100], fields, n=1)
    return f"unknown argument {shown(name)}" + (f"; did you mean {close[0]!r}?" if close else "")


def settings_document(settings: CORSSettings | Mapping[str, Any]) -> bytes:
    """A document for `settings` (a CORSSettings: the arguments that differ from the defaults)."""
    arguments = _as_json(settings)
    _read_arguments(arguments)  # refuses what a source would refuse
    return json.dumps(arguments, indent=2, sort_keys=True).encode() + b"\n"


def _as_json(settings: CORSSettings | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(settings, CORSSettings):
        defaults = CORSSettings()
        settings = {name: value for name, value in vars(settings).items() if value != getattr(defaults, name)}
    arguments = {}
    for name, value in settings.items():
        if isinstance(value, (tuple, frozenset, set)):
            value = list(value)
        elif name == "paths" and isinstance(value, Mapping):
            value = {prefix: None if policy is None else _as_json(policy) for prefix, policy in value.items()}
        elif name == "report_only" and isinstance(value, CORSSettings):
            value = _as_json(value)
        arguments[name] = value
    return arguments


def version_of(data: bytes) -> str:
    """The name of a document's version: the start of its SHA-256, the same in every process."""
    return hashlib.sha256(data).hexdigest()[:12]


# ------------------------------------------------------------------ following a source

# Sources started in this process, restarted in a child after a fork (threads do not survive it).
_RUNNING: weakref.WeakSet[SettingsSource] = weakref.WeakSet()


class SettingsSource:
    """What every source shares: the first read, the thread, applying versions, the status.

    Status, for health checks and logs: `version` (of the settings in force from this source,
    None before the first good one), `applied_at` (time.time() when it was applied),
    `last_error` (why the latest read was not applied, None when it was).
    """

    def __init__(self, handle: CORSHandle, *, base: CORSSettings | None = None) -> None:
        if not isinstance(handle, CORSHandle):
            raise TypeError(f"a settings source follows a fastcors.CORSHandle, not {handle!r}")
        if base is not None and not isinstance(base, CORSSettings):
            raise TypeError(f"base must be a fastcors.CORSSettings, not {base!r}")
        self.handle = handle
        self.base = base
        self.version: str | None = None
        self.applied_at: float | None = None
        self.last_error: str | None = None
        self._last_read: tuple[str, str | None] | None = None  # (version, why it was refused)
        self._reachable = True
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"

    def describe(self) -> str:
        raise NotImplementedError

    # The source's own work: the first read (in start), then following it (in the thread).
    def _first_read(self) -> None:
        raise NotImplementedError

    def _follow(self, stopping: threading.Event) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release connections (the Redis source)."""

    # -------------------------------------------------------------- running

    def start(self) -> None:
        """Read the source now (so the settings are in force when this returns), then follow it.

        Never raises for what the source holds or for a source that is down: the settings in
        force stay and `last_error` says why. Call it in each worker process (e.g. at ASGI
        lifespan startup), not before a fork; a source started before a fork is restarted in
        the child.
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = threading.Event()  # this thread's own: a later start() makes another
        self._guarded(self._first_read)
        self._thread = threading.Thread(
            target=self._run, args=(self._stopping,), name=f"fastcors {self.describe()}", daemon=True
        )
        self._thread.start()
        _RUNNING.add(self)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following the source; the settings in force stay."""
        _RUNNING.discard(self)
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._close()

    def __enter__(self) -> SettingsSource:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """An ASGI lifespan (``FastAPI(lifespan=source.lifespan)``): start in the worker, stop at shutdown."""
        self.start()
        try:
            yield
        finally:
            self.stop()

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            self._guarded(self._follow, stopping)
            stopping.wait(RETRY_SECONDS)

    def _guarded(self, work: Callable[..., None], *arguments: Any) -> None:
        try:
            work(*arguments)
        except Exception:  # a bug here must not end the thread nor fail a worker's startup
            logger.exception("%s: unexpected error (the settings in force stay)", self.describe())

    def _restart_after_fork(self) -> None:
        self._thread = None  # it did not survive the fork; connections belong to the parent
        self._forget_connections()
        self.start()

    def _forget_connections(self) -> None:
        """Drop (without closing) connections inherited through a fork."""

    # -------------------------------------------------------------- versions

    def _offer(self, data: bytes) -> None:
        """Apply a document read from the source, unless it is the version read last time."""
        self._reached()
        version = version_of(data)
        if self._last_read is not None and self._last_read[0] == version:
            self.last_error = self._last_read[1]
            return
        try:
            self.handle.reconfigure(self.base, **parse_settings_document(data))
        except Exception as exc:  # whatever the source holds, the settings in force stay
            kept = f"version {self.version}" if self.version else "the settings in force"
            error = f"{self.describe()}: settings version {version} refused, keeping {kept}: {exc}"
            self._last_read = (version, error)
            self.last_error = error
            logger.error("%s", error)
            return
        self._last_read = (version, None)
        self.version, self.applied_at, self.last_error = version, time.time(), None
        logger.info("%s: settings version %s applied", self.describe(), version)

    def _unreachable(self, reason: str) -> None:
        """The source cannot be read: keep the settings in force; say so once."""
        kept = f"version {self.version}" if self.version else "the settings in force"
        self.last_error = f"{self.describe()}: {reason}; keeping {kept}"
        if self._reachable:
            self._reachable = False
            logger.warning("%s", self.last_error)

    def _reached(self) -> None:
        if not self._reachable:
            self._reachable = True
            logger.warning("%s: readable again", self.describe())


def _restart_sources_in_child() -> None:
    for source in list(_RUNNING):
        source._restart_after_fork()


os.register_at_fork(after_in_child=_restart_sources_in_child)


# ------------------------------------------------------------------ the file source


class FileSource(SettingsSource):
    """A CORSHandle following a JSON settings file, re-read within `interval` seconds of a change.

    The file's status is checked every `interval` seconds (through symlinks, so a Kubernetes
    ConfigMap volume, which swaps a ``..data`` symlink, is followed); it is read only when it
    changed. Replace the file atomically (write a new one, then rename it over the old one).
    """

    def __init__(
        self,
        handle: CORSHandle,
        path: str | os.PathLike[str],
        *,
        base: CORSSettings | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__(handle, base=base)
        if not interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, not {interval!r}")
        self.path = os.fspath(path)
        self.interval = interval
        self._seen: tuple[int, ...] | None = None  # the status of the file read last

    def describe(self) -> str:
        return f"settings file {self.path}"

    def _first_read(self) -> None:
        self._check()

    def _follow(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.interval):
            self._check()

    def _check(self) -> None:
        try:
            status = os.stat(self.path)
            seen = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
            if seen == self._seen:
                return
            if not stat.S_ISREG(status.st_mode):  # a directory or a pipe: never block on it
                raise OSError("not a regular file")
            with open(self.path, "rb") as file:
                data = file.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            self._seen = None
            self._unreachable(f"cannot read the file ({exc.strerror or exc})")
            return
        self._seen = seen
        self._offer(data)
