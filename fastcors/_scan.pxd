# The compiled scans' declarations, for _core to call them as C (cimport). _scan.py holds the code.
cimport cython


cpdef unsigned long long memo_hash(bytes key) noexcept


@cython.final
cdef class Pattern:
    cdef bytes scheme
    cdef bytes host
    cdef bint subdomains
    cdef bint any_port
    cdef bytes port
    cpdef bint matches(self, bytes origin) except -1


@cython.final
cdef class RequestedHeaders:
    cdef bytes lower
    cdef bytes stripped
    cdef bytes names
    cdef bytes starts
    cdef bint empty_allowed
    cpdef bint allows(self, bytes value) except -1
