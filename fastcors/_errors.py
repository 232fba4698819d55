"""How fastcors speaks up: the exception for a refused configuration, and its one logger."""

import logging

# Configuration problems, denial explanations and errors of the user's origin function.
logger = logging.getLogger("fastcors")


class CORSConfigError(ValueError):
    """A configuration fastcors refuses (or, with ``strict=True``, warns about)."""


SHOWN_CHARS = 120  # of any value quoted in a message or a log line


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """`value` as a message quotes it: its repr, cut to about `limit` characters.

    Request values are attacker-controlled: repr() keeps them from forging a log line, and the
    cut keeps a huge value from making a huge line (a str says how long it was).
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
