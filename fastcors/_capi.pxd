# C API functions _core calls as C where Cython's own declarations do not fit (cimport only;
# the uncompiled twin uses the Python equivalent named beside each cimport).

cdef extern from "Python.h":
    # (Cython's cpython/method.pxd still declares the three-argument form of Python 2.)
    object PyMethod_New(object function, object instance)
