"""The byte scans compiled code runs in place, with C pointers: a pattern's port and labels,
an Access-Control-Request-Headers value, and a memo's hash of a key. Compiled only; declared
in _scan.pxd.

Each is the C form of a rule written in Python in _reference (which the uncompiled twin runs):
the tests hold the two to the same answers on every byte value.
"""

import os
import sys

import cython
from cython.cimports.libc.string import memcmp, memcpy

from fastcors._config import HeaderNames
from fastcors._patterns import OriginPattern

_MEMO_SEED = cython.declare(cython.ulonglong, int.from_bytes(os.urandom(8), "little"))
_MEMO_MULTIPLIER = cython.declare(cython.ulonglong, 0x9E3779B97F4A7C15)  # odd: 2**64 / the golden ratio


@cython.ccall
@cython.exceptval(check=False)
def memo_hash(key: bytes) -> cython.ulonglong:
    """A 64-bit hash of `key` whose top bits depend on every byte (see _rules.Memo).

    Multiplicative, seeded at start, 8 bytes at a time: a few instructions a word, where hash()
    (SipHash) costs 8 a byte of the new bytes object each request brings. A memo needs spread,
    not resistance: colliding keys only displace each other's verdicts, and never slow a lookup.
    """
    data: cython.p_const_uchar = key
    size: cython.Py_ssize_t = len(key)
    h: cython.ulonglong = _MEMO_SEED
    word: cython.ulonglong = 0
    i: cython.Py_ssize_t = 0
    while i + 8 <= size:
        memcpy(cython.address(word), data + i, 8)  # (as unaligned reads must be)
        h = (h ^ word) * _MEMO_MULTIPLIER  # (unsigned: wraps around)
        i += 8
    while i < size:
        h = (h ^ data[i]) * _MEMO_MULTIPLIER
        i += 1
    # A product's high bits depend only on its factors' lower ones: folding the high half down
    # once more lets a word's top byte move the top bits as much as its low ones.
    return (h ^ (h >> 32)) * _MEMO_MULTIPLIER


class Pattern:
    """An OriginPattern (see _patterns), matched on bytes without a regex."""

    def __init__(self, pattern: OriginPattern) -> None:
        self.scheme = pattern.scheme
        self.host = pattern.host  # or, with `subdomains`, what follows the labels
        self.subdomains = pattern.subdomains
        self.any_port = pattern.any_port
        self.port = pattern.port  # b"" or b":8080" when not `any_port`

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


@cython.cfunc
def _port_colon(origin: bytes, start: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """Where `origin` ends in ":port" (1 to 65535, no leading zero, as browsers send it), or -1."""
    data: cython.p_const_uchar = origin
    end: cython.Py_ssize_t = len(origin)
    colon: cython.Py_ssize_t = end - 1
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


class RequestedHeaders:
    """Starlette's test of an Access-Control-Request-Headers value (HeaderNames.allows), on its
    bytes as they came, from the tables of _config.HeaderNames.

    It stops at the first refused item (Starlette's answer depends on nothing after it) and
    makes no object per item: an item costs a table look-up per byte of whitespace around it
    and, for each allowed name of its first letter (case aside), one look at the byte that
    would follow that name, and a comparison with it if that byte is a "," or whitespace.
    """

    def __init__(self, names: HeaderNames) -> None:
        # The scan indexes the tables by a byte, and walks `names` by the offsets and lengths
        # it holds: all of it checked here, once, so that it never reads past them.
        if len(names.lower) != 256 or len(names.stripped) != 256:
            raise ValueError("HeaderNames: `lower` and `stripped` must have 256 entries")
        _check_name_table(names.names, names.starts)
        self.lower = names.lower
        self.stripped = names.stripped
        self.names = names.names
        self.starts = names.starts
        self.empty_allowed = names.empty_allowed

    def allows(self, value: bytes) -> cython.bint:
        """Whether every item of `value` is allowed (Starlette's verdict)."""
        data: cython.p_const_uchar = value
        size: cython.Py_ssize_t = len(value)
        stripped: cython.p_const_uchar = self.stripped
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
                end = _end_of_allowed_name(data, start, size, self.lower, stripped, self.names, self.starts)
                if end < 0:
                    return False
            if end == size:
                return True
            start = end + 1


def _offset(table: bytes, at: int) -> int:
    """The 4-byte number at `at` in `table`, in the machine's byte order (see HeaderNames)."""
    return int.from_bytes(table[at : at + 4], sys.byteorder)


def _check_name_table(names: bytes, starts: bytes) -> None:
    """Raise ValueError unless `names` and `starts` are laid out as HeaderNames says."""
    if len(starts) != 257 * 4 or _offset(starts, 0) != 0 or _offset(starts, 256 * 4) != len(names):
        raise ValueError("HeaderNames: `starts` must be 257 offsets into `names`, from 0 to its end")
    for byte in range(256):
        at, end = _offset(starts, byte * 4), _offset(starts, byte * 4 + 4)
        while at < end:
            length = _offset(names, at)
            if length == 0 or at + 4 + length > end or names[at + 4] != byte:
                raise ValueError(f"HeaderNames: the names starting with byte {byte} are not laid out as they must be")
            at += 4 + length


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
    an allowed name, else -1. The item starts with a byte that is neither whitespace nor ",".

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
    at a time, the last ones overlapping those before."""
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
    """_offset, on a C pointer: one load (memcpy, as unaligned reads must be)."""
    offset: cython.uint = 0
    memcpy(cython.address(offset), table + at, 4)
    return offset
