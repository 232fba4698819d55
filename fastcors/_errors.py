"""The one exception fastcors raises for a configuration it refuses."""


class CORSConfigError(ValueError):
    """A configuration fastcors refuses (or, with ``strict=True``, warns about)."""
