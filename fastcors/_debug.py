"""Denial explanations: say at DEBUG why a CORS request was refused, and what would be allowed.

The core calls the explainer only on denial paths, and only when debugging was asked for,
so nothing here costs anything on the normal path. Request values are attacker-controlled:
they are shown with repr() (no forged log lines) and cut to a bounded length.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastcors._config import (
    FAILURE_NAMES,
    HEADERS_FAILURE,
    METHOD_FAILURE,
    ORIGIN_FAILURE,
    PRIVATE_NETWORK_FAILURE,
    WEBSOCKET_FAILURE,
    Config,
    refused_headers,
)
from fastcors._errors import logger, shown
from fastcors._origins import DEFAULT_PORT, PATH, TRAILING_SLASH, browser_origin, shape_flaws

SHOWN_ITEMS = 20  # of any allowed list
# What an allowed origin that differs from the request's only in its shape is told (the first that applies).
NEAR_MISS_HINTS = {
    TRAILING_SLASH: "ends with '/', which browsers never send",
    PATH: "has a path, which browsers never send",
    DEFAULT_PORT: "names the default port, which browsers leave out",
}

Explainer = Callable[[bytes, bytes | None, bytes | None, bytes | None, int], None]


def denial_explainer(config: Config, level: int = logging.DEBUG) -> Explainer:
    """A callable(origin, method, headers, private_network, failures) logging why a request was refused.

    It logs at `level` on the "fastcors" logger: DEBUG when debugging was switched on through
    the logger's level, WARNING with `debug=True` (so it shows without any logging set up).

    `failures` is a bitmask of the *_FAILURE bits of _config. A simple
    (non-preflight) request refused for its origin comes with method, headers and private
    network all None; a refused WebSocket handshake likewise, with WEBSOCKET_FAILURE set.
    """
    allowed_origins = _describe_origins(config)
    allowed_methods = _describe(sorted(_texts(config.methods, config.methods_fallback)))
    if isinstance(config.methods_fallback, str):
        allowed_methods += " (allow_methods is a str, so any substring of it matches)"
    allowed_headers = "any" if config.allow_all_headers else _describe(sorted(config.allowed_headers))

    def explain(
        origin: bytes,
        requested_method: bytes | None,
        requested_headers: bytes | None,
        requested_private_network: bytes | None,
        failures: int,
    ) -> None:
        if not logger.isEnabledFor(level):
            return
        origin_text = _text(origin)
        reasons = []
        if failures & ORIGIN_FAILURE:
            hint = _near_miss(config, origin_text)
            reasons.append(f"origin {shown(origin_text)} is not allowed (allowed: {allowed_origins}){hint}")
        if failures & METHOD_FAILURE:
            reasons.append(
                f"method {shown(_text(requested_method))} is not allowed (allowed: {allowed_methods}; "
                "the comparison is case-sensitive)"
            )
        if failures & HEADERS_FAILURE:
            refused = _refused_headers(config, _text(requested_headers))
            reasons.append(f"request header(s) {', '.join(refused)} not allowed (allowed: {allowed_headers})")
        if failures & PRIVATE_NETWORK_FAILURE:
            reasons.append(
                "the request asks for private network access (Access-Control-Request-Private-Network) "
                "and allow_private_network is False"
            )
        if failures & WEBSOCKET_FAILURE:
            logger.log(level, "CORS: WebSocket handshake refused (403): %s", "; ".join(reasons))
        elif requested_method is None and requested_headers is None and requested_private_network is None:
            logger.log(
                level,
                "CORS: response sent without Access-Control-Allow-Origin (the browser hides it from the page): %s",
                "; ".join(reasons),
            )
        else:
            names = ", ".join(name for bit, name in enumerate(FAILURE_NAMES) if failures & (1 << bit))
            logger.log(level, "CORS: preflight refused (400 Disallowed CORS %s): %s", names, "; ".join(reasons))

    return explain


def _text(value: bytes | None) -> str:
    # Header values are latin-1 on the wire (Starlette decodes them so); keep whatever came.
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _texts(exact: frozenset[bytes] | None, fallback: Any) -> list[str]:
    if exact is not None:
        return [item.decode("latin-1") for item in exact]
    if isinstance(fallback, str):
        return [fallback]
    try:
        return [str(item) for item in fallback]
    except TypeError:
        return [repr(fallback)]


def _describe(items: list[str]) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:SHOWN_ITEMS])
    return shown + (f" and {len(items) - SHOWN_ITEMS} more" if len(items) > SHOWN_ITEMS else "")


def _describe_origins(config: Config) -> str:
    parts = []
    origins = sorted(_texts(config.origins, config.origins_fallback))
    if origins:
        parts.append(_describe([repr(o) for o in origins]))
    if isinstance(config.origins_fallback, str):
        parts[-1] += " (allow_origins is a str, so any substring of it matches)"
    if config.origin_regex is not None:
        parts.append(f"origins matching {config.origin_regex.pattern!r}")
    if config.origin_patterns:
        parts.append("origins matching the patterns " + _describe([repr(p.text) for p in config.origin_patterns]))
    if config.origin_func is not None:
        parts.append("origins allow_origin_func accepts (it refused this one)")
    return " or ".join(parts) if parts else "none"


def _near_miss(config: Config, origin: str) -> str:
    """A hint when an allowed origin names this one, but not as browsers write it."""
    sent = browser_origin(origin)
    if sent != origin.strip().lower():
        return ""  # not an origin as browsers send it: nothing to compare
    for allowed in _texts(config.origins, config.origins_fallback):
        if allowed == origin or browser_origin(allowed) != sent:
            continue
        flaws = shape_flaws(allowed)
        for flaw, hint in NEAR_MISS_HINTS.items():
            if flaw in flaws:
                return f"; the allowed {allowed!r} {hint}"
        return f"; it differs from the allowed {allowed!r} only in case or whitespace"
    return ""


def _refused_headers(config: Config, requested: str) -> list[str]:
    refused = [shown(item.strip()) for item in refused_headers(config.allowed_headers, requested)]
    if len(refused) > SHOWN_ITEMS:
        refused = [*refused[:SHOWN_ITEMS], f"and {len(refused) - SHOWN_ITEMS} more"]
    return refused
