"""The regex analysis (fastcors._regex_analysis): examples, super-linear backtracking, rewrites.

Pure Python at configuration time, so tested directly, once. The corpus of regexes known to
backtrack comes from published ReDoS material (each source named); the ordinary ones are the
regexes users write, and those of this repository's docs, bench and tests, collected from
the files so that a new example is covered as soon as it is written.
"""

from __future__ import annotations

import ast
import functools
import re
import time
from pathlib import Path

import pytest

from fastcors._regex_analysis import (
    example_matches,
    find_backtracking,
    pattern_text,
    unambiguous_rewrite,
)

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------- corpus

# Regexes whose matching time grows exponentially with the text's length under Python's engine.
EXPONENTIAL = [
    r"https://([a-z0-9]+)*\.example\.com",  # a hand-written origin regex with a nested quantifier
    r"https://(.+\.)*example\.com",  # the same mistake with '.' (each label "any characters, then a dot")
    # OWASP, "Regular expression Denial of Service - ReDoS" (owasp.org/www-community/attacks/), its evil regexes:
    r"^(a+)+$",
    r"([a-zA-Z]+)*",
    r"(a|aa)+",
    r"(a|a?)+",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",  # its Java class name example
    # ... its e-mail validation example (also bad9 in the CodeQL test below):
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
    # GitHub CodeQL, javascript/ql/test/query-tests/Performance/ReDoS/tst.js (bad7, bad8, bad13, bad15, bad19, bad29):
    r"^([a-z]+)+$",
    r"^([a-z]*)*$",
    r"(b|a?b)*c",
    r"(a|aa?)*b",
    r"([^\"']+)*",
    r"((\s|\s)*)\"",
    # GitHub CodeQL, swift/ql/test/library-tests/regex/redos_variants.swift:
    r"(a*)*b",
    r"((a*)*b)",
    # Shapes named in ReDoS write-ups (overlapping alternation, adjacent overlapping repeats
    # under a repeat, a loop body that can end inside itself, large bounds):
    r"(a|a)*b",
    r"^(a|b|ab)*$",
    r"(\w+\d+)+x",
    r"(\w*\w*)+x",
    r"(.*,)*x",
    r"(x+x+)+y",
    r"(a{1,50})*b",
    r"(.*a){12}",  # OWASP: "(.*a){x} for x > 10"
    r"^(\w+\s?)*$",  # the word-list regex of many ReDoS tutorials
]

# Regexes whose matching time grows as a power (quadratic or more) of the text's length.
POLYNOMIAL = [
    r"\w*\w*x",
    r"https://.*\..*\.example\.com",
    # The ms package before 0.7.0 (Node Security advisory 46, "Regular Expression Denial of Service"):
    r"^((?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|years?|yrs?|y)?$",  # noqa: E501
    # Cloudflare's WAF rule of the 2 July 2019 outage (blog.cloudflare.com, "Details of the Cloudflare outage"):
    r"(?:(?:\"|'|\]|\}|\\|\d|(?:nan|infinity|true|false|null|undefined|symbol|math)|\`|\-|\+)+[)]*;?((?:\s|-|~|!|{}|\|\||\+)*.*(?:.*=.*)))",
]

# Ambiguous as written, but linear under Python's engine or under fullmatch (Starlette's call).
LINEAR_HERE = [
    r"(a|ab)*c",  # an overlap of first characters only: the second one decides
    r"((\d|[0-9])*)\"",  # CodeQL tst.js bad28: `re` merges the alternatives into one set
    r"^[\s\u200c]+|[\s\u200c]+$",  # the Stack Exchange outage of July 2016: quadratic with search, not fullmatch
    r"(.*,)+.+",  # CodeQL tst.js (brace-expansion): nothing after the loop can fail on an Origin
]

# Origin regexes as people write them.
ORDINARY = [
    r"https://([a-z0-9_-]+\.)+example\.org",
    r"https://([a-z0-9-]+\.)*example\.com",
    r"https://[a-z0-9]+(-[a-z0-9]+)*\.example\.com",
    r"https://[a-z0-9-]*[a-z0-9]\.example\.com",
    r"https://[a-z0-9-]+-[a-z0-9]+\.example\.com",
    r"https://([a-z0-9-]{1,63}\.)+example\.com",
    r"https://(www|app|admin)\.example\.com(:[0-9]{2,5})?",
    r"https?://(localhost|127\.0\.0\.1)(:\d+)?",
    r"https://(\d{1,3}\.){3}\d{1,3}",
    r"https://pr-[0-9]+\.preview\.example\.com",
    r"https://.*\.example\.com",
    r"(?i)https://[A-Z0-9.-]+\.example\.com",
    r"https://([a-z]+[.-])*example\.com",
    r"https://([a-z0-9]+\.)*[a-z0-9]+\.example\.com",
    r"https://(.*\.)?example\.com",
    # Starlette's own tests (encode/starlette, tests/middleware/test_cors.py):
    r"https://.*",
    r"https://.*\.example.org",
]


