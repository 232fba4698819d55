"""The per-request work: scan the request headers once, ask the rules, splice.

One source serves both implementations: Cython compiles this file (pure-Python mode, the
annotations give C types) and, where it is not compiled, Python runs it as it is. Every
decision that depends only on the configuration was made in ``_config``; each question a
request asks has one owner: the rules of _rules (origins, methods, requested headers, paths)
and, here, Preflight (the answer to a preflight), SimpleAnswers with ReadySuffixes,
HeaderMerge and SendWithCORS (the headers of any other response), WebSocketGuard, and
ReportOnly (the report-only candidate's comparison). RequestCounts counts what they answer,
and the observer of refusals (see _events) hears of what they refuse. Middleware.__call__
only dispatches to them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

# `_COMPILED` is `cython.compiled` under a name the loader turns into the constant False for
# the uncompiled twin (see _loader): its few tests cost that twin nothing per request.
if TYPE_CHECKING:  # type checkers see the shim's plain decorators and type names, not Any
    from fastcors import _cython_shim as cython
    from fastcors._cython_shim import compiled as _COMPILED
    from fastcors._rules import HeaderRule, MethodRule, OriginRule, PathPolicies
else:
    try:
        import cython
        from cython import compiled as _COMPILED
    except ImportError:  # pure-Python install without Cython: the decorators are no-ops
        from fastcors import _cython_shim as cython
        from fastcors._cython_shim import compiled as _COMPILED
    if cython.compiled:  # the rules called as C (see _rules.pxd)
        from cython.cimports.fastcors._capi import PyMethod_New
        from cython.cimports.fastcors._rules import HeaderRule, MethodRule, OriginRule, PathPolicies
    else:  # the same source run as plain Python, which the loader has done first (see _loader)
        from fastcors._rules_py import HeaderRule, MethodRule, OriginRule, PathPolicies

from fastcors._config import (
    ANY_ORIGIN,
    COUNT_SLOTS,
    HEADERS_FAILURE,
    METHOD_FAILURE,
    ORIGIN_FAILURE,
    PLAIN_TEXT,
    PREFLIGHT_COUNT_SLOTS,
    PRIVATE_NETWORK_FAILURE,
    RESPONSE_NAME_INITIALS,
    RESPONSE_NAMES,
    UNLISTED_ORIGIN,
    VARY_ORIGIN,
    WEBSOCKET_FAILURE,
    Config,
    count_slot,
)
from fastcors._counting import register_counts
from fastcors._events import CORSEvent, Watch
from fastcors._handle import CORSHandle
from fastcors._report import CORSReport
from fastcors._settings import CORSSettings, new_settings, prepare

COMPILED: bool = cython.compiled

# C-level constants when compiled, so comparisons with them are typed comparisons.
_ORIGIN = cython.declare(bytes, b"origin")
_REQUEST_METHOD = cython.declare(bytes, b"access-control-request-method")
_REQUEST_HEADERS = cython.declare(bytes, b"access-control-request-headers")
_REQUEST_PRIVATE_NETWORK = cython.declare(bytes, b"access-control-request-private-network")
_ALLOW_ORIGIN = cython.declare(bytes, b"access-control-allow-origin")
_ALLOW_HEADERS = cython.declare(bytes, b"access-control-allow-headers")
_ALLOW_PRIVATE_NETWORK = cython.declare(tuple, (b"access-control-allow-private-network", b"true"))
_CONTENT_TYPE = cython.declare(tuple, PLAIN_TEXT)
_COOKIE = cython.declare(bytes, b"cookie")
_RESPONSE_NAMES = cython.declare(frozenset, RESPONSE_NAMES)  # the names a simple response's step sets
_NAME_INITIALS = cython.declare(bytes, RESPONSE_NAME_INITIALS)
_VARY_ORIGIN = cython.declare(tuple, VARY_ORIGIN)  # merged into the app's `vary`
_HTTP = cython.declare(str, "http")
_OPTIONS = cython.declare(str, "OPTIONS")
_RESPONSE_START = cython.declare(str, "http.response.start")
_WEBSOCKET_DENIAL_EXTENSION = "websocket.http.response"
_UNSET = cython.declare(object, object())  # "absent": a header's value may be anything, None too
_ANY_ORIGIN = cython.declare(object, ANY_ORIGIN)  # (see _config)
_UNLISTED_ORIGIN = cython.declare(object, UNLISTED_ORIGIN)
# The failure bits (see _config), as C constants.
_ORIGIN_FAILURE = cython.declare(cython.int, ORIGIN_FAILURE)
_METHOD_FAILURE = cython.declare(cython.int, METHOD_FAILURE)
_HEADERS_FAILURE = cython.declare(cython.int, HEADERS_FAILURE)
_PRIVATE_NETWORK_FAILURE = cython.declare(cython.int, PRIVATE_NETWORK_FAILURE)
_WEBSOCKET_FAILURE = cython.declare(cython.int, WEBSOCKET_FAILURE)
# The counting slots (see _config), as C constants.
_NO_ORIGIN_SLOT = cython.declare(cython.int, count_slot("none", "none"))
_PREFLIGHT_ALLOWED_SLOT = cython.declare(cython.int, count_slot("preflight", "none"))
_PREFLIGHT_SLOTS = cython.declare(bytes, PREFLIGHT_COUNT_SLOTS)  # by failure bits
_SIMPLE_ALLOWED_SLOT = cython.declare(cython.int, count_slot("simple", "none"))
_SIMPLE_DENIED_SLOT = cython.declare(cython.int, count_slot("simple", "origin"))
_WEBSOCKET_ALLOWED_SLOT = cython.declare(cython.int, count_slot("websocket", "none"))
_WEBSOCKET_DENIED_SLOT = cython.declare(cython.int, count_slot("websocket", "origin"))


@cython.cfunc
def _as_bytes(value: object) -> bytes:
    # Starlette decodes header values as latin-1 (an AttributeError for a str value) and
    # encodes them again when it writes them: the same bytes, and the same errors.
    if type(value) is bytes:
        return value
    result = value.decode("latin-1").encode("latin-1")
    if type(result) is not bytes:  # only an odd bytes subclass gets here
        raise TypeError(f"header value {value!r} does not encode to bytes")
    return result


@cython.cfunc
@cython.inline
def _same_str(value: object, constant: str) -> cython.bint:
    """value == constant, the lengths compared first (Cython's `==` on str calls
    PyObject_RichCompare at once). The uncompiled twin runs `value == constant` (see _loader)."""
    if value is constant:
        return True
    if type(value) is not str:
        return value == constant
    text: str = value
    return len(text) == len(constant) and text == constant


# ---- Counting ---------------------------------------------------------------------------------
@cython.final
@cython.cclass
class RequestCounts:
    """How many requests this implementation answered, by kind and verdict (a slot each, see
    _config), in every middleware of the process; read by fastcors._counting."""

    cells: cython.ulonglong[20]  # COUNT_SLOTS (checked below); compiled, zeroed with the object
    lock: object  # the uncompiled twin's (compiled: a critical section, nothing with the GIL)

    def __init__(self) -> None:
        if not _COMPILED:
            self.cells = [0] * COUNT_SLOTS
            self.lock = threading.Lock()

    @cython.cfunc
    @cython.inline
    def add(self, slot: cython.int) -> cython.void:
        if _COMPILED:
            with cython.critical_section(self):
                self.cells[slot] += 1
        else:
            with self.lock:
                self.cells[slot] += 1

    def forked(self) -> None:
        if not _COMPILED:
            self.lock = threading.Lock()  # a thread of the parent's may have held it at the fork

    def snapshot(self) -> tuple:
        """Every slot's count."""
        if _COMPILED:
            copy: cython.ulonglong[20]
            with cython.critical_section(self):
                copy = self.cells
            return tuple([copy[slot] for slot in range(COUNT_SLOTS)])
        else:
            with self.lock:
                return tuple(self.cells)


