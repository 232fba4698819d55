"""The few names of the `cython` module that _core uses, for running it uncompiled
where Cython is not installed. Decorators do nothing; `declare` returns its value."""

compiled = False


def _identity(obj):
    return obj


cclass = final = cfunc = inline = _identity


def freelist(_size):
    return _identity


def annotation_typing(_enabled):
    return _identity


def declare(_type=None, value=None, **_kwargs):
    return value
