"""What an origin regex means, read from the parse trees of Python's `re`.

Three questions, asked at configuration time only: which strings a pattern is meant to match
(`example_matches`), whether matching it can take time growing faster than linearly with the
length of the text (`find_backtracking`), and how to write it so that it cannot
(`unambiguous_rewrite`).

`re` has no public parse tree. Its private parser (`re._parser`, `sre_parse` before 3.11) is
the only way to see a pattern's structure, and its tree is what the engine runs: it already
turns `a|b` into `[ab]` and factors common prefixes out of alternatives, so the analysis
judges the pattern the engine really runs, not the text as written. Everything here is best
effort: a construct it does not know gives up (no examples, no finding) instead of raising.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

try:  # the regex parser: private, but the only way to see a pattern's literal structure
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_constants as _sre_constants
    import sre_parse as _sre_parse

MAXREPEAT = _sre_constants.MAXREPEAT


# ---------------------------------------------------------------------------- example matches


def example_matches(pattern: str, limit: int = 32) -> list[str]:
    """Strings the pattern is meant to match, built from its parse tree (best effort, may be empty).

    Alternatives are all tried; a repeat is taken at its minimum and at least once; `.` stands
    for itself (an unescaped dot in a host is usually meant literally).
    """
    try:
        return sorted(_expand(list(_sre_parse.parse(pattern)), limit))[:limit]
    except (Unsupported, RecursionError):  # an exotic construct, or nesting too deep: the literal fallback remains
        return []


def _expand(items: list[Any], limit: int) -> set[str]:
    results = {""}
    for op, arg in items:
        results = {head + tail for head in results for tail in _expand_one(str(op), arg, limit)}
        if len(results) > limit:
            results = set(sorted(results)[:limit])
    return results


def _expand_one(op: str, arg: Any, limit: int) -> set[str]:
    if op == "LITERAL":
        return {chr(arg)}
    if op == "NOT_LITERAL":
        return {"b" if chr(arg) == "a" else "a"}
    if op == "ANY":
        return {"."}
    if op == "IN":
        return {_class_member(arg)}
    if op == "BRANCH":
        return set().union(*(_expand(list(alt), limit) for alt in arg[1]))
    if op == "SUBPATTERN":
        return _expand(list(arg[-1]), limit)
    if op == "ATOMIC_GROUP":
        return _expand(list(arg), limit)
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = arg
        once = _expand(list(body), limit)
        out = set()
        for count in {low, max(low, 1) if high >= 1 else low}:
            parts = {""}
            for _ in range(min(count, 8)):
                parts = {head + tail for head in parts for tail in once}
            out |= parts
        return out
    if op == "GROUPREF_EXISTS":
        _, yes, no = arg
        return _expand(list(yes), limit) | _expand(list(no) if no else [], limit)
    if op in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
        return {""}
    raise Unsupported(op)


def _class_member(items: list[Any]) -> str:
    """A character in the class [items], preferring its first listed one."""
    negated = any(str(op) == "NEGATE" for op, _ in items)
    if not negated:
        for op, arg in items:
            if str(op) == "LITERAL":
                return chr(arg)
            if str(op) == "RANGE":
                return chr(arg[0])
    listed = _class_mask(items, 0)  # (which characters the class lists, as the automaton sees them)
    for ch in "a0-.x_":
        if bool(listed >> ord(ch) & 1) != negated:
            return ch
    return "a"


# ---------------------------------------------------------------------------- character sets
#
# An Origin header reaches the regex as latin-1 text (Starlette decodes header bytes so), so
# the characters an attacker can send are exactly U+0000..U+00FF: a character set is an int,
# one bit per character.

ALPHABET = 256
ALL = (1 << ALPHABET) - 1
_CATEGORY_ESCAPES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
}
# What a header value can hold besides (no control characters), for a text's last character.
_HEADER_CHARACTERS = [chr(code) for code in range(0x20, ALPHABET) if chr(code).isprintable()]
# Preferred characters when a witness string needs one of a set: readable ones first.
_READABLE = [ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789-._:/"] + list(range(ALPHABET))


class Unsupported(Exception):
    """A construct the analysis does not model; the pattern is then not judged."""


@functools.cache
def _category_mask(name: str, ascii_only: bool) -> int:
    escape = _CATEGORY_ESCAPES.get(name)
    if escape is None:
        raise Unsupported(name)
    compiled = re.compile(escape, re.ASCII if ascii_only else 0)
    return sum(1 << c for c in range(ALPHABET) if compiled.fullmatch(chr(c)))


def _bit(code: int) -> int:
    return 1 << code if code < ALPHABET else 0


def _fold_case(mask: int) -> int:
    folded = mask
    for code in range(ALPHABET):
        if mask >> code & 1:
            for variant in (chr(code).lower(), chr(code).upper()):
                if len(variant) == 1:
                    folded |= _bit(ord(variant))
    return folded


def char_mask(op: str, arg: Any, flags: int) -> int:
    """The latin-1 characters one character-consuming node (LITERAL, NOT_LITERAL, ANY, IN) matches."""
    if op == "ANY":
        return ALL if flags & re.DOTALL else ALL & ~_bit(ord("\n"))
    if op in ("LITERAL", "NOT_LITERAL"):
        mask, negated = _bit(arg), op == "NOT_LITERAL"
    elif op == "IN":
        mask, negated = _class_mask(arg, flags), any(str(item_op) == "NEGATE" for item_op, _ in arg)
    else:
        raise Unsupported(op)
    if flags & re.IGNORECASE:
        mask = _fold_case(mask)
    return ALL & ~mask if negated else mask


def _class_mask(items: list[Any], flags: int) -> int:
    """The characters a class lists (before any negation)."""
    mask = 0
    for item_op, item in items:
        name = str(item_op)
        if name == "LITERAL":
            mask |= _bit(item)
        elif name == "RANGE":
            low, high = item
            mask |= sum(1 << c for c in range(low, min(high, ALPHABET - 1) + 1))
        elif name == "CATEGORY":
            mask |= _category_mask(str(item), bool(flags & re.ASCII))
        elif name != "NEGATE":
            raise Unsupported(name)
    return mask


def _member(mask: int) -> str:
    """A readable character of a non-empty set."""
    return chr(next(code for code in _READABLE if mask >> code & 1))


# ---------------------------------------------------------------------------- the automaton
#
# A position automaton (Glushkov's): one state per character-consuming node of the tree, an
# edge p -> q when q can consume the character right after p, plus state 0 before the first
# character. There are no empty moves, so every way the backtracking engine can consume a
# text is a path. Edges count their ways (capped at 2: only "more than one" matters), since
# the engine tries `a(?:|)` -- what `re` makes of `a|a` -- twice over the same path.

EXPAND_REPEATS_UP_TO = 6  # {n,m} up to this m is written out; above it, it is taken as unbounded
LARGE_REPEAT = 100  # above this m, a bounded repeat counts as unbounded for polynomial growth
MAX_STATES = 400  # past this many positions the pattern is not judged (config-time budget)
MAX_PAIRS = 60_000  # search budget of the ambiguity search, in pairs or triples of states


class _Fragment(NamedTuple):
    empty: int  # ways of matching the empty string (0, 1, 2)
    first: dict[int, int]  # position -> ways of starting there
    last: dict[int, int]  # position -> ways of ending there


_EMPTY = _Fragment(1, {}, {})


def _add(counts: dict[int, int], key: int, ways: int) -> None:
    if ways:
        counts[key] = min(2, counts.get(key, 0) + ways)


def _scaled(counts: dict[int, int], ways: int) -> dict[int, int]:
    return {key: min(2, value * ways) for key, value in counts.items()} if ways else {}


def _merged(*parts: dict[int, int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in parts:
        for key, ways in part.items():
            _add(out, key, ways)
    return out


class Automaton:
    """The position automaton of a parsed pattern; `masks[p]` is what position p consumes."""

    def __init__(self, items: Iterable[Any], flags: int) -> None:
        self.masks: list[int] = [0]
        self.follow: list[dict[int, int]] = [{}]
        # Edges that close a loop of an unbounded (or very large) repeat.
        self.unbounded_loops: set[tuple[int, int]] = set()
        whole = self._sequence(list(items), flags)
        self._link({0: 1}, whole.first)
        self.accepting = set(whole.last) | ({0} if whole.empty else set())

    def _position(self, mask: int) -> _Fragment:
        if len(self.masks) >= MAX_STATES:
            raise Unsupported("too many positions")
        self.masks.append(mask)
        self.follow.append({})
        state = len(self.masks) - 1
        return _Fragment(0, {state: 1}, {state: 1}) if mask else _Fragment(0, {}, {})

    def _link(self, last: dict[int, int], first: dict[int, int], unbounded: bool = False) -> None:
        for p, ways_p in last.items():
            for q, ways_q in first.items():
                _add(self.follow[p], q, ways_p * ways_q)
                if unbounded:
                    self.unbounded_loops.add((p, q))

    def _concat(self, a: _Fragment, b: _Fragment) -> _Fragment:
        self._link(a.last, b.first)
        return _Fragment(
            min(2, a.empty * b.empty),
            _merged(a.first, _scaled(b.first, a.empty)),
            _merged(b.last, _scaled(a.last, b.empty)),
        )

    def _sequence(self, items: list[Any], flags: int) -> _Fragment:
        result = _EMPTY
        for op, arg in items:
            result = self._concat(result, self._node(str(op), arg, flags))
        return result

    def _node(self, op: str, arg: Any, flags: int) -> _Fragment:
        if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return self._position(char_mask(op, arg, flags))
        if op == "SUBPATTERN":
            _, add_flags, del_flags, body = arg
            return self._sequence(list(body), (flags | add_flags) & ~del_flags)
        if op == "BRANCH":
            branches = [self._sequence(list(alt), flags) for alt in arg[1]]
            return _Fragment(
                min(2, sum(b.empty for b in branches)),
                _merged(*(b.first for b in branches)),
                _merged(*(b.last for b in branches)),
            )
        if op == "GROUPREF_EXISTS":
            _, yes, no = arg
            yes_part, no_part = self._sequence(list(yes), flags), self._sequence(list(no or []), flags)
            return _Fragment(
                min(2, yes_part.empty + no_part.empty),
                _merged(yes_part.first, no_part.first),
                _merged(yes_part.last, no_part.last),
            )
        if op == "ATOMIC_GROUP":  # taken as backtracking (a possible false alarm, never a miss)
            return self._sequence(list(arg), flags)
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = arg
            return self._repeat(low, high, lambda: self._sequence(list(body), flags))
        if op in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):  # consume nothing (lookarounds: an approximation)
            return _EMPTY
        raise Unsupported(op)

    def _repeat(self, low: int, high: int, body: Callable[[], _Fragment]) -> _Fragment:
        if high == 0:
            return _EMPTY
        if high <= EXPAND_REPEATS_UP_TO:
            # x{2,4} as x x (x x?)?: each copy its own positions, one way per count.
            result = _EMPTY
            for _ in range(low):
                result = self._concat(result, body())
            optional = _EMPTY
            for _ in range(high - low):
                optional = self._concat(body(), optional)
                optional = optional._replace(empty=min(2, optional.empty + 1))
            return self._concat(result, optional)
        # Unbounded, or bounded too high to write out: at most two copies, the last one looping
        # (for ambiguity, x{5,} behaves as x{2,}).
        copies = [body() for _ in range(min(max(low, 1), 2))]
        loop = copies[-1]
        self._link(loop.last, loop.first, unbounded=high == MAXREPEAT or high > LARGE_REPEAT)
        result = _EMPTY
        for copy in copies:
            result = self._concat(result, copy)
        if low == 0:
            result = result._replace(empty=min(2, result.empty + 1))
        return result


def automaton(pattern: str, flags: int = 0) -> Automaton:
    """The position automaton of `pattern`; raises Unsupported for what it does not model."""
    parsed = _sre_parse.parse(pattern, flags)
    return Automaton(list(parsed), parsed.state.flags)


# ---------------------------------------------------------------------------- backtracking


@dataclass(frozen=True)
class Backtracking:
    """A text on which matching takes super-linear time: `prefix + pump * n + suffix`.

    With `exponential`, each added `pump` multiplies the matching time (two ways, at least, of
    consuming each repetition); otherwise the time grows as a power of n (quadratic or more).
    """

    exponential: bool
    prefix: str
    pump: str
    suffix: str

    def text(self, repeats: int) -> str:
        return self.prefix + self.pump * repeats + self.suffix


def find_backtracking(pattern: str, flags: int = 0) -> Backtracking | None:
    """A text that makes `re.fullmatch(pattern, text)` backtrack super-linearly, or None.

    None too for a pattern the analysis does not model (it never raises on a valid pattern).
    """
    try:
        nfa = automaton(pattern, flags)
        compiled = re.compile(pattern, flags)
        found = _exponential(nfa)
        exponential = found is not None
        if found is None:
            found = _polynomial(nfa)
        if found is None:
            return None
        prefix, pump = found
    except (Unsupported, RecursionError, re.error):
        return None
    suffix = _failing_suffix(compiled, prefix, pump)
    return None if suffix is None else Backtracking(exponential, prefix, pump, suffix)


def _failing_suffix(compiled: re.Pattern[str], prefix: str, pump: str) -> str | None:
    """What to append so that the whole text fails to match, forcing every path to be tried."""
    for suffix in ("!", "", *_HEADER_CHARACTERS):
        if not any(compiled.fullmatch(prefix + pump * n + suffix) for n in (1, 2)):
            return suffix
    return None  # every such text matches: the engine stops at its first success


Pair = tuple[int, int]


def _pair_graph(nfa: Automaton) -> tuple[dict[Pair, dict[Pair, str]], set[tuple[Pair, Pair]]]:
    """The automaton run twice on the same text: pairs of states, from (0, 0).

    Returns each pair's successors (with a character leading there) and the edges between
    equal pairs that can be taken two ways.
    """
    graph: dict[Pair, dict[Pair, str]] = {}
    twofold: set[tuple[Pair, Pair]] = set()
    todo = deque([(0, 0)])
    graph[(0, 0)] = {}
    while todo:
        node = todo.popleft()
        p, q = node
        out = graph[node]
        for p2, ways in nfa.follow[p].items():
            for q2 in nfa.follow[q]:
                common = nfa.masks[p2] & nfa.masks[q2]
                if not common or (p == q and q2 < p2):
                    continue
                target = (min(p2, q2), max(p2, q2))
                out.setdefault(target, _member(common))
                if p == q and p2 == q2 and ways > 1:
                    twofold.add((node, target))
                if target not in graph:
                    if len(graph) >= MAX_PAIRS:
                        raise Unsupported("search budget")
                    graph[target] = {}
                    todo.append(target)
    return graph, twofold


def _exponential(nfa: Automaton) -> tuple[str, str] | None:
    """(prefix, pump) where the pump leads from a state back to it along two different paths."""
    graph, twofold = _pair_graph(nfa)
    for component in _components(graph):
        diagonal = [node for node in component if node[0] == node[1]]
        if not diagonal:
            continue
        home = diagonal[0]
        inside = {node: {t: c for t, c in graph[node].items() if t in component} for node in component}
        off = [node for node in component if node[0] != node[1]]
        if off:
            pump = _path(inside, home, off[0]) + _path(inside, off[0], home)
        else:
            split = next(((a, b) for a, b in twofold if a in component and b in component), None)
            if split is None:
                continue
            a, b = split
            pump = _path(inside, home, a) + graph[a][b] + _path(inside, b, home)
        return _path(graph, (0, 0), home), pump
    return None


def _polynomial(nfa: Automaton) -> tuple[str, str] | None:
    """(prefix, pump) where the pump loops at p, leads p to q and loops at q (p != q), both loops
    of unbounded repeats: n pumps then give about n**2 ways to fail."""
    loops = _unbounded_loops(nfa)
    reach = _reachable_sets(nfa)
    budget = [MAX_PAIRS]
    for p in sorted(loops):
        for q in sorted(loops):
            if p == q or q not in reach[p]:
                continue
            # The pump's three paths: around p's loop, from p to q, around q's loop.
            between = {s for s in reach[p] if q in reach[s]}
            pump = _triple_path(nfa, (p, p, q), (p, q, q), (loops[p], between, loops[q]), budget)
            if pump:
                return _path(_state_graph(nfa), 0, p), pump
    return None


def _unbounded_loops(nfa: Automaton) -> dict[int, set[int]]:
    """Each state on a loop of an unbounded repeat -> the states of that loop (its component)."""
    loops: dict[int, set[int]] = {}
    for component in _components(_state_graph(nfa)):
        if any(p in component and q in component for p, q in nfa.unbounded_loops):
            loops.update(dict.fromkeys(component, component))
    return loops


def _state_graph(nfa: Automaton) -> dict[int, dict[int, str]]:
    return {p: {q: _member(nfa.masks[q]) for q in follow if nfa.masks[q]} for p, follow in enumerate(nfa.follow)}


def _reachable_sets(nfa: Automaton) -> list[set[int]]:
    graph = _state_graph(nfa)
    out = []
    for start in range(len(nfa.masks)):
        seen = {start}
        todo = [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        out.append(seen)
    return out


def _triple_path(
    nfa: Automaton,
    start: tuple[int, int, int],
    goal: tuple[int, int, int],
    within: tuple[set[int], set[int], set[int]],
    budget: list[int],
) -> str:
    """A non-empty text leading the three states of `start` to those of `goal`, each state
    staying within its set of `within`, or ''."""
    came: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None] = {start: None}
    todo = deque([start])
    masks = nfa.masks
    while todo:
        node = todo.popleft()
        a, b, c = node
        for a2 in nfa.follow[a]:
            if a2 not in within[0]:
                continue
            for b2 in nfa.follow[b]:
                ab = masks[a2] & masks[b2]
                if not ab or b2 not in within[1]:
                    continue
                for c2 in nfa.follow[c]:
                    common = ab & masks[c2]
                    target = (a2, b2, c2)
                    if not common or c2 not in within[2] or target in came:
                        continue
                    came[target] = (node, common)
                    if target == goal:
                        text = []
                        step: tuple[int, int, int] = target
                        while (back := came[step]) is not None:
                            step, mask = back
                            text.append(_member(mask))
                        return "".join(reversed(text))
                    budget[0] -= 1
                    if budget[0] <= 0:
                        raise Unsupported("search budget")
                    todo.append(target)
    return ""


def _path(graph: dict[Any, dict[Any, str]], start: Any, goal: Any) -> str:
    """The characters along a shortest path from start to goal ('' when they are the same)."""
    came: dict[Any, tuple[Any, str] | None] = {start: None}
    todo = deque([start])
    while todo and goal not in came:
        node = todo.popleft()
        for target, char in graph[node].items():
            if target not in came:
                came[target] = (node, char)
                todo.append(target)
    text = []
    step = goal
    while (back := came[step]) is not None:
        step, char = back
        text.append(char)
    return "".join(reversed(text))


def _components(graph: dict[Any, dict[Any, str]]) -> list[set[Any]]:
    """The strongly connected components that contain a cycle (Tarjan's algorithm, iteratively)."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    stack: list[Any] = []
    on_stack: set[Any] = set()
    found: list[set[Any]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(component)
    return found


# ---------------------------------------------------------------------------- rewriting


def unambiguous_rewrite(pattern: str) -> str | None:
    """`pattern` written so that it does not backtrack super-linearly, when simple rewrites do it.

    A repeat of a repeat of one character set becomes one repeat (`([a-z0-9]+)*` as
    `[a-z0-9]*`), and a repeated alternation of single characters one set (`(a|b|a)+` as
    `[ab]+`), and equal alternatives one (`(a|a)*` as `a*`). Each matches the same texts;
    groups are dropped (an origin regex is only asked whether it matches). None when the
    pattern needs no rewrite, needs another one, or cannot be written back.
    """
    if find_backtracking(pattern) is None:
        return None
    try:
        parsed = _sre_parse.parse(pattern)
        if _has_group_reference(list(parsed)):
            return None
        flags = parsed.state.flags
        letters = "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)
        rewritten = (f"(?{letters})" if letters else "") + _group_text(_rewritten(list(parsed)))
        re.compile(rewritten)
    except (Unsupported, RecursionError, re.error):
        return None
    if rewritten == pattern or find_backtracking(rewritten) is not None:
        return None
    # A check of the rewrite itself: each one's examples are matched by the other.
    original, new = re.compile(pattern), re.compile(rewritten)
    if not all(new.fullmatch(e) for e in example_matches(pattern) if original.fullmatch(e)):
        return None
    if not all(original.fullmatch(e) for e in example_matches(rewritten) if new.fullmatch(e)):
        return None
    return rewritten


_CHARACTER_NODES = ("LITERAL", "NOT_LITERAL", "ANY", "IN")
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _has_group_reference(items: list[Any]) -> bool:
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return True
        if name in ("SUBPATTERN", *_REPEATS) and _has_group_reference(list(arg[-1])):
            return True
        if name == "BRANCH" and any(_has_group_reference(list(alt)) for alt in arg[1]):
            return True
        if name in ("ASSERT", "ASSERT_NOT") and _has_group_reference(list(arg[1])):
            return True
        if name == "ATOMIC_GROUP" and _has_group_reference(list(arg)):
            return True
    return False


def _rewritten(items: list[Any]) -> list[Any]:
    out = []
    for op, arg in items:
        name = str(op)
        if name == "SUBPATTERN":
            group, add_flags, del_flags, body = arg
            out.append((op, (group, add_flags, del_flags, _rewritten(list(body)))))
        elif name == "BRANCH":
            # Equal alternatives (what `re` leaves of `a|a`: `a(?:|)`) are one.
            alternatives = {pattern_text(alt): alt for alt in (_rewritten(list(alt)) for alt in arg[1])}
            if len(alternatives) == 1:
                out += next(iter(alternatives.values()))
            else:
                out.append((op, (arg[0], list(alternatives.values()))))
        elif name in _REPEATS:
            low, high, body = arg
            out.append(_flattened_repeat(op, low, high, _rewritten(list(body))))
        else:
            out.append((op, arg))
    return out


def _unwrapped(body: list[Any]) -> list[Any]:
    """The body without the groups (and flag-less group markers) around it."""
    while len(body) == 1 and str(body[0][0]) == "SUBPATTERN" and not body[0][1][1] and not body[0][1][2]:
        body = list(body[0][1][3])
    return body


def _flattened_repeat(op: Any, low: int, high: int, body: list[Any]) -> tuple[Any, Any]:
    inner = _unwrapped(body)
    if len(inner) == 1 and str(inner[0][0]) in ("MAX_REPEAT", "MIN_REPEAT"):
        inner_low, inner_high, inner_body = inner[0][1]
        single = _unwrapped(list(inner_body))
        unbounded = high == MAXREPEAT or inner_high == MAXREPEAT
        if len(single) == 1 and str(single[0][0]) in _CHARACTER_NODES and inner_low <= 1 and unbounded:
            # (x{0,1}..){a,} or (x{1,}){a,b}: any number of x from a * inner_low up.
            return (op, (low * inner_low, MAXREPEAT, single))
    if len(inner) == 1 and str(inner[0][0]) == "BRANCH":
        alternatives = [_unwrapped(list(alt)) for alt in inner[0][1][1]]
        if all(len(alt) == 1 and _plain_set_items(alt[0]) is not None for alt in alternatives):
            merged = [item for alt in alternatives for item in _plain_set_items(alt[0]) or []]
            return (op, (low, high, [("IN", merged)]))
    return (op, (low, high, body))


def _plain_set_items(node: tuple[Any, Any]) -> list[Any] | None:
    """The class items a single-character node stands for, if it can join a character class."""
    op, arg = node
    if str(op) == "LITERAL":
        return [("LITERAL", arg)]
    if str(op) == "IN" and not any(str(item_op) == "NEGATE" for item_op, _ in arg):
        return list(arg)
    return None


# ---------------------------------------------------------------------------- writing back

_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.ASCII, "a"))
_AT_TEXT = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\Z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}
_SPECIAL = set(".^$*+?{}[]\\|()")
_CLASS_SPECIAL = set("\\]^-[")