assert COUNT_SLOTS == 20, "RequestCounts.cells is declared with 20 slots"
_COUNTS = cython.declare(RequestCounts, RequestCounts())
_counting = cython.declare(cython.bint, False)  # tested before each count: off, a flag test is all


def _count_requests(enabled: bool) -> None:
    global _counting
    _counting = enabled


register_counts(_count_requests, _COUNTS.snapshot)
os.register_at_fork(after_in_child=_COUNTS.forked)


# ---- Preflight answers -----------------------------------------------------------------------
async def _send_preflight_answer(send: Any, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@cython.final
@cython.cclass
class Preflight:
    """The answer to a preflight request: the rules' verdicts, the headers ready in _config."""

    origins: OriginRule
    methods: MethodRule
    headers = cython.declare(HeaderRule, visibility="readonly")
    allow_all_headers: cython.bint  # requested headers are mirrored, never refused
    explicit_origin: cython.bint  # whether an allowed origin is named (else `*` was sent)
    check_private_network: cython.bint  # whether ...-Request-Private-Network is looked at
    allow_private_network: cython.bint
    headers_before: list  # what every answer starts with (copied, never changed)
    answers: tuple  # (status, body, content-length header), by failure bits
    denied: object  # None, or the observer of refused requests (see _events)

    def __init__(
        self, config: Config, origins: OriginRule, methods: MethodRule, headers: HeaderRule, denied: object
    ) -> None:
        self.origins = origins
        self.methods = methods
        self.headers = headers
        self.allow_all_headers = config.allow_all_headers
        self.explicit_origin = config.preflight_explicit_origin
        self.check_private_network = config.check_private_network
        self.allow_private_network = config.allow_private_network
        self.headers_before = list(config.preflight_headers)
        self.answers = config.preflight_answers
        self.denied = denied

    @cython.cfunc
    def answer(
        self, send: object, origin: bytes, method: bytes, requested: object, private_network: object, scope: object
    ) -> object:
        """An awaitable that sends the answer to this preflight. (`scope` last: it is read only
        on a refusal, and the seventh argument is the one the C compiler passes on the stack.)"""
        verdict = self.origins.answers_for(origin)
        # The requested headers' verdict once decided (1 allowed, 0 refused): the general answer
        # below reuses the one the ready answer's test may have reached.
        headers_verdict: cython.int = -1
        if verdict is not None and verdict is not _ANY_ORIGIN and verdict is not _UNLISTED_ORIGIN:
            ready: tuple = verdict
            ready_headers: list = ready[1]
            if (
                (private_network is None or not self.check_private_network)
                and (
                    requested is None
                    or (not self.allow_all_headers and (headers_verdict := self.headers.allows(requested)))
                )
                and self.methods.allows(method)
            ):
                # An exact origin asking for nothing refused: its answer is ready (a fresh list,
                # as the server may change what it is sent).
                if _counting:
                    _COUNTS.add(_PREFLIGHT_ALLOWED_SLOT)
                return _send_preflight_answer(send, 200, ready_headers[:], b"OK")
        headers: list = self.headers_before[:]
        failures: cython.int = 0
        if verdict is None:
            failures |= _ORIGIN_FAILURE
        elif self.explicit_origin:
            headers.append((_ALLOW_ORIGIN, origin))
        if not self.methods.allows(method):
            failures |= _METHOD_FAILURE
        if requested is not None:
            if self.allow_all_headers:
                headers.append((_ALLOW_HEADERS, requested))
            elif headers_verdict == 0 or (headers_verdict < 0 and not self.headers.allows(requested)):
                failures |= _HEADERS_FAILURE
        if private_network is not None and self.check_private_network:
            if self.allow_private_network:
                headers.append(_ALLOW_PRIVATE_NETWORK)
            else:
                failures |= _PRIVATE_NETWORK_FAILURE
        if _counting:
            _COUNTS.add(_PREFLIGHT_SLOTS[failures])
        if failures and self.denied is not None:
            self.denied(scope, origin, method, requested, private_network, failures)
        status, body, content_length = self.answers[failures]
        headers.append(content_length)
        headers.append(_CONTENT_TYPE)
        return _send_preflight_answer(send, status, headers, body)

    @cython.cfunc
    def refusals(self, origin: bytes, method: bytes, requested: object, private_network: object) -> cython.int:
        """The failure bits `answer` would find (for the report-only comparison: no answer built)."""
        failures: cython.int = 0
        if self.origins.answers_for(origin) is None:
            failures |= _ORIGIN_FAILURE
        if not self.methods.allows(method):
            failures |= _METHOD_FAILURE
        if requested is not None and not self.allow_all_headers and not self.headers.allows(requested):
            failures |= _HEADERS_FAILURE
        if private_network is not None and self.check_private_network and not self.allow_private_network:
            failures |= _PRIVATE_NETWORK_FAILURE
        return failures


# ---- Simple responses (every request that is not a preflight) --------------------------------
@cython.final
@cython.cclass
class ReadySuffixes:
    """A response's CORS headers ready in _config, appended to the app's in one concatenation
    when it set none of them (the common case)."""

    without_origin: list  # the suffix for a request without an Origin
    not_named: list  # the suffix of an answer that does not name the origin
    named: list  # the suffix naming an origin not known in advance, None at `named_at`
    named_at: cython.Py_ssize_t

    def __init__(self, config: Config) -> None:
        self.without_origin = config.suffix_without_origin
        self.not_named = config.suffix_not_named
        self.named = config.named_suffix
        self.named_at = config.named_suffix_at


@cython.final
@cython.cclass
class HeaderMerge:
    """A response's CORS headers where the app set one of them: set and merged (see _set_headers)."""

    unnamed: tuple  # the CORS headers of an answer to an Origin that does not name it
    around_origin: tuple  # (before, after): the same, split where a named origin goes
    vary_joins_every_value: cython.bint  # the merge joins every `vary` of the app's, else the first

    def __init__(self, config: Config) -> None:
        self.unnamed = config.simple_headers
        self.around_origin = (config.simple_before_origin, config.simple_after_origin)
        self.vary_joins_every_value = config.vary_joins_every_value

    @cython.cfunc
    def headers(self, app_headers: object, origin: object, named: cython.bint, merge_vary: cython.bint) -> list:
        """A new list: the app's headers with this answer's set, and `vary` merged if `merge_vary`."""
        if named:
            before, after = self.around_origin
            return _set_headers(app_headers, (*before, (_ALLOW_ORIGIN, origin), *after), self, True)
        return _set_headers(app_headers, self.unnamed if origin is not None else (), self, merge_vary)


@cython.final
@cython.cclass
class SimpleAnswers:
    """A response's CORS headers, to a request that is not a preflight: which, then how."""

    origins: OriginRule
    suffixes: ReadySuffixes
    merge: HeaderMerge
    reflect_any_origin: cython.bint  # `*` with credentials (from 1.0): every origin named
    reflect_origin_on_cookie: cython.bint  # `*` before 1.0: the origin named when a cookie came
    vary_on_every_response: cython.bint  # else requests without an Origin pass through untouched
    allow_credentials: cython.bint  # whether an answer naming the origin lets credentials through
    denied: object

    def __init__(
        self, config: Config, origins: OriginRule, suffixes: ReadySuffixes, merge: HeaderMerge, denied: object
    ) -> None:
        self.origins = origins
        self.suffixes = suffixes
        self.merge = merge
        self.reflect_any_origin = config.reflect_any_origin
        self.reflect_origin_on_cookie = config.reflect_origin_on_cookie
        self.vary_on_every_response = config.vary_on_every_response
        self.allow_credentials = config.allow_credentials
        self.denied = denied

    @cython.cfunc
    def access(self, origin: bytes, cookie: cython.bint) -> cython.int:
        """What the answer lets the page do (for the report-only comparison): 0 nothing, 1 read
        the response, 2 read it with credentials. As SendWithCORS.forward decides."""
        if not (self.reflect_any_origin or (self.reflect_origin_on_cookie and cookie)):
            verdict = self.origins.answers_for(origin)
            if verdict is None:
                return 0
            if verdict is _ANY_ORIGIN:
                return 1  # `*`: never with credentials
        return 2 if self.allow_credentials else 1


@cython.cfunc
@cython.inline
def _respond(
    answers: SimpleAnswers, app: object, scope: object, receive: object, send: object, headers: list
) -> object:
    """The app's answer to a request that is not a preflight, its headers completed by
    SendWithCORS.forward."""
    origin = _UNSET
    for name, value in headers:  # the first Origin, where Starlette stops reading
        if name == _ORIGIN:
            origin = value
            break
    if origin is _UNSET:
        if not answers.vary_on_every_response:
            if _counting:
                _COUNTS.add(_NO_ORIGIN_SLOT)
            return app(scope, receive, send)  # untouched, as Starlette before 1.7
        origin = None
    elif type(origin) is not bytes:  # (tested first: spares the uncompiled twin a call)
        origin = _as_bytes(origin)
    wrapped: SendWithCORS = SendWithCORS.__new__(SendWithCORS)
    wrapped.send = send
    wrapped.scope = scope
    wrapped.answers = answers
    wrapped.origin = origin
    if answers.reflect_origin_on_cookie:
        wrapped.cookie = False
        for name, _value in headers:
            if name == _COOKIE:
                wrapped.cookie = True
                break
    # A bound method: compiled, it takes the arguments by vectorcall (an instance's __call__
    # would get them packed in a new tuple, twice a request), and uncompiled it is quicker too.
    # (Compiled, bound from the function itself: an attribute lookup costs ~110 instructions.)
    return app(scope, receive, PyMethod_New(_FORWARD, wrapped) if _COMPILED else wrapped.forward)


@cython.cfunc
@cython.inline
def _splice(answers: SimpleAnswers, app_headers: object, origin: object, named: cython.bint, suffix: object) -> list:
    """A new list: the app's headers and this answer's, the origin named if `named`;
    `suffix` the ready suffix, or None where the origin is named but not known in advance.
    (Never the app's list changed: apps reuse header lists across responses.)"""
    if type(app_headers) is list:
        listed: list = app_headers
        appending: cython.bint = True
        for item in listed:
            # A header this step replaces or merges (or anything odd): the general path. (The
            # casts follow the type tests: compiled, they spare a test and a reference each.)
            if type(item) is not tuple or len(cython.cast(tuple, item)) != 2:
                appending = False
                break
            name = cython.cast(tuple, item)[0]
            if type(name) is not bytes:
                appending = False
                break
            # (The first byte rules most names out, without hashing them.)
            if cython.cast(bytes, name) and cython.cast(bytes, name)[0] in _NAME_INITIALS and name in _RESPONSE_NAMES:
                appending = False
                break
        if appending:
            if suffix is not None:
                ready: list = suffix
                return listed + ready
            suffixes: ReadySuffixes = answers.suffixes
            headers: list = listed + suffixes.named
            headers[len(listed) + suffixes.named_at] = (_ALLOW_ORIGIN, origin)
            return headers
    return answers.merge.headers(app_headers, origin, named, answers.vary_on_every_response)


@cython.cfunc
def _set_headers(app_headers: object, to_set: tuple, merge: HeaderMerge, merge_vary: cython.bint) -> list:
    """A new list: the app's headers with `to_set` set and, if `merge_vary`, the answer's vary
    header merged into `vary`.

    "Set" and "merge" have the meaning of Starlette's MutableHeaders: the first header of a
    name is replaced in place, later ones are dropped, a missing one is appended; names are
    compared as exact bytes. The merge joins the first `vary` value, or all of them, with
    the answer's, as the generation in force does.
    """
    vary_name: bytes = _VARY_ORIGIN[0]
    out: list = []
    count: cython.Py_ssize_t = len(to_set)
    seen: cython.uint = 0  # a bit per header of `to_set`: at most 32 (_config sets at most four)
    vary_values: list = None
    vary_at: cython.Py_ssize_t = -1
    j: cython.Py_ssize_t
    for item in app_headers:
        name, value = item
        if merge_vary and name == vary_name:
            if vary_at < 0:
                vary_at = len(out)
                out.append(None)
                vary_values = [_as_bytes(value)]
            elif merge.vary_joins_every_value:
                vary_values.append(_as_bytes(value))
            continue
        for j in range(count):
            pair: tuple = to_set[j]
            if name == pair[0]:
                if not seen & (1 << j):
                    seen |= 1 << j
                    out.append(pair)
                break
        else:
            out.append(item)
    for j in range(count):
        if not seen & (1 << j):
            out.append(to_set[j])
    if not merge_vary:
        return out
    if vary_at < 0:
        out.append(_VARY_ORIGIN)
    else:
        vary_values.append(_VARY_ORIGIN[1])
        out[vary_at] = (vary_name, b", ".join(vary_values))
    return out


@cython.final
@cython.freelist(32)  # a plain static array, so Cython leaves it out of free-threaded builds
@cython.cclass
class SendWithCORS:
    """The `send` the application gets for a request that is not a preflight (as a bound
    method). One per request, never shared between threads: its fields need no protection."""

    __slots__ = ("answers", "cookie", "origin", "scope", "send")  # for the uncompiled twin: no per-request dict
    send: object  # the server's
    scope: object  # the request's, which an observer of refusals is told
    answers: SimpleAnswers
    origin: object  # bytes, or None when the request had no Origin
    cookie: cython.bint  # whether the request had a cookie; set only where the answers ask

    def forward(self, message: Any) -> Any:
        if not _same_str(message["type"], _RESPONSE_START):
            return self.send(message)
        answers: SimpleAnswers = self.answers
        origin = self.origin
        # Whether the origin is named: always for `*` with credentials, never for a plain `*`,
        # else when it is allowed (the one denial of this path); and the ready suffix, if any.
        named: cython.bint = False
        refused: cython.bint = False
        suffix: list = None
        if origin is None:
            suffix = answers.suffixes.without_origin
        elif answers.reflect_any_origin or (answers.reflect_origin_on_cookie and self.cookie):
            named = True
        else:
            verdict = answers.origins.answers_for(origin)
            if verdict is None or verdict is _ANY_ORIGIN:
                suffix = answers.suffixes.not_named
                if verdict is None:
                    refused = True
                    if answers.denied is not None:
                        answers.denied(self.scope, origin, None, None, None, _ORIGIN_FAILURE)
            else:
                named = True
                if verdict is not _UNLISTED_ORIGIN:
                    ready: tuple = verdict
                    suffix = ready[0]
        if _counting:
            _COUNTS.add(_NO_ORIGIN_SLOT if origin is None else _SIMPLE_DENIED_SLOT if refused else _SIMPLE_ALLOWED_SLOT)
        # (Starlette's message.setdefault("headers", []), without the method call.)
        try:
            app_headers = message["headers"]
        except KeyError:
            app_headers = ()
        message["headers"] = _splice(answers, app_headers, origin, named, suffix)
        return self.send(message)


_FORWARD = cython.declare(object, SendWithCORS.forward)  # the function, bound per request by _respond


# ---- WebSocket handshakes --------------------------------------------------------------------
@cython.final
@cython.cclass
class WebSocketGuard:
    """A WebSocket handshake from an origin the policy refuses is refused (HTTP 403)."""

    origins: OriginRule
    denial: tuple  # status, headers, body
    denied: object

    def __init__(self, config: Config, origins: OriginRule, denied: object) -> None:
        self.origins = origins
        self.denial = config.websocket_denial
        self.denied = denied

    @cython.cfunc
    def guard(self, app: object, scope: object, receive: object, send: object) -> object:
        """The app's handshake if the Origin is absent or allowed, else a refusal."""
        origin = _UNSET
        for name, value in scope["headers"]:
            if name == _ORIGIN:
                origin = value
                break
        if origin is _UNSET:
            if _counting:
                _COUNTS.add(_NO_ORIGIN_SLOT)
            return app(scope, receive, send)
        origin_bytes: bytes = _as_bytes(origin)
        if self.origins.answers_for(origin_bytes) is not None:
            if _counting:
                _COUNTS.add(_WEBSOCKET_ALLOWED_SLOT)
            return app(scope, receive, send)
        if _counting:
            _COUNTS.add(_WEBSOCKET_DENIED_SLOT)
        if self.denied is not None:
            self.denied(scope, origin_bytes, None, None, None, _ORIGIN_FAILURE | _WEBSOCKET_FAILURE)
        extensions = scope.get("extensions")
        denial_response: cython.bint = type(extensions) is dict and _WEBSOCKET_DENIAL_EXTENSION in extensions
        return _refuse_websocket(receive, send, denial_response, self.denial)


async def _refuse_websocket(receive: Any, send: Any, denial_response: bool, answer: tuple) -> None:
    # Answer the handshake without accepting it: an HTTP 403 either way (ASGI spec).
    message = await receive()
    if message["type"] != "websocket.connect":  # the client is gone already
        return
    if denial_response:
        status, headers, body = answer
        await send({"type": "websocket.http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})  # 1008: policy violation


# ---- Report-only -------------------------------------------------------------------------------
@cython.final
@cython.cclass
class ReportOnly:
    """The report-only candidate beside the policy in force: each request's two verdicts,
    compared here; the report log (see _report) is told where they differ. Never an answer."""

    candidate: Policy
    log = cython.declare(object, visibility="readonly")  # the ReportLog of these settings

    def __init__(self, config: Config, log: object) -> None:
        self.candidate = Policy(config.report_only)
        self.log = log

    @cython.cfunc
    def compare(self, policy: Policy, scope: object) -> cython.void:
        try:
            self._compare(policy, scope)
        except Exception:  # odd header values, say: the request is answered as without it
            self.log.comparison_failed()

    @cython.cfunc
    def _compare(self, policy: Policy, scope: object) -> cython.void:
        in_force = _path_policy(policy, scope)
        theirs = _path_policy(self.candidate, scope)
        if in_force is None or theirs is None:  # no CORS handling there, on one side
            return
        ours: Policy = in_force
        candidate: Policy = theirs
        origin = method = requested = private_network = None
        cookie: cython.bint = False
        for name, value in scope["headers"]:  # the first occurrences, as Starlette reads them
            if name == _ORIGIN:
                origin = _as_bytes(value) if origin is None else origin
            elif name == _REQUEST_METHOD:
                method = _as_bytes(value) if method is None else method
            elif name == _REQUEST_HEADERS:
                requested = _as_bytes(value) if requested is None else requested
            elif name == _REQUEST_PRIVATE_NETWORK:
                private_network = _as_bytes(value) if private_network is None else private_network
            elif name == _COOKIE:
                cookie = True
        if origin is None:
            return
        kind = scope["type"]
        if kind == "http" and method is not None and scope["method"] == "OPTIONS":
            now: cython.int = ours.preflight.refusals(origin, method, requested, private_network)
            then: cython.int = candidate.preflight.refusals(origin, method, requested, private_network)
            if (now == 0) != (then == 0):
                change, failures = ("would_deny", then) if then else ("would_allow", now)
                self.log.tell("preflight", change, failures, scope, origin, method, requested)
        elif kind == "http":
            access: cython.int = ours.simple.access(origin, cookie)
            candidate_access: cython.int = candidate.simple.access(origin, cookie)
            if access != candidate_access:
                change = "would_deny" if candidate_access < access else "would_allow"
                failures = _ORIGIN_FAILURE if min(access, candidate_access) == 0 else 0  # else credentials
                self.log.tell("simple", change, failures, scope, origin, None, None)
        elif kind == "websocket":
            allowed: cython.bint = ours.websocket is None or ours.origins.answers_for(origin) is not None
            candidate_allows: cython.bint = (
                candidate.websocket is None or candidate.origins.answers_for(origin) is not None
            )
            if allowed != candidate_allows:
                change = "would_allow" if candidate_allows else "would_deny"
                self.log.tell("websocket", change, _ORIGIN_FAILURE | _WEBSOCKET_FAILURE, scope, origin, None, None)


# ---- The policy of one configuration, and the dispatcher -------------------------------------
@cython.cfunc
def _odd_preflight_header(name: object) -> cython.int:
    """Which of the four names `name` is (as _preflight numbers them) where it is not exact
    bytes (a bytes subclass may equal one), compared as Starlette compares it: 0 to 3, or -1."""
    if name == _ORIGIN:
        return 0
    if name == _REQUEST_METHOD:
        return 1
    if name == _REQUEST_HEADERS:
        return 2
    return 3 if name == _REQUEST_PRIVATE_NETWORK else -1


@cython.final
@cython.cclass
class Policy:
    """One configuration's owners of the decisions, built once from its Config."""

    config = cython.declare(object, visibility="readonly")
    settings = cython.declare(object, visibility="readonly")  # the CORSSettings it was prepared from
    origins = cython.declare(OriginRule, visibility="readonly")
    paths: PathPolicies  # or None without `paths`
    report = cython.declare(ReportOnly, visibility="readonly")  # or None without `report_only`
    routed: cython.bint  # whether either is set: one test per request for both (see _route)
    preflight = cython.declare(Preflight, visibility="readonly")
    simple: SimpleAnswers
    websocket: WebSocketGuard  # or None when the guard is off

    def __init__(self, config: Config, watch: Watch | None = None, settings: Any = None) -> None:
        self.config = config
        self.settings = settings
        denied = None if watch is None else watch.observer(config)
        self.origins = OriginRule(config)
        self.paths = None
        if config.paths:
            policies = tuple(None if path is None else Policy(path, watch) for _, path in config.paths)
            self.paths = PathPolicies(config, policies)
        self.preflight = Preflight(config, self.origins, MethodRule(config), HeaderRule(config), denied)
        self.simple = SimpleAnswers(config, self.origins, ReadySuffixes(config), HeaderMerge(config), denied)
        self.websocket = WebSocketGuard(config, self.origins, denied) if config.websocket_guard else None
        self.report = None
        if config.report_only is not None:
            self.report = ReportOnly(config, watch.report)
        self.routed = self.paths is not None or self.report is not None


@cython.cfunc
def _route(policy: Policy, scope: object) -> object:
    """What is done before a policy answers: the report-only comparison, and the choice of the
    policy of the request's path; that policy, or None for no CORS handling."""
    if policy.report is not None:
        policy.report.compare(policy, scope)
    return _path_policy(policy, scope)


@cython.cfunc
@cython.inline
def _path_policy(policy: Policy, scope: object) -> object:
    """The policy of the request's path (`policy` itself without `paths`), or None for no CORS handling."""
    return policy if policy.paths is None else policy.paths.policy_for(scope, policy)


@cython.cfunc
@cython.inline
def _preflight(policy: Policy, scope: object, send: object, method: object, headers: list) -> object:
    """The answer to a request that may be a preflight (an OPTIONS, or a method that is not
    a str, compared where Starlette compares it), or None if it is not one: its four headers
    read in one pass."""
    origin = request_method = requested = private_network = _UNSET  # first occurrences win
    which: cython.int
    for name, value in headers:
        if type(name) is bytes:
            # One length test picks the only name it could be, compared as the bytes it is.
            size: cython.Py_ssize_t = len(cython.cast(bytes, name))
            if size == 6 and cython.cast(bytes, name) == _ORIGIN:
                which = 0
            elif size == 29 and cython.cast(bytes, name) == _REQUEST_METHOD:
                which = 1
            elif size == 30 and cython.cast(bytes, name) == _REQUEST_HEADERS:
                which = 2
            elif size == 38 and cython.cast(bytes, name) == _REQUEST_PRIVATE_NETWORK:
                which = 3
            else:
                continue
        else:
            which = _odd_preflight_header(name)
        if which == 0:
            if origin is _UNSET:
                origin = value
        elif which == 1:
            if request_method is _UNSET:
                request_method = value
        elif which == 2:
            if requested is _UNSET:
                requested = value
        elif which == 3 and private_network is _UNSET:
            private_network = value
    if origin is _UNSET or request_method is _UNSET:
        return None
    # Converted in Starlette's order (its errors for odd values come in that order).
    # (Testing for bytes first spares the uncompiled twin a call in the usual case.)
    origin_bytes: bytes = origin if type(origin) is bytes else _as_bytes(origin)
    if type(method) is not str and method != "OPTIONS":
        return None
    if type(request_method) is not bytes:
        request_method = _as_bytes(request_method)
    if requested is _UNSET:
        requested = None
    elif type(requested) is not bytes:
        requested = _as_bytes(requested)
    if private_network is _UNSET:
        private_network = None
    elif type(private_network) is not bytes:
        private_network = _as_bytes(private_network)
    return policy.preflight.answer(send, origin_bytes, request_method, requested, private_network, scope)


@cython.cclass
class Middleware:
    """The ASGI entry point; CORSMiddleware below adds Starlette's constructor."""

    # Wrappers re-point `.app`, as with Starlette's, when they build the stack (not while
    # requests run: on a free-threaded build that would race as a policy swap would, see _install).
    app = cython.declare(object, visibility="public")
    policy = cython.declare(Policy, visibility="readonly")

    def __init__(self, app: Any, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    @property
    def config(self) -> Config:
        """The precomputed configuration in use."""
        return self.policy.config

    @property
    def settings(self) -> CORSSettings:
        """The arguments in force."""
        return self.policy.settings

    def _install(self, settings: CORSSettings, config: Config, watch: Watch | None) -> None:
        # One reference swap: a request reads `policy` once, so it finishes under the
        # configuration it started with, whichever thread reconfigures.
        policy = Policy(config, watch, settings)
        if _COMPILED:
            # Compiled, `policy` is a C field: reading it is a load and an incref, and a swap
            # drops the old policy's reference. On a free-threaded build a request could load
            # the old pointer, the swap free the policy, and the incref touch freed memory; a
            # critical section on the middleware around both makes them exclusive. (With the
            # GIL it compiles to nothing. Uncompiled, attribute access is the interpreter's,
            # which is safe on its own.)
            with cython.critical_section(self):
                self.policy = policy
        else:
            self.policy = policy

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        # A plain def returning an awaitable: no coroutine frame of our own per request.
        policy: Policy  # one policy for the whole request
        if _COMPILED:
            with cython.critical_section(self):  # see _install
                policy = self.policy
        else:
            policy = self.policy
        if policy.routed:
            selected = _route(policy, scope)
            if selected is None:  # no CORS handling under this prefix
                return self.app(scope, receive, send)
            policy = selected
        if not _same_str(scope["type"], _HTTP):
            if policy.websocket is not None and scope["type"] == "websocket":
                return policy.websocket.guard(self.app, scope, receive, send)
            return self.app(scope, receive, send)
        method = scope["method"]
        raw_headers = scope["headers"]
        headers: list
        if type(raw_headers) is list:
            # Starlette's Headers(scope=...) stores list(scope["headers"]) so the app always
            # sees a list; a list is kept as it is (equal contents, one copy less).
            headers = raw_headers
        else:
            headers = list(raw_headers)
            scope["headers"] = headers
        # An exact str compares without side effects, so whether this may be a preflight is
        # known before the scan; anything else is compared where Starlette compares it.
        if type(method) is not str or _same_str(method, _OPTIONS):
            preflight = _preflight(policy, scope, send, method, headers)
            if preflight is not None:
                return preflight
        return _respond(policy.simple, self.app, scope, receive, send, headers)


class CORSMiddleware(Middleware):
    """Drop-in replacement for ``starlette.middleware.cors.CORSMiddleware``.

    Same arguments, same defaults, the same messages sent for every request. The
    keyword-only arguments are fastcors' own; left out, nothing differs from Starlette.
    """

    @cython.annotation_typing(False)  # hints for users; the values are taken as Starlette takes them
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
        paths: Mapping[str, CORSSettings | None] | None = None,
        handle: CORSHandle | None = None,
        strict: bool = False,
        debug: bool = False,
        on_denied: Callable[[CORSEvent], None] | None = None,
        log_denials: bool = False,
        report_only: CORSSettings | None = None,
        on_report: Callable[[CORSReport], None] | None = None,
    ) -> None:
        # The parameters above are CORSSettings' fields (a test holds them so), `app` and `handle` aside.
        settings = CORSSettings.from_arguments(locals())
        config, watch = prepare(settings)  # raises where Starlette's constructor raises
        Middleware.__init__(self, app, Policy(config, watch, settings))
        if handle is not None:
            if not isinstance(handle, CORSHandle):
                raise TypeError(f"handle must be a fastcors.CORSHandle, not {handle!r}")
            handle._attach(self)  # takes the handle's settings if it was reconfigured already
        # ASGI servers choose ASGI 3 over ASGI 2 by asking whether `app.__call__` is a
        # coroutine function. Calls go through Middleware's C-level slot (no coroutine of
        # our own per request); this attribute gives the servers a truthful answer: an
        # async function that does exactly what the call does.
        self.__call__ = self._call_async

    def reconfigure(self, base: CORSSettings | None = None, /, **arguments: Any) -> None:
        """Replace the configuration; requests in flight finish under the one they started with.

        Takes the constructor's keyword arguments (not `app` or `handle`); any left out take
        their defaults, as in the constructor, or their values in `base` when given
        (``middleware.reconfigure(middleware.settings, allow_origins=[...])`` changes only the
        origins). If the new configuration is refused, the exception propagates and the old
        one stays in force.
        """
        settings = new_settings(base, arguments)
        config, watch = prepare(settings)
        self._install(settings, config, watch)

    def would_deny_origins(self) -> list[tuple[str, int]]:
        """With `report_only`: the origins the candidate would newly refuse, with how often,
        most frequent first (at most 256, see the docs); else an empty list."""
        report = self.policy.report
        return [] if report is None else report.log.would_deny_origins()

    async def _call_async(self, scope: Any, receive: Any, send: Any) -> None:
        await Middleware.__call__(self, scope, receive, send)
