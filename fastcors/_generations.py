"""Starlette's CORS answers by release: the generations fastcors reproduces, and which one is in force.

Releases whose CORSMiddleware answers identically form a generation. What differs between
generations is data here; `_config` turns the generation in force into precomputed bytes
and switches, so following a new Starlette release is a change to this table (and to
`_config` if it brings a new kind of rule), never to the compiled request path.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from dataclasses import dataclass

from fastcors._errors import CORSConfigError, logger

# A preflight's Vary from 1.7 on: every request header the answer depends on.
PREFLIGHT_VARY_ALL = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


@dataclass(frozen=True)
class Generation:
    """How the Starlette releases from `first` up to the next generation answer, where releases differ."""

    first: tuple[int, int]  # the first release of the generation, (major, minor)
    last: tuple[int, int]  # the last release of it that was checked
    # What allow_methods=["*"] stands for.
    all_methods: tuple[str, ...]
    # Whether `allow_private_network` exists (before it, Access-Control-Request-Private-Network
    # is ignored and passing the argument is a TypeError).
    private_network: bool
    # With allow_origins=["*"], what makes the response name the request's origin instead of
    # `*`: a `cookie` request header, or allow_credentials.
    wildcard_reflects_on: str  # "cookie" or "credentials"
    # Whether every response gets `Vary: Origin` (requests without an Origin, refused origins
    # and `*` answers too); before, only responses naming the origin do, and requests without
    # an Origin pass through untouched.
    vary_on_every_response: bool
    # Whether merging `Origin` into an app's `vary` joins all its vary headers, or the first only.
    vary_joins_every_value: bool
    # A preflight's Vary, and whether it is sent with a `*` answer too (else only with the origin).
    preflight_vary: str
    preflight_vary_on_wildcard: bool

    @property
    def name(self) -> str:
        return f"{self.first[0]}.{self.first[1]}"

    @property
    def releases(self) -> str:
        return f"{self.first[0]}.{self.first[1]} to {self.last[0]}.{self.last[1]}"


_BEFORE_1_7 = {
    "all_methods": METHODS,
    "vary_on_every_response": False,
    "vary_joins_every_value": False,
    "preflight_vary": "Origin",
    "preflight_vary_on_wildcard": False,
}
GENERATIONS = (
    Generation(first=(0, 27), last=(0, 50), private_network=False, wildcard_reflects_on="cookie", **_BEFORE_1_7),
    Generation(first=(0, 51), last=(0, 52), private_network=True, wildcard_reflects_on="cookie", **_BEFORE_1_7),
    Generation(first=(1, 0), last=(1, 6), private_network=True, wildcard_reflects_on="credentials", **_BEFORE_1_7),
    Generation(
        first=(1, 7),
        last=(1, 10),
        all_methods=(*METHODS, "QUERY"),
        private_network=True,
        wildcard_reflects_on="credentials",
        vary_on_every_response=True,
        vary_joins_every_value=True,
        preflight_vary=PREFLIGHT_VARY_ALL,
        preflight_vary_on_wildcard=True,
    ),
)
NEWEST = GENERATIONS[-1]

INSTALLED = "installed"
NEWEST_NAME = "newest"
_RELEASE = re.compile(r"(\d+)\.(\d+)(\.\d+)*((a|b|rc|\.post|\.dev)\d*)*")


def generation(starlette_version: object) -> Generation:
    """The generation `starlette_version` asks for: "installed", "newest", or a release ("0.46.2", "1.6")."""
    if type(starlette_version) is str:
        if starlette_version == INSTALLED:
            release = installed_release()
            return NEWEST if release is None else _generation_of(release, "the installed Starlette")
        if starlette_version == NEWEST_NAME:
            return NEWEST
        if _RELEASE.fullmatch(starlette_version):
            return _generation_of(starlette_version, "starlette_version")
    raise CORSConfigError(
        f"starlette_version must be {INSTALLED!r} (answer as the Starlette installed beside fastcors), "
        f"{NEWEST_NAME!r}, or a Starlette release from {GENERATIONS[0].name} on such as '0.46.2' or '1.6', "
        f"not {starlette_version!r}"
    )


@functools.cache
def installed_release() -> str | None:
    """The installed Starlette's version, from its distribution metadata (Starlette is not imported)."""
    try:
        return importlib.metadata.version("starlette")
    except importlib.metadata.PackageNotFoundError:
        return None


def _generation_of(release: str, source: str) -> Generation:
    match = _RELEASE.match(release)
    if match is None:  # a local build with an odd version string: the newest is the best guess
        _newer_than_known(release, source)
        return NEWEST
    major_minor = (int(match[1]), int(match[2]))
    if major_minor < GENERATIONS[0].first:
        raise CORSConfigError(
            f"{source} is Starlette {release}; fastcors reproduces Starlette {GENERATIONS[0].name} and later. "
            f"Upgrade Starlette, or pass starlette_version={NEWEST_NAME!r} to answer as the newest release"
        )
    if major_minor > NEWEST.last:
        _newer_than_known(release, source)
    return [g for g in GENERATIONS if g.first <= major_minor][-1]


@functools.cache
def _newer_than_known(release: str, source: str) -> None:
    # Cached: said once per release, however many middlewares are built.
    logger.warning(
        "%s is Starlette %s, newer than any release fastcors knows (%s); answering as Starlette %s",
        source,
        release,
        ".".join(map(str, NEWEST.last)),
        NEWEST.releases,
    )