def pattern_text(items: Iterable[Any]) -> str:
    """A pattern for a parse tree (raises Unsupported for lookarounds and group references)."""
    return _group_text(list(items))


def _group_text(items: list[Any]) -> str:
    if len(items) == 1 and str(items[0][0]) == "BRANCH":
        return "|".join(_group_text(list(alt)) for alt in items[0][1][1])
    return "".join(_node_text(str(op), arg) for op, arg in items)


def _char_text(code: int, special: set[str]) -> str:
    ch = chr(code)
    if ch in special:
        return "\\" + ch
    if not ch.isprintable() or ch.isspace():
        return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return ch


def _flag_text(add_flags: int, del_flags: int) -> str:
    on = "".join(letter for flag, letter in _FLAG_LETTERS if add_flags & flag)
    off = "".join(letter for flag, letter in _FLAG_LETTERS if del_flags & flag)
    return on + (f"-{off}" if off else "")


def _node_text(op: str, arg: Any) -> str:
    if op == "LITERAL":
        return _char_text(arg, _SPECIAL)
    if op == "NOT_LITERAL":
        return f"[^{_char_text(arg, _CLASS_SPECIAL)}]"
    if op == "ANY":
        return "."
    if op == "IN":
        return _class_text(arg)
    if op == "BRANCH":
        return f"(?:{_group_text([(op, arg)])})"
    if op == "SUBPATTERN":
        group, add_flags, del_flags, body = arg
        inner = _group_text(list(body))
        flags = _flag_text(add_flags, del_flags)
        if group is None:
            return f"(?{flags}:{inner})"
        return f"((?{flags}:{inner}))" if flags else f"({inner})"
    if op in _REPEATS:
        low, high, body = arg
        body = list(body)
        inner = _group_text(body)
        if not (len(body) == 1 and str(body[0][0]) in (*_CHARACTER_NODES, "SUBPATTERN")):
            inner = f"(?:{inner})"
        if (low, high) == (0, MAXREPEAT):
            quantifier = "*"
        elif (low, high) == (1, MAXREPEAT):
            quantifier = "+"
        elif (low, high) == (0, 1):
            quantifier = "?"
        elif low == high:
            quantifier = f"{{{low}}}"
        elif high == MAXREPEAT:
            quantifier = f"{{{low},}}"
        else:
            quantifier = f"{{{low},{high}}}"
        return inner + quantifier + {"MIN_REPEAT": "?", "POSSESSIVE_REPEAT": "+"}.get(op, "")
    if op == "AT" and str(arg) in _AT_TEXT:
        return _AT_TEXT[str(arg)]
    raise Unsupported(op)


def _class_text(items: list[Any]) -> str:
    escapes = _CATEGORY_ESCAPES
    if len(items) == 1 and str(items[0][0]) == "CATEGORY" and str(items[0][1]) in escapes:
        return escapes[str(items[0][1])]
    parts = []
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            parts.insert(0, "^")
        elif name == "LITERAL":
            parts.append(_char_text(arg, _CLASS_SPECIAL))
        elif name == "RANGE":
            parts.append(f"{_char_text(arg[0], _CLASS_SPECIAL)}-{_char_text(arg[1], _CLASS_SPECIAL)}")
        elif name == "CATEGORY" and str(arg) in escapes:
            parts.append(escapes[str(arg)])
        else:
            raise Unsupported(name)
    return "[" + "".join(parts) + "]"
