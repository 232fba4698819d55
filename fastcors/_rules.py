"""The rules a request is judged by: which origins, methods and requested headers a policy
allows, which policy a path falls under, and the memo that remembers verdicts.

Compiled (declared in _rules.pxd, cimported by _core) or run as plain Python by the
uncompiled twin (see _loader), from this one source. Each rule is built from the Config
that _config made and answers one question; Preflight, SimpleAnswers and WebSocketGuard in
_core ask them.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Coroutine
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type checkers see the shim's plain decorators and type names, not Any
    from fastcors import _cython_shim as cython
else:
    try:
        import cython
    except ImportError:  # pure-Python install without Cython: the decorators are no-ops
        from fastcors import _cython_shim as cython
if cython.compiled:  # the byte scans in C, reading the bytes in place (see _scan)
    from cython.cimports.fastcors._scan import Pattern, RequestedHeaders, memo_hash  # type: ignore[import-not-found]
else:  # the same rules in Python
    from fastcors._reference import Pattern, RequestedHeaders, memo_hash

from fastcors._config import ANY_ORIGIN, UNLISTED_ORIGIN, Config
from fastcors._errors import logger, shown
from fastcors._routing import PATH_AS_GIVEN, ROOT_PATH_AT_BOUNDARY, regex_route_path

# OriginRule.answers_for's answers for an allowed origin without ready answers (see _config),
# as C constants.
_ANY_ORIGIN = cython.declare(object, ANY_ORIGIN)
_UNLISTED_ORIGIN = cython.declare(object, UNLISTED_ORIGIN)
# Whether this interpreter has a GIL (a free-threaded build has none, whether or not it
# turns one on at run time).
_WITH_GIL = cython.declare(cython.bint, not sysconfig.get_config_var("Py_GIL_DISABLED"))


@cython.cfunc
@cython.inline
def _find(pairs: tuple, key: bytes) -> object:
    """The value of the pair whose first item equals `key`, or None: no hash of a fresh key."""
    i: cython.Py_ssize_t
    for i in range(0, len(pairs), 2):  # (key, value, key, value, ...)
        item: bytes = pairs[i]
        if item == key:  # (compiled: the lengths first, then the bytes)
            return pairs[i + 1]
    return None


# ---- Memo: verdicts remembered per request value --------------------------------------------
# Request headers are attacker-controlled: a memo holds at most MEMO_SLOTS keys, each of at most
# MEMO_KEY_BYTES, so it can neither grow nor hoard large values.
MEMO_SLOTS = 1024  # a power of two
MEMO_KEY_BYTES = 256
_MEMO_KEY_BYTES = cython.declare(cython.Py_ssize_t, MEMO_KEY_BYTES)
_MEMO_HALF = cython.declare(cython.Py_ssize_t, MEMO_SLOTS // 2)  # allowed keys, then refused ones
_MEMO_SHIFT = cython.declare(cython.int, 64 - (MEMO_SLOTS // 2 - 1).bit_length())


@cython.cfunc
@cython.inline
def _memo_slot(key: bytes) -> cython.Py_ssize_t:
    """The first of `key`'s pair of slots in a memo's allowed half (its pair in the refused half
    is _MEMO_HALF further on), or -1 if it is too long to remember."""
    if len(key) > _MEMO_KEY_BYTES:
        return -1
    return (memo_hash(key) >> _MEMO_SHIFT) & ~1


@cython.cfunc
@cython.inline
def _holds(slots: list, slot: cython.Py_ssize_t, key: bytes) -> cython.bint:
    """Whether the pair of slots at `slot` holds `key` (a pair fills from its first slot)."""
    stored = slots[slot]
    if stored is None:
        return False
    first: bytes = stored
    if first == key:
        return True
    stored = slots[slot + 1]
    if stored is None:
        return False
    second: bytes = stored
    return second == key


@cython.final
@cython.cclass
class Memo:
    """Verdicts (True or False) remembered per key, in MEMO_SLOTS fixed slots.

    A lookup compares four keys at most and a store replaces one slot: a memo costs the same
    whatever arrives, with nothing to allocate, grow, evict or clear. A key stands in the half
    of its verdict, so threads sharing a memo, even without a GIL, may lose a verdict but never
    read a wrong one, and refused keys, however many, never displace allowed ones. (Slots are
    read with bounds checks on: unchecked, Cython reads a list's item as a borrowed reference,
    which another thread's store could free on a free-threaded build.)

    With a GIL, the last key seen twice is also kept beside its verdict, and compared without
    hashing it (a client sends the same value request after request): nothing else runs
    between reading or writing those two fields. Without one, another thread's store could
    free the key read here, so it is not kept.
    """

    slots: list  # (readable from Python, as the pxd says)
    last_key: bytes
    last_verdict: cython.bint

    def __init__(self) -> None:
        self.slots = [None] * MEMO_SLOTS
        self.last_key = None
        self.last_verdict = False

    def recall(self, key: bytes) -> cython.int:
        """The verdict remembered for `key`: 1 allowed, 0 refused, or -1 if there is none."""
        last: bytes = self.last_key
        if last is not None and last == key:
            return self.last_verdict
        slot: cython.Py_ssize_t = _memo_slot(key)
        if slot < 0:
            return -1
        verdict: cython.int = -1
        if _holds(self.slots, slot, key):
            verdict = 1
        elif _holds(self.slots, slot + _MEMO_HALF, key):
            verdict = 0
        if verdict >= 0 and _WITH_GIL:  # seen twice: worth keeping (new values never get here)
            self.last_key = key
            self.last_verdict = verdict
        return verdict

    def remember(self, key: bytes, verdict: cython.bint) -> None:
        slot: cython.Py_ssize_t = _memo_slot(key)
        if slot < 0:
            return
        if not verdict:
            slot += _MEMO_HALF
        # The newest key first, the one it displaces second: two keys sharing a pair, as hot
        # keys now and then do, both stay.
        self.slots[slot + 1] = self.slots[slot]
        self.slots[slot] = key

    # Python's view of the memo, for tests (the request path calls recall and remember as C).
    def known(self, key: bytes) -> bool | None:
        """The verdict remembered for `key`, or None."""
        verdict = self.recall(key)
        return None if verdict < 0 else verdict == 1

    def learn(self, key: bytes, verdict: bool) -> None:
        """Remember `verdict` for `key`."""
        self.remember(key, verdict)

    def __len__(self) -> int:
        """How many keys are remembered."""
        return sum(key is not None for key in self.slots)


# ---- Origins ---------------------------------------------------------------------------------
@cython.final
@cython.cclass
class OriginRule:
    """Whether an origin is allowed: Starlette's rules (`*`, the exact set, the regex), then
    fastcors' own (patterns, the origin function), asked only once Starlette's have refused."""

    allow_all: cython.bint
    answers: dict  # the exact set's origins (bytes), each with its ready answers (see _config)
    small_answers: tuple  # the same, flat, when there are few (or None)
    longest: cython.Py_ssize_t  # a longer origin is refused without being hashed
    fallback: object  # the exact set as the user gave it, when it is not plain str (or None)
    regex_fullmatch: object  # allow_origin_regex's fullmatch (or None)
    regex_verdicts: Memo  # (readable from Python)
    extended: cython.bint  # whether patterns or a function may allow more
    patterns: tuple  # of Pattern
    last_pattern_origin: bytes  # the last origin a pattern allowed (with a GIL, as in Memo)
    func: object  # allow_origin_func (never cached: the docs promise it is asked every time)

    def __init__(self, config: Config) -> None:
        self.allow_all = config.allow_all_origins
        self.answers = config.origin_answers
        self.small_answers = config.small_origin_answers
        self.longest = config.longest_origin
        fallback = config.origins_fallback  # (asked only where the exact set could not be made)
        self.fallback = fallback if config.origins is None else None
        self.regex_fullmatch = None if config.origin_regex is None else config.origin_regex.fullmatch
        self.regex_verdicts = Memo()
        self.extended = config.origin_extended
        self.patterns = tuple(Pattern(pattern) for pattern in config.origin_patterns)
        self.last_pattern_origin = None
        self.func = config.origin_func

    def answers_for(self, origin: bytes) -> object:
        """The exact set's ready answers for `origin`, ANY_ORIGIN, UNLISTED_ORIGIN, or None
        when it is refused."""
        if self.allow_all:
            return _ANY_ORIGIN
        answers = None
        if self.small_answers is not None:  # compiled, a few comparisons cost less than a hash
            answers = _find(self.small_answers, origin)
        elif len(origin) <= self.longest:  # (covers an empty dict)
            answers = self.answers.get(origin)
        if answers is not None:
            return answers
        if self.regex_fullmatch is not None and self.regex_allows(origin):
            return _UNLISTED_ORIGIN
        if self.fallback is not None and origin.decode("latin-1") in self.fallback:
            return _UNLISTED_ORIGIN
        if self.extended and self.extension_allows(origin):
            return _UNLISTED_ORIGIN
        return None

    def ask(self, origin: bytes) -> object:
        """answers_for, from Python (for tests: the request path calls it as C)."""
        return self.answers_for(origin)

    def regex_allows(self, origin: bytes) -> cython.bint:
        verdict: cython.int = self.regex_verdicts.recall(origin)
        if verdict < 0:
            verdict = self.regex_fullmatch(origin.decode("latin-1")) is not None
            self.regex_verdicts.remember(origin, verdict)
        return verdict == 1

    def extension_allows(self, origin: bytes) -> cython.bint:
        last: bytes = self.last_pattern_origin
        if last is not None and last == origin:
            return True
        pattern: Pattern
        for pattern in self.patterns:
            if pattern.matches(origin):
                if _WITH_GIL:
                    self.last_pattern_origin = origin
                return True
        return self.func is not None and _ask_origin_func(self.func, origin)


@cython.cfunc
def _ask_origin_func(func: object, origin: bytes) -> cython.bint:
    # The user's code: whatever it does, the answer is a clean allow or deny, never a 500.
    text = origin.decode("latin-1")
    try:
        verdict = func(text)
    except Exception:
        logger.error("allow_origin_func raised for the origin %s; refused", shown(text), exc_info=True)
        return False
    if verdict is True:
        return True
    if verdict is not False:
        if isinstance(verdict, Coroutine):
            verdict.close()  # an un-awaited coroutine would warn later, far from here
        logger.error(
            "allow_origin_func returned a %s for the origin %s, not True or False; refused",
            type(verdict).__name__,
            shown(text),
        )
    return False


# ---- Methods and requested headers -----------------------------------------------------------
@cython.final
@cython.cclass
class MethodRule:
    """Whether a preflight's requested method is allowed."""

    methods: frozenset  # the allowed methods as bytes, or None (then `fallback`, as given)
    small: tuple  # the same when there are few (or None)
    longest: cython.Py_ssize_t  # a longer method is refused without being hashed
    fallback: object

    def __init__(self, config: Config) -> None:
        self.methods = config.methods
        self.small = config.small_methods
        self.longest = config.longest_method
        self.fallback = config.methods_fallback

    def allows(self, method: bytes) -> cython.bint:
        if self.small is not None:  # compiled, a few comparisons cost less than a hash
            allowed: bytes
            for allowed in self.small:  # noqa: SIM110 (any() would make a generator)
                if allowed == method:
                    return True
            return False
        if self.methods is not None:
            return len(method) <= self.longest and method in self.methods
        return method.decode("latin-1") in self.fallback

    def ask(self, method: bytes) -> bool:
        """allows, from Python (for tests)."""
        return self.allows(method)


@cython.final
@cython.cclass
class HeaderRule:
    """Whether every item of an Access-Control-Request-Headers value is allowed."""

    scan: RequestedHeaders
    verdicts: Memo  # (readable from Python)

    def __init__(self, config: Config) -> None:
        self.scan = RequestedHeaders(config.header_names)
        self.verdicts = Memo()

    def allows(self, requested: bytes) -> cython.bint:
        if len(requested) > _MEMO_KEY_BYTES:  # too long to remember: not looked up either
            return self.scan.allows(requested)
        verdict: cython.int = self.verdicts.recall(requested)
        if verdict < 0:
            verdict = self.scan.allows(requested)
            self.verdicts.remember(requested, verdict)
        return verdict == 1

    def ask(self, requested: bytes) -> bool:
        """allows, from Python (for tests)."""
        return self.allows(requested)


# ---- Paths ------------------------------------------------------------------------------------
@cython.final
@cython.cclass
class PathPolicies:
    """The policies of `paths`, longest prefix first, matched against the route path."""

    prefixes: tuple  # of str
    policies: tuple  # each prefix's Policy (see _core), or None for no CORS handling
    route_path_rule: cython.int  # how the route path is derived (see _routing)

    def __init__(self, config: Config, policies: tuple) -> None:
        self.prefixes = tuple(prefix for prefix, _ in config.paths)
        self.policies = policies  # (built by Policy, from config.paths' configurations)
        self.route_path_rule = config.route_path_rule

    def policy_for(self, scope: object, default: object) -> object:
        """The policy of the longest prefix the request's route path falls under: a Policy,
        None for no CORS handling, or `default` when none matches.

        The route path is the path the router matches (see _routing): here the scope's path
        from `start` on, as most releases only take the root path off its front.
        """
        if type(scope) is not dict:
            return default
        fields: dict = scope
        path = fields.get("path")  # (None in a lifespan scope)
        if type(path) is not str:
            return default
        start: cython.Py_ssize_t = 0
        if self.route_path_rule == ROOT_PATH_AT_BOUNDARY:
            start = _route_start(path, fields.get("root_path"))
        elif self.route_path_rule != PATH_AS_GIVEN:
            path = regex_route_path(fields, self.route_path_rule)
            if path is None:  # where that release's router raises, no route answers
                return default
        text: str = path
        size: cython.Py_ssize_t = len(text) - start
        length: cython.Py_ssize_t
        i: cython.Py_ssize_t
        for i in range(len(self.prefixes)):
            prefix: str = self.prefixes[i]
            length = len(prefix)
            if length == 1:  # "/" (the shortest, so the last): every path
                return self.policies[i]
            # `prefix` itself, or below it: the length and the boundary first (cheap in C). A
            # final newline counts as the end: Starlette's route regexes end in `$`, which matches
            # before one, so its /admin route answers "/admin\n" (a client's "/admin%0A").
            if length > size or (
                length < size
                and text[start + length] != "/"
                and not (length == size - 1 and text[start + length] == "\n")
            ):
                continue
            if text.startswith(prefix, start):
                return self.policies[i]
        return default

    def ask(self, scope: object) -> object:
        """policy_for, from Python (for tests): `...` where no prefix matches."""
        return self.policy_for(scope, ...)


@cython.cfunc
@cython.inline
def _route_start(path: str, root_path: object) -> cython.Py_ssize_t:
    """Where the route path starts in `path` under ROOT_PATH_AT_BOUNDARY (see _routing): after
    `root_path` where it prefixes `path` at a "/" boundary or is all of it, else at 0."""
    if type(root_path) is not str:
        return 0
    root: str = root_path
    size: cython.Py_ssize_t = len(root)
    if size == 0 or size > len(path) or not path.startswith(root):
        return 0
    return size if size == len(path) or path[size] == "/" else 0