@functools.cache
def collected_regexes() -> list[str]:
    """Every literal allow_origin_regex in the README, the bench, the tests and the fuzz cases (and
    the values of *REGEX names)."""
    found: set[str] = set()
    literal = re.compile(r"""allow_origin_regex["']?\s*[=:]\s*(r?(["'])(?:\\.|(?!\2).)*\2)""")
    # (A wheel's test run has the tests only: no README, no docs, no bench.) The documentation's
    # examples of what the checks report are wrong on purpose, and marked so: left out.
    wrong = re.compile(r"(?ms)^<!-- wrong on purpose\b.*?^<!-- /wrong on purpose -->")
    markdown = [p for p in [ROOT / "README.md"] if p.exists()]
    markdown += sorted((ROOT / "docs").rglob("*.md")) + sorted((ROOT / "bench").rglob("*.md"))
    for path in markdown:
        text = wrong.sub("", path.read_text())
        found |= {ast.literal_eval(m.group(1)) for m in literal.finditer(text)}
    sources = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py"), *(ROOT / "fuzz").rglob("*.py")]
    for path in [*sources, *(ROOT / "docs_src").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            found |= {v.value for v in _regex_values(node) if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return sorted(p for p in found if _compiles(p))


def _regex_values(node: ast.AST) -> list[ast.expr]:
    """What `node` gives allow_origin_regex: a keyword argument, a dict entry, a *REGEX(ES) name."""
    if isinstance(node, ast.keyword) and node.arg == "allow_origin_regex":
        return [node.value]
    if isinstance(node, ast.Dict):
        return [
            v
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and k.value == "allow_origin_regex"
        ]
    names = [t.id for t in node.targets if isinstance(t, ast.Name)] if isinstance(node, ast.Assign) else []
    if any(name.endswith(("REGEX", "REGEXES")) for name in names):
        assert isinstance(node, ast.Assign)
        return list(node.value.elts) if isinstance(node.value, ast.List) else [node.value]
    return []


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


# ---------------------------------------------------------------------------- the finding


@pytest.mark.parametrize("pattern", EXPONENTIAL)
def test_exponential_regexes_are_found(pattern: str) -> None:
    found = find_backtracking(pattern)
    assert found is not None and found.exponential, pattern
    # The text it gives is one the regex refuses: the engine has to try every way.
    assert not re.fullmatch(pattern, found.text(2))


@pytest.mark.parametrize("pattern", POLYNOMIAL)
def test_polynomial_regexes_are_found(pattern: str) -> None:
    found = find_backtracking(pattern)
    assert found is not None and not found.exponential, pattern
    assert not re.fullmatch(pattern, found.text(2))


@pytest.mark.parametrize("pattern", LINEAR_HERE + ORDINARY)
def test_linear_regexes_are_not_flagged(pattern: str) -> None:
    assert find_backtracking(pattern) is None


def test_collected_regexes_include_the_docs_and_bench() -> None:
    if not (ROOT / "README.md").exists():
        pytest.skip("a wheel's test run: the tests without the README and the bench")
    collected = collected_regexes()
    # The docs' and the bench's regex (the pattern comparison), and the test suites' own.
    assert r"https://([a-z0-9_-]+\.)+example\.org" in collected
    assert r"https://[a-z]+\.preview\.example\.com" in collected
    assert len(collected) >= 15


@pytest.mark.parametrize("pattern", collected_regexes())
def test_no_false_alarm_on_the_repository_regexes(pattern: str) -> None:
    assert find_backtracking(pattern) is None


def test_a_nested_quantifier_ending_at_a_separator_is_linear() -> None:
    # Each repetition must end at a dot its body cannot match: one way only.
    assert find_backtracking(r"https://([a-z0-9_-]+\.)+example\.org") is None
    # The same with the dot inside the set: a label can now end anywhere.
    assert find_backtracking(r"https://([a-z0-9_.-]+\.)+example\.org") is not None


def test_bounds_decide_whether_a_repeat_counts_as_a_loop() -> None:
    assert find_backtracking(r"(a{1,3}){1,3}b") is None  # at most nine characters: nothing grows
    assert find_backtracking(r"(a{1,3})*b") is not None
    assert find_backtracking(r"(a{1,1000})*b") is not None


def test_case_insensitive_and_scoped_flags() -> None:
    # `re` makes (a|A) one set: nothing to choose between, with or without (?i).
    assert find_backtracking(r"(a|A)+b") is None
    assert find_backtracking(r"(?i)(a|A)+b") is None
    # A scoped (?i:a) stays an alternative, and also matches 'A': two ways to take an 'A'.
    found = find_backtracking(r"((?i:a)|A)+b")
    assert found is not None and "A" in found.pump
    assert find_backtracking(r"(?i)https://([A-Z]+)*\.example\.com") is not None


def test_unsupported_or_invalid_patterns_are_not_judged() -> None:
    assert find_backtracking("https://(") is None
    assert find_backtracking("(" * 300 + ")" * 300) is None
    assert find_backtracking(r"(a)\1+b") is None  # a back-reference consumes nothing here


# ---------------------------------------------------------------------------- rewrites


@pytest.mark.parametrize(
    ("pattern", "samples"),
    [
        (
            r"https://([a-z0-9]+)*\.example\.com",
            ["https://app.example.com", "https://.example.com", "https://a-b.example.com"],
        ),
        (r"^(a+)+$", ["", "a", "aaa", "ab"]),
        (r"(a|a)*b", ["b", "ab", "aab", "ac"]),
        (
            r"(?i)https://([A-Z]+)*\.example\.com",
            ["https://App.example.com", "HTTPS://X.EXAMPLE.COM", "https://1.example.com"],
        ),
    ],
)
def test_rewrites_match_the_same_texts_without_backtracking(pattern: str, samples: list[str]) -> None:
    rewritten = unambiguous_rewrite(pattern)
    assert rewritten is not None
    assert find_backtracking(rewritten) is None
    for text in [*samples, *example_matches(pattern)]:
        assert bool(re.fullmatch(rewritten, text)) == bool(re.fullmatch(pattern, text)), text


def test_no_rewrite_when_none_is_needed_or_known() -> None:
    assert unambiguous_rewrite(r"https://([a-z0-9-]+\.)*example\.com") is None  # nothing to fix
    assert unambiguous_rewrite(r"(x+x+)+y") is None  # needs a person: no simple rewrite


@pytest.mark.parametrize("pattern", ORDINARY + EXPONENTIAL[:8] + [r"(?:a|b)c{2,}?[^x]\b"])
def test_pattern_text_writes_back_an_equivalent_pattern(pattern: str) -> None:
    from fastcors._regex_analysis import _sre_parse

    try:
        text = pattern_text(_sre_parse.parse(pattern))
    except Exception as exc:  # lookarounds and group references are not written back
        pytest.skip(f"not written back: {exc}")
    assert str(_sre_parse.parse(text)) == str(_sre_parse.parse(pattern))


def test_example_matches_follow_the_pattern() -> None:
    examples = example_matches(r"https://(www|app)\.example\.com(:[0-9]+)?")
    assert "https://www.example.com" in examples
    assert "https://app.example.com" in examples
    assert all(re.fullmatch(r"https://(www|app)\.example\.com(:[0-9]+)?", e) for e in examples)


# ---------------------------------------------------------------------------- measured growth
#
# What the finding claims, measured: matching time against the text's length. Times are the
# best of a few runs (a loaded machine only ever adds time), and the margins are wide.


def _best_time(compiled: re.Pattern[str], text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        compiled.fullmatch(text)
        best = min(best, time.perf_counter() - start)
    return best


MEASURED_EXPONENTIAL = [
    r"https://([a-z0-9]+)*\.example\.com",
    r"^(a+)+$",
    r"(a|a)*b",
    r"(.*,)*x",
    r"(x+x+)+y",
    r"((\s|\s)*)\"",
]


@pytest.mark.parametrize("pattern", MEASURED_EXPONENTIAL)
def test_flagged_regexes_take_exponential_time(pattern: str) -> None:
    found = find_backtracking(pattern)
    assert found is not None
    compiled = re.compile(pattern)
    repeats = 1
    while _best_time(compiled, found.text(repeats)) < 50e-6:  # a time well above the clock's noise
        repeats += 1
    base, base_length = _best_time(compiled, found.text(repeats), runs=5), len(found.text(repeats))
    # Fifty times the time for at most 16 more characters (linear matching would need fifty
    # times the length). Stopping there keeps each match well under 0.2 s.
    while _best_time(compiled, found.text(repeats)) < 50 * base:
        repeats += 1
        added = len(found.text(repeats)) - base_length
        assert added <= 16, f"{pattern!r}: under 50x the time after {added} more characters"


@pytest.mark.parametrize("pattern", POLYNOMIAL[:3])
def test_flagged_polynomial_regexes_take_more_than_linear_time(pattern: str) -> None:
    found = find_backtracking(pattern)
    assert found is not None
    compiled = re.compile(pattern)
    short, long = _best_time(compiled, found.text(150)), _best_time(compiled, found.text(600))
    # Four times the length: quadratic is 16 times the time, linear 4.
    assert long > 8 * short, f"{pattern!r}: x{long / short:.1f} time for x4 length"


@pytest.mark.parametrize("pattern", LINEAR_HERE + ORDINARY)
def test_unflagged_regexes_take_linear_time(pattern: str) -> None:
    compiled = re.compile(pattern)
    examples = [e for e in example_matches(pattern) if compiled.fullmatch(e)] or ["https://a.example.com"]
    head = examples[0][: len(examples[0]) // 2]
    # Long runs of the characters origin regexes repeat, each ending where no match can.
    for filler in ("a", ".", "-", "a.", "a-", "ab", ",", " ", "0"):
        short = head + filler * (200 // len(filler)) + "!"
        long = head + filler * (3200 // len(filler)) + "!"
        long_time = _best_time(compiled, long, runs=5)
        if long_time < 20e-6:
            continue  # refused at once whatever the length: nothing to compare
        ratio = long_time / _best_time(compiled, short, runs=5)
        # Sixteen times the length: linear matching takes about sixteen times the time.
        assert ratio < 40, f"{pattern!r} on {filler!r} runs: x{ratio:.0f} time for x16 length"
