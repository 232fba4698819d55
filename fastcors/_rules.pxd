# The rules' C declarations, for _core to call them as C (cimport). _rules.py holds the code,
# and its docstrings say what each answers.
cimport cython

from fastcors._scan cimport Pattern, RequestedHeaders


@cython.final
cdef class Memo:
    cdef readonly list slots
    cdef bytes last_key
    cdef bint last_verdict
    # -1 is an answer (no verdict): an error is -2, so no PyErr_Occurred() call after each one.
    cdef inline int recall(self, bytes key) except -2
    cdef remember(self, bytes key, bint verdict)


@cython.final
cdef class OriginRule:
    cdef bint allow_all
    cdef dict answers
    cdef tuple small_answers
    cdef Py_ssize_t longest
    cdef object fallback
    cdef object regex_fullmatch
    cdef readonly Memo regex_verdicts
    cdef bint extended
    cdef tuple patterns
    cdef bytes last_pattern_origin
    cdef object func
    cdef inline object answers_for(self, bytes origin)
    cdef bint regex_allows(self, bytes origin)
    cdef bint extension_allows(self, bytes origin)


@cython.final
cdef class MethodRule:
    cdef frozenset methods
    cdef tuple small
    cdef Py_ssize_t longest
    cdef object fallback
    # An error is -1, so no PyErr_Occurred() call after each answer (as in HeaderRule).
    cdef inline bint allows(self, bytes method) except -1


@cython.final
cdef class HeaderRule:
    cdef RequestedHeaders scan
    cdef readonly Memo verdicts
    cdef inline bint allows(self, bytes requested) except -1


@cython.final
cdef class PathPolicies:
    cdef tuple prefixes
    cdef tuple policies
    cdef int route_path_rule
    cdef object policy_for(self, object scope, object default)
