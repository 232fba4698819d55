"""The names of the `cython` module that _core uses, for running it uncompiled where Cython
is not installed: decorators return what they decorate, `declare` returns its value, and
the C type names used in annotations are the Python types they hold."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

T = TypeVar("T")

compiled = False

# C types, as the Python values they convert to and from.
bint: TypeAlias = bool
int: TypeAlias = builtins.int  # cython.int
uint: TypeAlias = builtins.int
long: TypeAlias = builtins.int
ulonglong: TypeAlias = builtins.int
Py_ssize_t: TypeAlias = builtins.int
p_const_uchar: TypeAlias = bytes  # a pointer into a bytes object's buffer
p_void: TypeAlias = object  # a borrowed object


def _identity(obj: T) -> T:
    return obj


cclass = final = cfunc = ccall = inline = _identity


def freelist(_size: builtins.int) -> Callable[[T], T]:
    return _identity


def annotation_typing(_enabled: bool) -> Callable[[T], T]:
    return _identity


boundscheck = wraparound = annotation_typing


def exceptval(*_args: Any, **_kwargs: Any) -> Callable[[T], T]:
    return _identity


def cast(_type: Any, value: T) -> T:
    return value


def declare(_type: Any = None, value: Any = None, **_kwargs: Any) -> Any:
    return value
