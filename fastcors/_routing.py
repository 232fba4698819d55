"""Which path `paths=` prefixes are matched against: the path the router matches.

An application served under a prefix (``uvicorn --root-path /api``, a proxy, a Starlette or
FastAPI ``Mount``) gets ``scope["root_path"]`` set, and ``scope["path"]`` with the prefix in it
or not, depending on the server and the Starlette release; its router matches what remains of
the path once the root path is taken off. A policy chosen on the raw path would not be the one
written for the route that answers. How the router derives that path changed between the
Starlette releases fastcors supports; the installed Starlette is the router, so its rule is
used (whatever `starlette_version` the answers follow), and without Starlette the current one.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fastcors._generations import installed_release

# How the route path is derived from the scope, by Starlette release (Policy.for_path derives it).
PATH_AS_GIVEN = 0  # 0.27 to 0.32: routes match scope["path"] (a Mount rewrites it for its app)
ROUTE_PATH_KEY = 1  # 0.33 and 0.34: scope["route_path"] (a Mount sets it), else as ROOT_PATH_REGEX
ROOT_PATH_REGEX = 2  # 0.35 to 0.38: re.sub("^" + root_path, "", path), the root path as a regex
ROOT_PATH_AT_BOUNDARY = 3  # 0.39 on, and without Starlette: the root path where it prefixes the path at a "/"

# The first release of each rule.
_FIRST_RELEASES = ((0, 33), ROUTE_PATH_KEY), ((0, 35), ROOT_PATH_REGEX), ((0, 39), ROOT_PATH_AT_BOUNDARY)
_RELEASE = re.compile(r"(\d+)\.(\d+)")


@functools.cache
def installed_rule() -> int:
    """The rule of the Starlette installed beside fastcors (the newest rule without one)."""
    release = installed_release()
    match = None if release is None else _RELEASE.match(release)
    if match is None:
        return ROOT_PATH_AT_BOUNDARY
    major_minor = (int(match[1]), int(match[2]))
    rule = PATH_AS_GIVEN
    for first, later_rule in _FIRST_RELEASES:
        if major_minor >= first:
            rule = later_rule
    return rule


def regex_route_path(scope: dict[str, Any], rule: int) -> str | None:
    """The route path of the releases that strip the root path with a regex (ROUTE_PATH_KEY and
    ROOT_PATH_REGEX), or None where their router would raise (an odd root path: no route answers)."""
    if rule == ROUTE_PATH_KEY:
        root_path = scope.get("route_root_path", scope.get("root_path", ""))
    else:
        root_path = scope.get("root_path", "")
    if type(root_path) is not str:
        return None
    try:
        stripped = re.sub("^" + root_path, "", scope["path"])
    except re.error:
        return None
    if rule == ROUTE_PATH_KEY:  # (those releases strip first, then look for the key)
        given = scope.get("route_path", stripped)
        return given if type(given) is str else None
    return stripped
