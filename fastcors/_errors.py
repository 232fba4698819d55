"""How fastcors speaks up: the exception for a refused configuration, and its one logger."""

import logging

# Configuration problems, denial explanations and errors of the user's origin function.
logger = logging.getLogger("fastcors")


class CORSConfigError(ValueError):
    """A configuration fastcors refuses (or, with ``strict=True``, warns about)."""
