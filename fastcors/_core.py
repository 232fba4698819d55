"""The per-request work: scan the request headers once, look up, splice.

One source serves both implementations: Cython compiles this file (pure-Python mode, the
annotations give C types) and, where it is not compiled, Python runs it as it is. Every
decision that depends only on the configuration was made in ``_config``.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

# The request path tests _COMPILED: uncompiled, one global costs less than cython.compiled
# (a global and an attribute) on every request; compiled, both are the constant True.
if TYPE_CHECKING:  # type checkers see the shim's plain decorators and type names, not Any
    from fastcors import _cython_shim as cython
    from fastcors._cython_shim import compiled as _COMPILED
else:
    try:
        import cython
        from cython import compiled as _COMPILED
    except ImportError:  # pure-Python install without Cython: the decorators are no-ops
        from fastcors import _cython_shim as cython
        from fastcors._cython_shim import compiled as _COMPILED
if cython.compiled:  # for the requested-headers scan, which reads bytes in place
    from cython.cimports.libc.string import memcmp, memcpy

from fastcors._config import (
    HEADERS_FAILURE,
    METHOD_FAILURE,
    ORIGIN_FAILURE,
    PLAIN_TEXT,
    PRIVATE_NETWORK_FAILURE,
    RESPONSE_NAME_INITIALS,
    WEBSOCKET_FAILURE,
    Config,
    HeaderNames,
)
from fastcors._debug import denial_explainer
from fastcors._errors import logger, shown
from fastcors._handle import CORSHandle
from fastcors._patterns import LABEL_ALPHABET, OriginPattern
from fastcors._routing import PATH_AS_GIVEN, ROOT_PATH_AT_BOUNDARY, regex_route_path
from fastcors._settings import CORSSettings, new_settings, prepare

COMPILED: bool = cython.compiled

# C-level constants when compiled, so comparisons with them are typed bytes comparisons.
_ORIGIN = cython.declare(bytes, b"origin")
_REQUEST_METHOD = cython.declare(bytes, b"access-control-request-method")
_REQUEST_HEADERS = cython.declare(bytes, b"access-control-request-headers")
_REQUEST_PRIVATE_NETWORK = cython.declare(bytes, b"access-control-request-private-network")
_ALLOW_ORIGIN = cython.declare(bytes, b"access-control-allow-origin")
_ALLOW_HEADERS = cython.declare(bytes, b"access-control-allow-headers")
_ALLOW_PRIVATE_NETWORK = cython.declare(tuple, (b"access-control-allow-private-network", b"true"))
_CONTENT_TYPE = cython.declare(tuple, PLAIN_TEXT)
_COOKIE = cython.declare(bytes, b"cookie")
_NAME_INITIALS = cython.declare(bytes, RESPONSE_NAME_INITIALS)
_UNSET = cython.declare(object, object())
# The failure bits (see _config), as C constants.
_ORIGIN_FAILURE = cython.declare(cython.int, ORIGIN_FAILURE)
_METHOD_FAILURE = cython.declare(cython.int, METHOD_FAILURE)
_HEADERS_FAILURE = cython.declare(cython.int, HEADERS_FAILURE)
_PRIVATE_NETWORK_FAILURE = cython.declare(cython.int, PRIVATE_NETWORK_FAILURE)
_WEBSOCKET_FAILURE = cython.declare(cython.int, WEBSOCKET_FAILURE)
# What may stand in a host label before a pattern's `.example.com`, besides the dots.
_LABEL_BYTES = cython.declare(bytes, (LABEL_ALPHABET + ".").encode("ascii"))
_WEBSOCKET_DENIAL_EXTENSION = "websocket.http.response"
# The ASGI strings compared on every request (compiled: length first, see _same_str).
_HTTP = cython.declare(str, "http")
_RESPONSE_START = cython.declare(str, "http.response.start")
_OPTIONS = cython.declare(str, "OPTIONS")
# The memos of verdicts: the regex's per origin, the header test's per requested list. Request
# headers are attacker-controlled: a memo holds at most MEMO_SLOTS keys, each of at most
# MEMO_KEY_BYTES, so it can neither grow nor hoard large values.
MEMO_SLOTS = 1024  # a power of two
MEMO_KEY_BYTES = 256
_MEMO_SLOTS = cython.declare(cython.Py_ssize_t, MEMO_SLOTS)
_MEMO_KEY_BYTES = cython.declare(cython.Py_ssize_t, MEMO_KEY_BYTES)
# Compiled, a memo is a list: allowed keys in its first half, refused keys in its second, each
# half in pairs of slots that a key's hash picks (see _recall).
_MEMO_HALF = cython.declare(cython.Py_ssize_t, MEMO_SLOTS // 2)
# A 64-bit hash shifted right by this: a slot of a half (its top bits, see _memo_slot).
_MEMO_SHIFT = cython.declare(cython.int, 64 - (MEMO_SLOTS // 2 - 1).bit_length())
_MEMO_SEED = cython.declare(cython.ulonglong, int.from_bytes(os.urandom(8), "little"))
_MEMO_MULTIPLIER = cython.declare(cython.ulonglong, 0x9E3779B97F4A7C15)  # odd: 2**64 / the golden ratio
# Whether this interpreter has a GIL (a free-threaded build has none, whether or not it
# turns one on at run time).
_WITH_GIL = cython.declare(cython.bint, not sysconfig.get_config_var("Py_GIL_DISABLED"))


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


def new_memo() -> Any:
    """An empty memo: compiled, a list of MEMO_SLOTS keys or None (see _recall); else a dict."""
    return [None] * MEMO_SLOTS if _COMPILED else {}


@cython.cfunc
@cython.inline
@cython.boundscheck(False)
@cython.wraparound(False)
def _memo_slot(key: bytes) -> cython.Py_ssize_t:
    """Where `key` stands in a compiled memo: the first of its pair of slots in the allowed half
    (its pair in the refused half is _MEMO_HALF further on), or -1 if too long to remember."""
    size: cython.Py_ssize_t = len(key)
    if size > _MEMO_KEY_BYTES:
        return -1
    # A multiplicative hash seeded at start, whose top bits depend on every byte: about 4
    # instructions a byte, where hash() (SipHash) costs 8 a byte of the new bytes object each
    # request brings. A memo needs spread, not resistance: colliding keys only displace each
    # other's verdicts, and never slow a lookup.
    data: cython.p_const_uchar = key
    h: cython.ulonglong = _MEMO_SEED
    i: cython.Py_ssize_t
    for i in range(size):
        h = (h ^ data[i]) * _MEMO_MULTIPLIER  # (unsigned: wraps around)
    return cython.cast(cython.Py_ssize_t, h >> _MEMO_SHIFT) & ~1


# (_recall and _remember index with bounds checks on: unchecked, Cython reads a list's item as
# a borrowed reference, which another thread's store could free on a free-threaded build.)
@cython.cfunc
@cython.inline
def _recall(memo: list, slot: cython.Py_ssize_t, key: bytes) -> object:
    """The verdict remembered for `key` at `slot` (_memo_slot's), True or False, or None.

    A lookup compares four keys at most and a store replaces one slot: a compiled memo costs
    the same whatever arrives, with nothing to allocate, grow, evict or clear. A key stands in
    the half of its verdict, so threads sharing a memo, even without a GIL, may lose a verdict
    but never read a wrong one, and refused keys, however many, never displace allowed ones.
    (Uncompiled, a dict's get() takes fewer bytecodes; it starts over when full.)
    """
    if slot < 0:
        return None
    stored = memo[slot]
    if stored is not None:  # (a pair fills from its first slot)
        if cython.cast(bytes, stored) == key:
            return True
        stored = memo[slot + 1]
        if stored is not None and cython.cast(bytes, stored) == key:
            return True
    stored = memo[slot + _MEMO_HALF]
    if stored is not None:
        if cython.cast(bytes, stored) == key:
            return False
        stored = memo[slot + _MEMO_HALF + 1]
        if stored is not None and cython.cast(bytes, stored) == key:
            return False
    return None


@cython.cfunc
def _remember(memo: list, slot: cython.Py_ssize_t, key: bytes, verdict: cython.bint) -> None:
    """Remember `key`'s verdict at `slot` (_memo_slot's) of a compiled memo."""
    if slot < 0:
        return
    if not verdict:
        slot += _MEMO_HALF
    # The newest key first, the one it displaces second: two keys sharing a pair, as hot
    # keys now and then do, both stay.
    memo[slot + 1] = memo[slot]
    memo[slot] = key


def _remember_in_dict(memo: dict, key: bytes, verdict: cython.bint) -> None:
    """Remember `key`'s verdict in an uncompiled memo."""
    if len(key) > _MEMO_KEY_BYTES:
        return
    # A full dict starts over: no eviction walking past deleted slots, no iteration that
    # threads could disturb (len, clear and the store are each atomic).
    if len(memo) >= _MEMO_SLOTS:
        memo.clear()
    memo[key] = bool(verdict)


@cython.cfunc
@cython.inline
def _same_str(value: object, constant: str) -> cython.bint:
    """value == constant, length first (compiled only: Cython's `==` goes straight to PyUnicode_Compare)."""
    if value is constant:
        return True
    if type(value) is str and len(cython.cast(str, value)) != len(constant):
        return False
    return value == constant


@cython.cfunc
@cython.inline
def _preflight_header(name: object) -> cython.int:
    """0 for origin, 1 access-control-request-method, 2 ...-headers, 3 ...-private-network, else -1."""
    if type(name) is bytes:
        # (Compared as the bytes they are: no type test per comparison.)
        size: cython.Py_ssize_t = len(cython.cast(bytes, name))
        if size == 6:
            return 0 if cython.cast(bytes, name) == _ORIGIN else -1
        if size == 29:
            return 1 if cython.cast(bytes, name) == _REQUEST_METHOD else -1
        if size == 30:
            return 2 if cython.cast(bytes, name) == _REQUEST_HEADERS else -1
        if size == 38:
            return 3 if cython.cast(bytes, name) == _REQUEST_PRIVATE_NETWORK else -1
        return -1
    # Anything else (a bytes subclass may equal a name) compares as Starlette compares it.
    if name == _ORIGIN:
        return 0
    if name == _REQUEST_METHOD:
        return 1
    if name == _REQUEST_HEADERS:
        return 2
    return 3 if name == _REQUEST_PRIVATE_NETWORK else -1


@cython.cfunc
@cython.inline
def _route_start(path: str, root_path: object) -> cython.Py_ssize_t:
    """Where the route path starts in `path` under ROOT_PATH_AT_BOUNDARY (see _routing): after
    `root_path` where it prefixes `path` at a "/" boundary or is all of it, else at 0."""
    if type(root_path) is not str:
        return 0
    root: str = root_path
    size: cython.Py_ssize_t = len(root)
    if size == 0 or size > len(path) or not path.startswith(root):
        return 0
    return size if size == len(path) or path[size] == "/" else 0


@cython.cfunc
def _find(pairs: tuple, key: bytes) -> object:
    """The value of the pair whose first item equals `key`, or None: no hash of a fresh key."""
    size: cython.Py_ssize_t = len(key)
    i: cython.Py_ssize_t
    for i in range(0, len(pairs), 2):  # (key, value, key, value, ...)
        if len(cython.cast(bytes, pairs[i])) == size and cython.cast(bytes, pairs[i]) == key:
            return pairs[i + 1]
    return None


async def _send_preflight_answer(send: Any, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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


@cython.cfunc
def _port_colon(origin: bytes, start: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """Where `origin` ends in ":port" (1 to 65535, no leading zero, as browsers send it), or -1."""
    end: cython.Py_ssize_t = len(origin)
    colon: cython.Py_ssize_t
    if not cython.compiled:
        # Uncompiled, C-level bytes methods beat a Python loop over the characters.
        colon = origin.rfind(b":", start)
        digits = origin[colon + 1 :]
        if colon < 0 or not digits.isdigit() or len(digits) > 5 or digits.startswith(b"0"):
            return -1
        return colon if len(digits) < 5 or digits <= b"65535" else -1
    data: cython.p_const_uchar = origin
    colon = end - 1
    while colon >= start and 48 <= data[colon] <= 57:  # digits
        colon -= 1
    if colon < start or data[colon] != 58 or not 0 < end - colon - 1 <= 5 or data[colon + 1] == 48:  # ":", "0"
        return -1
    port: cython.long = 0
    i: cython.Py_ssize_t
    for i in range(colon + 1, end):
        port = port * 10 + (data[i] - 48)
    return colon if port <= 65535 else -1


@cython.cfunc
def _are_labels(origin: bytes, start: cython.Py_ssize_t, end: cython.Py_ssize_t) -> cython.bint:
    """Whether origin[start:end] is one or more dot-separated labels of [a-z0-9_-]."""
    if not cython.compiled:
        labels = origin[start:end]
        return (
            len(labels.translate(None, _LABEL_BYTES)) == 0
            and not labels.startswith(b".")
            and not labels.endswith(b".")
            and b".." not in labels
        )
    data: cython.p_const_uchar = origin
    previous: cython.int = 46  # as if after a ".": the first label must not be empty
    c: cython.int
    i: cython.Py_ssize_t
    for i in range(start, end):
        c = data[i]
        if c == 46:
            if previous == 46:
                return False
        elif not (97 <= c <= 122 or 48 <= c <= 57 or c == 45 or c == 95):  # a-z 0-9 - _
            return False
        previous = c
    return previous != 46


@cython.final
@cython.cclass
class Pattern:
    """An OriginPattern (see _patterns) in typed fields, matched on bytes without a regex."""

    scheme: bytes  # b"https://"
    host: bytes  # the host, or with `subdomains` what follows the labels (b".example.com")
    subdomains: cython.bint
    any_port: cython.bint
    port: bytes  # b"" or b":8080" when not `any_port`

    def __init__(self, pattern: OriginPattern) -> None:
        self.scheme = pattern.scheme
        self.host = pattern.host
        self.subdomains = pattern.subdomains
        self.any_port = pattern.any_port
        self.port = pattern.port

    @cython.cfunc
    def matches(self, origin: bytes) -> cython.bint:
        if not origin.startswith(self.scheme):
            return False
        start: cython.Py_ssize_t = len(self.scheme)
        end: cython.Py_ssize_t = len(origin)  # of the host, once a port is taken off
        if self.any_port:
            colon: cython.Py_ssize_t = _port_colon(origin, start)
            if colon >= 0:
                end = colon
        elif len(self.port) != 0:
            if not origin.endswith(self.port):
                return False
            end -= len(self.port)
        size: cython.Py_ssize_t = len(self.host)
        if not self.subdomains:
            return end - start == size and origin.startswith(self.host, start)
        # One or more whole labels, then ".example.com".
        if end - start <= size or not origin.startswith(self.host, end - size):
            return False
        return _are_labels(origin, start, end - size)


def _offset(table: bytes, at: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """The 4-byte number at `at` in `table`, in the machine's byte order (see _config.HeaderNames)."""
    return int.from_bytes(table[at : at + 4], sys.byteorder)


def _check_name_table(names: bytes, starts: bytes) -> None:
    """Raise ValueError unless `names` and `starts` are laid out as _config.HeaderNames says:
    compiled code reads them in place, and must never read past them."""
    if len(starts) != 257 * 4 or _offset(starts, 0) != 0 or _offset(starts, 256 * 4) != len(names):
        raise ValueError("HeaderNames: `starts` must be 257 offsets into `names`, from 0 to its end")
    for byte in range(256):
        at, end = _offset(starts, byte * 4), _offset(starts, byte * 4 + 4)
        while at < end:
            length = _offset(names, at)
            if length == 0 or at + 4 + length > end or names[at + 4] != byte:
                raise ValueError(f"HeaderNames: the names starting with byte {byte} are not laid out as they must be")
            at += 4 + length


@cython.final
@cython.cclass
class RequestedHeaders:
    """Starlette's test of an Access-Control-Request-Headers value, on its bytes as they came.

    Starlette decodes the value as latin-1, splits it on ",", and refuses it unless every item,
    lower-cased and stripped, is an allowed name. `allows` answers the same from the tables of
    _config.HeaderNames, and stops at the first refused item: Starlette's answer depends on
    nothing after it. Compiled, it reads the bytes in place, with no object per item: an item
    costs a table look-up per byte of whitespace around it and, for each allowed name of its
    first letter (case aside), one look at the byte that would follow that name, and a
    comparison with it if that byte is a "," or whitespace.
    """

    lower: bytes
    stripped: bytes
    whitespace: bytes
    allowed: frozenset
    names: bytes
    starts: bytes
    empty_allowed: cython.bint

    def __init__(self, names: HeaderNames) -> None:
        # Compiled code indexes the tables by a byte, and walks `names` by the offsets and
        # lengths it holds: all of it checked here, once.
        if len(names.lower) != 256 or len(names.stripped) != 256:
            raise ValueError("HeaderNames: `lower` and `stripped` must have 256 entries")
        _check_name_table(names.names, names.starts)
        self.lower = names.lower
        self.stripped = names.stripped
        self.whitespace = names.whitespace
        self.allowed = names.allowed
        self.names = names.names
        self.starts = names.starts
        self.empty_allowed = names.empty_allowed

    @cython.ccall
    def allows(self, value: bytes) -> cython.bint:
        """Whether every item of `value` is allowed (Starlette's verdict)."""
        if not cython.compiled:
            # Starlette's own steps, on bytes: lower-case, split, strip, look up.
            for item in value.translate(self.lower).split(b","):  # noqa: SIM110 (a loop says it plainly)
                if item.strip(self.whitespace) not in self.allowed:
                    return False
            return True
        data: cython.p_const_uchar = value
        size: cython.Py_ssize_t = len(value)
        stripped: cython.p_const_uchar = self.stripped
        lower: cython.p_const_uchar = self.lower
        names: cython.p_const_uchar = self.names
        starts: cython.p_const_uchar = self.starts
        start: cython.Py_ssize_t = 0  # of the item being read
        end: cython.Py_ssize_t  # of that item: its "," or the end of the value
        while True:
            while start < size and stripped[data[start]]:
                start += 1
            if start == size or data[start] == 44:  # an empty item (44 is ",")
                if not self.empty_allowed:
                    return False
                end = start
            else:
                end = _end_of_allowed_name(data, start, size, lower, stripped, names, starts)
                if end < 0:
                    return False
            if end == size:
                return True
            start = end + 1


@cython.cfunc
@cython.exceptval(check=False)
def _end_of_allowed_name(
    data: cython.p_const_uchar,
    start: cython.Py_ssize_t,
    size: cython.Py_ssize_t,
    lower: cython.p_const_uchar,
    stripped: cython.p_const_uchar,
    names: cython.p_const_uchar,
    starts: cython.p_const_uchar,
) -> cython.Py_ssize_t:
    """Where the item at `start` of the `size` bytes at `data` ends (its "," or `size`) if it is
    an allowed name, else -1 (compiled only: the tables of RequestedHeaders, checked when it was
    made). The item starts with a byte that is neither whitespace nor ",".

    No search for the "," first: an allowed name is followed by whitespace, a "," or the end,
    which rules out most names of the item's first letter in one look, and the "," comes right
    after the name that matches.
    """
    group: cython.Py_ssize_t = lower[data[start]] * 4
    at: cython.Py_ssize_t = _read_offset(starts, group)
    last: cython.Py_ssize_t = _read_offset(starts, group + 4)
    length: cython.Py_ssize_t
    spelled: cython.p_const_uchar
    end: cython.Py_ssize_t
    k: cython.Py_ssize_t
    while at < last:
        length = _read_offset(names, at)
        spelled = names + at + 4
        at += 4 + length
        end = start + length
        if end > size or (end < size and data[end] != 44 and not stripped[data[end]]):
            continue
        if not _same_bytes(data + start, spelled, length):  # as browsers send names: in lower case
            k = 0
            while k < length and lower[data[start + k]] == spelled[k]:
                k += 1
            if k < length:
                continue
        while end < size and stripped[data[end]]:
            end += 1
        if end == size or data[end] == 44:
            return end
    return -1


@cython.cfunc
@cython.exceptval(check=False)
def _same_bytes(a: cython.p_const_uchar, b: cython.p_const_uchar, length: cython.Py_ssize_t) -> cython.bint:
    """memcmp(a, b, length) == 0, without a call for names of 4 bytes or more: 8 (or 4) bytes
    at a time, the last ones overlapping those before (compiled only)."""
    if length < 8:
        if length < 4:
            return memcmp(a, b, length) == 0
        u: cython.uint = 0
        v: cython.uint = 0
        memcpy(cython.address(u), a, 4)
        memcpy(cython.address(v), b, 4)
        if u != v:
            return False
        memcpy(cython.address(u), a + length - 4, 4)
        memcpy(cython.address(v), b + length - 4, 4)
        return u == v
    x: cython.ulonglong = 0
    y: cython.ulonglong = 0
    i: cython.Py_ssize_t = 0
    while i < length - 8:
        memcpy(cython.address(x), a + i, 8)
        memcpy(cython.address(y), b + i, 8)
        if x != y:
            return False
        i += 8
    memcpy(cython.address(x), a + length - 8, 8)
    memcpy(cython.address(y), b + length - 8, 8)
    return x == y


@cython.cfunc
@cython.exceptval(check=False)
def _read_offset(table: cython.p_const_uchar, at: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """_offset, on a C pointer (compiled only): one load (memcpy, as unaligned reads must be)."""
    offset: cython.uint = 0
    memcpy(cython.address(offset), table + at, 4)
    return offset


@cython.cfunc
def _ask_origin_func(func: object, origin: bytes) -> cython.bint:
    # The user's code: whatever it does, the answer is a clean allow or deny, never a 500.
    text = origin.decode("latin-1")
    try:
        verdict = func(text)
    except Exception:
        logger.error("allow_origin_func raised for the origin %s; refused", shown(text), exc_info=True)
        return False
    if verdict is True:
        return True
    if verdict is not False:
        if isinstance(verdict, Coroutine):
            verdict.close()  # an un-awaited coroutine would warn later, far from here
        logger.error(
            "allow_origin_func returned a %s for the origin %s, not True or False; refused",
            type(verdict).__name__,
            shown(text),
        )
    return False


@cython.final
@cython.cclass
class Policy:
    """A Config, held in typed fields for the compiled code, plus its bounded memos of verdicts."""

    # For the uncompiled twin: over 30 attributes would make every instance's __dict__ unshared,
    # and each attribute read slower; the two memos, declared readable, stay in __dict__.
    __slots__ = (
        "__dict__", "allow_all_headers", "allow_all_origins", "allow_private_network", "check_private_network",
        "config", "explain_denial", "generation", "has_paths", "header_scan", "last_headers_verdict",
        "last_pattern_origin", "last_regex_origin", "last_regex_verdict", "last_requested_headers", "longest_method",
        "longest_origin",
        "methods", "methods_fallback", "named_suffix", "named_suffix_at", "origin_answers", "origin_extended",
        "origin_func", "origin_patterns", "origin_regex", "origins", "origins_fallback", "path_policies",
        "path_prefixes", "preflight_answers", "preflight_explicit_origin", "preflight_headers",
        "reflect_any_origin", "reflect_origin_on_cookie", "regex_fullmatch", "response_names", "route_path_rule",
        "settings", "simple_after_origin", "simple_before_origin", "simple_headers", "small_methods",
        "small_origin_answers", "suffix_not_named", "suffix_without_origin", "vary_header",
        "vary_joins_every_value", "vary_on_every_response", "websocket_denial", "websocket_guard",
    )  # fmt: skip

    config: object
    generation: object
    allow_all_origins: cython.bint
    reflect_any_origin: cython.bint
    reflect_origin_on_cookie: cython.bint
    vary_on_every_response: cython.bint
    vary_header: tuple
    vary_joins_every_value: cython.bint
    response_names: frozenset
    preflight_explicit_origin: cython.bint
    origins: frozenset
    origins_fallback: object
    origin_regex: object
    regex_verdicts = cython.declare(object, visibility="readonly")  # a memo (readable by tests)
    methods: frozenset
    methods_fallback: object
    allow_all_headers: cython.bint
    header_scan: RequestedHeaders
    header_verdicts = cython.declare(object, visibility="readonly")  # a memo
    allow_private_network: cython.bint
    check_private_network: cython.bint
    preflight_headers: tuple
    preflight_answers: tuple
    simple_headers: tuple
    simple_before_origin: tuple
    simple_after_origin: tuple
    suffix_without_origin: list
    suffix_not_named: list
    named_suffix: list
    named_suffix_at: cython.Py_ssize_t
    origin_answers: dict
    small_origin_answers: tuple  # or None
    small_methods: tuple  # or None
    longest_origin: cython.Py_ssize_t
    longest_method: cython.Py_ssize_t
    regex_fullmatch: object  # origin_regex.fullmatch, looked up once
    last_regex_origin: bytes  # see unlisted_origin_allowed (compiled, with the GIL)
    last_pattern_origin: bytes  # the last origin a pattern allowed (see extended_origin_allowed)
    last_regex_verdict: cython.bint
    last_requested_headers: bytes  # the same for headers_allowed
    last_headers_verdict: cython.bint
    origin_extended: cython.bint
    origin_patterns: tuple  # of Pattern
    origin_func: object
    websocket_guard: cython.bint
    websocket_denial: tuple
    explain_denial: object  # None, or a callable logging why a request was refused (debug mode)
    settings: object  # the CORSSettings this policy was prepared from
    # The policies of `paths`, longest prefix first: prefixes (str) and their Policy or None.
    path_prefixes: tuple
    path_policies: tuple
    has_paths: cython.bint
    route_path_rule: cython.int  # how the route path those prefixes match is derived (see _routing)

    def __init__(self, config: Config, explain_level: Any = None, settings: Any = None) -> None:
        self.config = config
        self.settings = settings
        self.explain_denial = None if explain_level is None else denial_explainer(config, explain_level)
        self.path_prefixes = tuple(prefix for prefix, _ in config.paths)
        self.path_policies = tuple(
            None if path_config is None else Policy(path_config, explain_level) for _, path_config in config.paths
        )
        self.has_paths = len(self.path_prefixes) != 0
        self.route_path_rule = config.route_path_rule
        self.generation = config.generation
        self.allow_all_origins = config.allow_all_origins
        self.reflect_any_origin = config.reflect_any_origin
        self.reflect_origin_on_cookie = config.reflect_origin_on_cookie
        self.vary_on_every_response = config.vary_on_every_response
        self.vary_header = config.vary_header
        self.vary_joins_every_value = config.vary_joins_every_value
        self.response_names = config.response_names
        self.preflight_explicit_origin = config.preflight_explicit_origin
        self.origins = config.origins
        self.origins_fallback = config.origins_fallback
        self.origin_regex = config.origin_regex
        self.regex_verdicts = new_memo()
        self.methods = config.methods
        self.methods_fallback = config.methods_fallback
        self.allow_all_headers = config.allow_all_headers
        self.header_scan = RequestedHeaders(config.header_names)
        self.header_verdicts = new_memo()
        self.allow_private_network = config.allow_private_network
        self.check_private_network = config.check_private_network
        self.preflight_headers = config.preflight_headers
        self.preflight_answers = config.preflight_answers
        self.simple_headers = config.simple_headers
        self.simple_before_origin = config.simple_before_origin
        self.simple_after_origin = config.simple_after_origin
        self.suffix_without_origin = config.suffix_without_origin
        self.suffix_not_named = config.suffix_not_named
        self.named_suffix = config.named_suffix
        self.named_suffix_at = config.named_suffix_at
        self.origin_answers = config.origin_answers
        self.small_origin_answers = config.small_origin_answers
        self.small_methods = config.small_methods
        self.longest_origin = config.longest_origin
        self.longest_method = config.longest_method
        self.regex_fullmatch = None if config.origin_regex is None else config.origin_regex.fullmatch
        self.origin_extended = config.origin_extended
        self.origin_patterns = tuple(Pattern(pattern) for pattern in config.origin_patterns)
        self.origin_func = config.origin_func
        self.websocket_guard = config.websocket_guard
        self.websocket_denial = config.websocket_denial

    @cython.cfunc
    def for_path(self, scope: object) -> object:
        """The policy of the longest prefix in `paths` the request's route path falls under: a
        Policy, None for no CORS handling, or this policy when none matches.

        The route path is the path the router matches (see _routing): here the scope's path
        from `start` on, as most releases only take the root path off its front.
        """
        if type(scope) is not dict:
            return self
        fields: dict = scope
        path = fields.get("path")  # (None in a lifespan scope)
        if type(path) is not str:
            return self
        start: cython.Py_ssize_t = 0
        if self.route_path_rule == ROOT_PATH_AT_BOUNDARY:
            start = _route_start(path, fields.get("root_path"))
        elif self.route_path_rule != PATH_AS_GIVEN:
            path = regex_route_path(fields, self.route_path_rule)
            if path is None:  # where that release's router raises, no route answers
                return self
        text: str = path
        size: cython.Py_ssize_t = len(text) - start
        length: cython.Py_ssize_t
        i: cython.Py_ssize_t
        for i in range(len(self.path_prefixes)):
            prefix: str = self.path_prefixes[i]
            length = len(prefix)
            if length == 1:  # "/" (the shortest, so the last): every path
                return self.path_policies[i]
            # `prefix` itself, or below it: the length and the boundary first (cheap in C). A
            # final newline counts as the end: Starlette's route regexes end in `$`, which matches
            # before one, so its /admin route answers "/admin\n" (a client's "/admin%0A").
            if length > size or (
                length < size
                and text[start + length] != "/"
                and not (length == size - 1 and text[start + length] == "\n")
            ):
                continue
            if text.startswith(prefix, start):
                return self.path_policies[i]
        return self

    @cython.cfunc
    def origin_allowed(self, origin: bytes) -> cython.bint:
        """Whether Starlette's rules, or fastcors' own, allow `origin`."""
        return (
            self.allow_all_origins
            or self.origin_answers_of(origin) is not None
            or self.unlisted_origin_allowed(origin)
        )

    @cython.cfunc
    def unlisted_origin_allowed(self, origin: bytes) -> cython.bint:
        """Whether an origin that neither `*` nor the exact set of bytes allows (it has no ready
        answers) is allowed all the same: by the regex, an exact set kept as it was given, or
        fastcors' own rules. (The request path has tested those two already.)
        """
        slot: cython.Py_ssize_t  # in the regex memo (compiled)
        if self.origin_regex is not None:
            verdict = None
            if _COMPILED and _WITH_GIL:
                # The last origin seen twice, compared without hashing it (a client sends the
                # same origin request after request). Compiled with the GIL, nothing else runs
                # between reading the two fields here or writing them below. (Not on a
                # free-threaded build: another thread's store could free the origin read here.)
                last: bytes = self.last_regex_origin
                if last is not None and len(last) == len(origin) and last == origin:
                    verdict = self.last_regex_verdict
            if verdict is None:
                if _COMPILED:
                    slot = _memo_slot(origin)
                    verdict = _recall(self.regex_verdicts, slot, origin)
                else:
                    verdict = self.regex_verdicts.get(origin)
                if verdict is None:
                    verdict = self.regex_fullmatch(origin.decode("latin-1")) is not None
                    if _COMPILED:
                        _remember(self.regex_verdicts, slot, origin, verdict)
                    else:
                        _remember_in_dict(self.regex_verdicts, origin, verdict)
                elif _COMPILED and _WITH_GIL:
                    # Seen twice: worth remembering (a stream of new origins never gets here).
                    self.last_regex_origin = origin
                    self.last_regex_verdict = verdict
            if verdict:
                return True
        if self.origins is None and origin.decode("latin-1") in self.origins_fallback:
            return True
        return self.origin_extended and self.extended_origin_allowed(origin)

    @cython.cfunc
    def extended_origin_allowed(self, origin: bytes) -> cython.bint:
        """fastcors' own rules, asked only once Starlette's have refused the origin."""
        if _COMPILED and _WITH_GIL:
            # The origin a pattern allowed last, compared without matching, as the regex's last
            # origin is (and, as there, not on a free-threaded build): one origin held, no memo.
            last: bytes = self.last_pattern_origin
            if last is not None and len(last) == len(origin) and last == origin:
                return True
        pattern: Pattern
        for pattern in self.origin_patterns:
            if pattern.matches(origin):
                if _COMPILED and _WITH_GIL:
                    self.last_pattern_origin = origin
                return True
        return self.origin_func is not None and _ask_origin_func(self.origin_func, origin)

    @cython.cfunc
    def origin_answers_of(self, origin: bytes) -> object:
        """The precomputed answers naming `origin` when the exact set allows it, else None.

        (Uncompiled, the request path looks origin_answers up itself: cheaper than a call.)
        """
        if self.small_origin_answers is not None:
            return _find(self.small_origin_answers, origin)
        if len(origin) > self.longest_origin:  # (covers an empty dict)
            return None
        return self.origin_answers.get(origin)

    @cython.cfunc
    def method_allowed(self, method: bytes) -> cython.bint:
        if _COMPILED and self.small_methods is not None:
            size: cython.Py_ssize_t = len(method)
            allowed: bytes
            for allowed in self.small_methods:  # noqa: SIM110 (any() would make a generator)
                if len(allowed) == size and allowed == method:
                    return True
            return False
        if self.methods is not None:
            return len(method) <= self.longest_method and method in self.methods
        return method.decode("latin-1") in self.methods_fallback

    @cython.cfunc
    def headers_allowed(self, requested: bytes) -> cython.bint:
        if len(requested) > _MEMO_KEY_BYTES:  # too long to remember: not looked up either
            return self.header_scan.allows(requested)
        slot: cython.Py_ssize_t  # in the headers memo (compiled)
        if _COMPILED and _WITH_GIL:
            # The last list seen twice, compared without hashing it, as for the regex's origins.
            last: bytes = self.last_requested_headers
            if last is not None and len(last) == len(requested) and last == requested:
                return self.last_headers_verdict
        if _COMPILED:
            slot = _memo_slot(requested)
            verdict = _recall(self.header_verdicts, slot, requested)
        else:
            verdict = self.header_verdicts.get(requested)
        if verdict is None:
            verdict = self.header_scan.allows(requested)
            if _COMPILED:
                _remember(self.header_verdicts, slot, requested, verdict)
            else:
                _remember_in_dict(self.header_verdicts, requested, verdict)
        elif _COMPILED and _WITH_GIL:
            self.last_requested_headers = requested
            self.last_headers_verdict = verdict
        return verdict

    @cython.cfunc
    def preflight(
        self, send: object, origin: bytes, method: bytes, requested_headers: object, private_network: object
    ) -> object:
        """The answer to a preflight request: an awaitable that sends it."""
        answers: tuple
        if _COMPILED:
            answers = self.origin_answers_of(origin)
        else:  # (no hash of the origin for an empty dict: `*` needs none)
            answers = self.origin_answers.get(origin) if self.origin_answers else None
        # The requested headers' verdict, once decided (1 allowed, 0 refused): the general answer
        # below reuses the one the ready answer's test may have reached.
        headers_verdict: cython.int = -1
        if (
            answers is not None
            and (private_network is None or not self.check_private_network)
            and (
                requested_headers is None
                or (not self.allow_all_headers and (headers_verdict := self.headers_allowed(requested_headers)))
            )
            and self.method_allowed(method)
        ):
            # An allowed origin asking for nothing refused: its answer is ready (a fresh list,
            # as the server may change what it is sent).
            return _send_preflight_answer(send, 200, list(answers[1]), b"OK")
        headers: list = list(self.preflight_headers)
        failures: cython.int = 0
        if answers is not None or self.allow_all_origins or self.unlisted_origin_allowed(origin):
            if self.preflight_explicit_origin:
                headers.append((_ALLOW_ORIGIN, origin))
        else:
            failures |= _ORIGIN_FAILURE
        if not self.method_allowed(method):
            failures |= _METHOD_FAILURE
        if requested_headers is not None:
            if self.allow_all_headers:
                headers.append((_ALLOW_HEADERS, requested_headers))
            elif headers_verdict == 0 or (headers_verdict < 0 and not self.headers_allowed(requested_headers)):
                failures |= _HEADERS_FAILURE
        if private_network is not None and self.check_private_network:
            if self.allow_private_network:
                headers.append(_ALLOW_PRIVATE_NETWORK)
            else:
                failures |= _PRIVATE_NETWORK_FAILURE
        if failures and self.explain_denial is not None:
            self.explain_denial(origin, method, requested_headers, private_network, failures)
        status, body, content_length = self.preflight_answers[failures]
        headers.append(content_length)
        headers.append(_CONTENT_TYPE)
        return _send_preflight_answer(send, status, headers, body)

    @cython.cfunc
    def guard_websocket(self, app: object, scope: object, receive: object, send: object) -> object:
        """The app's handshake if the Origin is absent or allowed, else a refusal (HTTP 403)."""
        origin = _UNSET
        for name, value in scope["headers"]:
            if name == _ORIGIN:
                origin = value
                break
        if origin is _UNSET:
            return app(scope, receive, send)
        origin_bytes: bytes = origin if type(origin) is bytes else _as_bytes(origin)
        if self.origin_allowed(origin_bytes):
            return app(scope, receive, send)
        if self.explain_denial is not None:
            self.explain_denial(origin_bytes, None, None, None, _ORIGIN_FAILURE | _WEBSOCKET_FAILURE)
        extensions = scope.get("extensions")
        denial_response: cython.bint = type(extensions) is dict and _WEBSOCKET_DENIAL_EXTENSION in extensions
        return _refuse_websocket(receive, send, denial_response, self.websocket_denial)


@cython.cfunc
def _set_headers(app_headers: object, to_set: tuple, policy: Policy, merge_vary: cython.bint) -> list:
    """A new list: the app's headers with `to_set` set and, if `merge_vary`, the policy's vary
    header merged into `vary`.

    "Set" and "merge" have the meaning of Starlette's MutableHeaders: the first header of a
    name is replaced in place, later ones are dropped, a missing one is appended; names are
    compared as exact bytes. The merge joins the first `vary` value, or all of them, with
    the policy's, as the generation in force does.
    """
    vary_name: bytes = policy.vary_header[0]
    joins_every_value: cython.bint = policy.vary_joins_every_value
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
            elif joins_every_value:
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
        out.append(policy.vary_header)
    else:
        vary_values.append(policy.vary_header[1])
        out[vary_at] = (vary_name, b", ".join(vary_values))
    return out


@cython.final
@cython.freelist(32)  # a plain static array, so Cython leaves it out of free-threaded builds
@cython.cclass
class SendWithCORS:
    """The `send` the application gets for a non-preflight request (as a bound method).

    One per request, never shared between threads: its fields need no protection.
    """

    __slots__ = ("cookie", "origin", "policy", "send")  # for the uncompiled twin: no per-request dict
    send: object
    policy: Policy
    origin: object  # bytes, or None when the request had no Origin
    cookie: cython.bint  # whether the request had a cookie; set only where the policy asks

    def forward(self, message: Any) -> Any:
        if _COMPILED:
            if not _same_str(message["type"], _RESPONSE_START):
                return self.send(message)
        elif message["type"] != "http.response.start":
            return self.send(message)
        policy: Policy = self.policy
        origin = self.origin
        # Whether the explicit origin is sent: always for `*` with credentials, never for a
        # plain `*`, otherwise when the origin is allowed (the one denial of this path).
        explicit: cython.bint = False
        # What to append when none of the app's headers is replaced or merged, when known in
        # advance (else built below).
        suffix: list = None
        if origin is None:
            suffix = policy.suffix_without_origin
        elif policy.reflect_any_origin or (policy.reflect_origin_on_cookie and self.cookie):
            explicit = True
        elif policy.allow_all_origins:
            suffix = policy.suffix_not_named
        else:
            answers: tuple = (
                policy.origin_answers_of(origin) if _COMPILED else policy.origin_answers.get(origin)
            )
            if answers is not None:
                explicit = True
                suffix = answers[0]
            else:
                explicit = policy.unlisted_origin_allowed(origin)
                if not explicit:
                    suffix = policy.suffix_not_named
                    if policy.explain_denial is not None:
                        policy.explain_denial(origin, None, None, None, _ORIGIN_FAILURE)
        merge_vary: cython.bint = explicit or policy.vary_on_every_response
        # Never mutate the app's own list: apps reuse header lists across responses.
        # (Starlette's message.setdefault("headers", []), without the method call.)
        try:
            app_headers = message["headers"]
        except KeyError:
            app_headers = ()
        headers: list
        appending: cython.bint = type(app_headers) is list
        if appending:
            for item in app_headers:
                # A header this step replaces or merges (or anything odd): the general path.
                if type(item) is not tuple or len(item) != 2:
                    appending = False
                    break
                name = item[0]
                if type(name) is not bytes:
                    appending = False
                    break
                # (Compiled, the first byte rules most names out, without hashing them.)
                if _COMPILED and (
                    len(cython.cast(bytes, name)) == 0 or cython.cast(bytes, name)[0] not in _NAME_INITIALS
                ):
                    continue
                if name in policy.response_names:
                    appending = False
                    break
        if appending:
            # The common case: nothing to replace or merge, only to append.
            if suffix is not None:
                headers = app_headers + suffix  # one new list: the app's stays as it was
            else:
                headers = app_headers + policy.named_suffix
                headers[len(app_headers) + policy.named_suffix_at] = (_ALLOW_ORIGIN, origin)
        elif explicit:
            to_set = (*policy.simple_before_origin, (_ALLOW_ORIGIN, origin), *policy.simple_after_origin)
            headers = _set_headers(app_headers, to_set, policy, True)
        else:
            headers = _set_headers(app_headers, policy.simple_headers if origin is not None else (), policy, merge_vary)
        message["headers"] = headers
        return self.send(message)


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

    def _install(self, settings: CORSSettings, config: Config, explain_level: Any) -> None:
        # One reference swap: a request reads `policy` once, so it finishes under the
        # configuration it started with, whichever thread reconfigures.
        policy = Policy(config, explain_level, settings)
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
        if policy.has_paths:
            selected = policy.for_path(scope)
            if selected is None:  # no CORS handling under this prefix
                return self.app(scope, receive, send)
            policy = selected
        if not (_same_str(scope["type"], _HTTP) if _COMPILED else scope["type"] == "http"):
            if policy.websocket_guard and scope["type"] == "websocket":
                return policy.guard_websocket(self.app, scope, receive, send)
            return self.app(scope, receive, send)
        method = scope["method"]
        # An exact str compares without side effects, so whether this may be a preflight is
        # known before the scan; anything else is compared where Starlette compares it.
        maybe_preflight: cython.bint = type(method) is not str or (
            _same_str(method, _OPTIONS) if _COMPILED else method == "OPTIONS"
        )
        raw_headers = scope["headers"]
        headers: list
        if type(raw_headers) is list:
            # Starlette's Headers(scope=...) stores list(scope["headers"]) so the app always
            # sees a list; a list is kept as it is (equal contents, one copy less).
            headers = raw_headers
        else:
            headers = list(raw_headers)
            scope["headers"] = headers
        # First occurrence wins; _UNSET (not None) marks "absent", as a value may be anything.
        origin = _UNSET
        request_method = _UNSET
        requested_headers = _UNSET
        private_network = _UNSET
        if not maybe_preflight:
            # All a simple request needs is its first Origin (where Starlette stops reading).
            # (Uncompiled, a literal: a constant loads faster than a global, once a header.)
            for name, value in headers:
                if name == (_ORIGIN if _COMPILED else b"origin"):
                    origin = value
                    break
        elif _COMPILED:
            # The loop below, with one length test picking the only name a header could be.
            which: cython.int
            for name, value in headers:
                which = _preflight_header(name)
                if which == 0:
                    if origin is _UNSET:
                        origin = value
                elif which == 1:
                    if request_method is _UNSET:
                        request_method = value
                elif which == 2:
                    if requested_headers is _UNSET:
                        requested_headers = value
                elif which == 3 and private_network is _UNSET:
                    private_network = value
        else:
            # (Literals again, four times a header.)
            for name, value in headers:
                if name == b"origin":
                    if origin is _UNSET:
                        origin = value
                elif name == b"access-control-request-method":
                    if request_method is _UNSET:
                        request_method = value
                elif name == b"access-control-request-headers":
                    if requested_headers is _UNSET:
                        requested_headers = value
                elif name == b"access-control-request-private-network" and private_network is _UNSET:
                    private_network = value
        # (Testing for bytes first spares the uncompiled twin a call in the usual case.)
        if origin is _UNSET:
            if not policy.vary_on_every_response:
                return self.app(scope, receive, send)  # untouched, as Starlette before 1.7
            origin = None
        else:
            origin = origin if type(origin) is bytes else _as_bytes(origin)
            if request_method is not _UNSET and (maybe_preflight if type(method) is str else method == "OPTIONS"):
                # Converted in Starlette's order (its errors for odd values come in that order).
                if type(request_method) is not bytes:
                    request_method = _as_bytes(request_method)
                if requested_headers is _UNSET:
                    requested_headers = None
                elif type(requested_headers) is not bytes:
                    requested_headers = _as_bytes(requested_headers)
                if private_network is _UNSET:
                    private_network = None
                elif type(private_network) is not bytes:
                    private_network = _as_bytes(private_network)
                return policy.preflight(send, origin, request_method, requested_headers, private_network)
        wrapped: SendWithCORS = SendWithCORS.__new__(SendWithCORS)
        wrapped.send = send
        wrapped.policy = policy
        wrapped.origin = origin
        if policy.reflect_origin_on_cookie:
            wrapped.cookie = False
            for name, _value in headers:
                if name == _COOKIE:
                    wrapped.cookie = True
                    break
        # The app calls a bound method: compiled, a bound Cython function takes the arguments
        # by vectorcall (an instance's __call__ would get them packed in a new tuple, twice a
        # request); uncompiled, it is quicker to call than an instance's __call__.
        return self.app(scope, receive, wrapped.forward)


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
    ) -> None:
        # The parameters above are CORSSettings' fields (a test holds them so), `app` and `handle` aside.
        settings = CORSSettings.from_arguments(locals())
        config, explain_level = prepare(settings)  # raises where Starlette's constructor raises
        Middleware.__init__(self, app, Policy(config, explain_level, settings))
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
        config, explain_level = prepare(settings)
        self._install(settings, config, explain_level)

    async def _call_async(self, scope: Any, receive: Any, send: Any) -> None:
        await Middleware.__call__(self, scope, receive, send)
