"""Configuration checks: find CORSMiddleware arguments that do not do what their author meant.

Pure Python, run once at construction; nothing here changes a response byte. Each problem
names the offending value and says how to fix it. Each check looks only at values of the type
or shape it analyses (the constructor reports the others), so none swallows an error: one that
raises is a bug in it, and fails loudly.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastcors._errors import CORSConfigError, logger, shown
from fastcors._generations import NEWEST, generation
from fastcors._origins import (
    DEFAULT_PORT,
    NO_HOST,
    NO_SCHEME,
    NULL,
    PATH,
    TRAILING_SLASH,
    UPPERCASE,
    WHITESPACE,
    shape_flaws,
    split_origin,
    split_port,
)
from fastcors._patterns import is_public_suffix, parse_pattern, pattern_items, public_suffix
from fastcors._regex_analysis import example_matches, find_backtracking, unambiguous_rewrite

if TYPE_CHECKING:
    from fastcors._settings import CORSSettings

# Browsers cap how long a preflight answer is cached (seconds).
CHROMIUM_MAX_AGE = 7200
FIREFOX_MAX_AGE = 86400

# Schemes a browser can put in an Origin header (web pages, extensions, app shells).
KNOWN_SCHEMES = frozenset(
    {
        "http",
        "https",
        "chrome-extension",
        "moz-extension",
        "safari-web-extension",
        "ms-browser-extension",
        "capacitor",
        "ionic",
        "tauri",
        "app",
        "vscode-webview",
    }
)
# Fetch upper-cases these method names before sending them; any other method is sent as written.
NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class Problem:
    """One misconfiguration: a stable code, the argument, the offending value, and the fix.

    `advice` marks what is not a misconfiguration but worth knowing (how the Starlette release
    being reproduced answers): logged at INFO, never raised by ``strict=True``.
    """

    code: str
    argument: str
    value: Any
    message: str
    advice: bool = False


def check_settings(settings: CORSSettings) -> list[Problem]:
    """Every problem found in `settings` (allow_private_network is a plain switch: nothing to get wrong).

    Any value is taken, including those the constructor refuses: each check first tests that a
    value has the type or shape it analyses and leaves other values alone (the constructor
    reports them). A check that raises is therefore a bug, and its exception propagates. A value
    is only asked what the constructor asks of it too (its truth value, its str()), so one whose
    own methods raise raises the same here as there.
    """
    problems: list[Problem] = []
    items: dict[str, list[Any]] = {}
    for argument in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        value = getattr(settings, argument)
        problems += _shape_problems(argument, value)
        items[argument] = _items(value)
    credentials = bool(settings.allow_credentials)

    problems += _origin_list_problems(items["allow_origins"], credentials)
    for origin in items["allow_origins"]:
        if isinstance(origin, str) and origin != "*":
            problems += _origin_problems(origin, credentials)
    for method in items["allow_methods"]:
        if isinstance(method, str) and method != "*":
            problems += _method_problems(method)
    for argument in ("allow_headers", "expose_headers"):
        for header in items[argument]:
            if isinstance(header, str) and header != "*":
                problems += _token_problems(argument, header, "header")
    if credentials and _has_wildcard(items["expose_headers"]):
        problems.append(
            Problem(
                "expose-wildcard-credentials",
                "expose_headers",
                "*",
                "expose_headers=['*'] with allow_credentials=True: browsers read '*' literally on credentialed "
                "requests, so no header is exposed to them; list the header names instead",
            )
        )
    if settings.allow_origin_regex is not None:
        problems += _regex_problems(settings.allow_origin_regex)
    problems += _max_age_problems(settings.max_age)
    problems += _patterns_problems(settings.allow_origin_patterns, credentials)
    if _has_wildcard(items["allow_origins"]):
        problems += _wildcard_shadow_problems(
            settings.allow_origin_patterns, settings.allow_origin_func, settings.websocket_origin_guard
        )
    problems += _generation_advice(settings.starlette_version, items)
    problems += _paths_problems(settings)
    if isinstance(settings.report_only, type(settings)):  # (else building the configuration says so)
        problems += _part_problems("report_only", settings.report_only, settings)
    return problems


def _has_wildcard(items: list[Any]) -> bool:
    """Whether '*' is among the items (compared only with the str ones: an odd item may not compare)."""
    return any(isinstance(item, str) and item == "*" for item in items)


def _paths_problems(settings: CORSSettings) -> list[Problem]:
    """Path policies that can never apply, and each path's own problems, the path named."""
    if not isinstance(settings.paths, Mapping):
        return []  # building the configuration reports it
    problems = []
    if "/" in settings.paths:
        problems.append(
            Problem(
                "paths-top-level-unused",
                "paths",
                "/",
                "paths has '/', under which every request falls, so the top-level arguments never apply; "
                "move them into paths['/'], or drop the '/' key",
            )
        )
    for prefix, path_settings in settings.paths.items():
        marks = [mark for mark in "?#" if isinstance(prefix, str) and mark in prefix]
        if marks:
            problems.append(
                Problem(
                    "path-never-selected",
                    "paths",
                    prefix,
                    f"paths[{prefix!r}] contains {marks[0]!r}, which a request's path never does (the query "
                    f"string is not part of it), so this policy is never selected; use the path alone",
                )
            )
        if isinstance(path_settings, type(settings)):  # (a CORSSettings: building the configuration says so)
            problems += _part_problems(f"paths[{prefix!r}]", path_settings, settings)
    return problems


def _part_problems(where: str, part: CORSSettings, settings: CORSSettings) -> list[Problem]:
    """The problems of a path's (or the report-only candidate's) settings, `where` named.

    Checked under the top level's Starlette generation; its advice is the top level's too.
    """
    inherited = dataclasses.replace(part, starlette_version=settings.starlette_version)
    return [
        dataclasses.replace(problem, argument=f"{where}.{problem.argument}", message=f"{where}: {problem.message}")
        for problem in check_settings(inherited)
        if not problem.advice
    ]


def _generation_advice(version: Any, items: dict[str, list[Any]]) -> list[Problem]:
    """What the newest Starlette answers better than the release being reproduced."""
    try:
        starlette = generation(version)
    except CORSConfigError:  # the constructor refuses the version with this same error
        return []
    if starlette is NEWEST:
        return []
    as_release = f"fastcors answers as Starlette {starlette.releases} (starlette_version={version!r})"
    opt_in = "pass starlette_version='newest' for the newer answers (they then differ from that Starlette's)"
    advice = []
    if not starlette.vary_on_every_response:
        advice.append(
            Problem(
                "starlette-vary",
                "starlette_version",
                version,
                f"{as_release}: responses to requests without an Origin, to refused origins and '*' answers "
                f"carry no 'Vary: Origin', so a shared cache (a CDN, a proxy) can serve one origin's response "
                f"to another; Starlette 1.7 adds it to every response. To get it, {opt_in}",
                advice=True,
            )
        )
    if starlette.wildcard_reflects_on == "cookie" and _has_wildcard(items["allow_origins"]):
        advice.append(
            Problem(
                "starlette-wildcard-cookie",
                "starlette_version",
                version,
                f"{as_release}: with allow_origins=['*'], a request carrying a cookie gets its own origin back "
                f"instead of '*', so the answer depends on a request header no Vary names; from Starlette 1.0 "
                f"it depends on allow_credentials only. To get that, {opt_in}",
                advice=True,
            )
        )
    if _has_wildcard(items["allow_methods"]) and set(NEWEST.all_methods) - set(starlette.all_methods):
        missing = ", ".join(sorted(set(NEWEST.all_methods) - set(starlette.all_methods)))
        advice.append(
            Problem(
                "starlette-all-methods",
                "starlette_version",
                version,
                f"{as_release}: allow_methods=['*'] does not allow {missing}, which newer Starlette "
                f"releases include. To allow it, list it in allow_methods, or {opt_in}",
                advice=True,
            )
        )
    return advice


def _patterns_problems(patterns: Any, credentials: bool) -> list[Problem]:
    try:
        items = pattern_items(patterns)
    except CORSConfigError as exc:  # the constructor raises this same error
        return [Problem("pattern-invalid", "allow_origin_patterns", patterns, str(exc))]
    return [problem for pattern in items for problem in _pattern_problems(pattern, credentials)]


def _pattern_problems(pattern: Any, credentials: bool) -> list[Problem]:
    try:
        parsed = parse_pattern(pattern, credentials)
    except CORSConfigError as exc:  # the constructor raises this same error
        return [Problem("pattern-invalid", "allow_origin_patterns", pattern, str(exc))]
    suffix = parsed.host.decode("ascii")[1:]
    if parsed.subdomains and is_public_suffix(suffix):
        return [
            Problem(
                "pattern-public-suffix",
                "allow_origin_patterns",
                pattern,
                f"allow_origin_patterns: {pattern!r} matches every site registered under the public suffix "
                f"{suffix!r}, which anyone can do; name your own domain, e.g. "
                f"{pattern.replace('*.', '*.yourname.', 1)!r}",
            )
        ]
    return []


def _wildcard_shadow_problems(patterns: Any, func: Any, websocket_guard: Any) -> list[Problem]:
    """fastcors' own origin rules that allow_origins=['*'] makes pointless."""
    problems = []
    patterns_set = _is_collection(patterns) and bool(_items(patterns))
    for argument, value, is_set, effect in (
        ("allow_origin_patterns", patterns, patterns_set, "they are never consulted"),
        ("allow_origin_func", func, func is not None, "it is never called"),
        ("websocket_origin_guard", websocket_guard, websocket_guard is True, "it lets every handshake through"),
    ):
        if is_set:
            problems.append(
                Problem(
                    "wildcard-shadows",
                    argument,
                    value,
                    f"{argument} is set, but allow_origins=['*'] already allows every origin, so {effect}; "
                    f"list the trusted origins instead of '*'",
                )
            )
    return problems


def report(problems: Iterable[Problem], strict: bool, log: bool = True) -> None:
    """Log each problem once at WARNING (advice at INFO); with `strict`, then raise CORSConfigError
    listing all but the advice."""
    # Keyed by text: a problem's value may be unhashable (a list the user passed).
    unique = list({(p.code, p.argument, p.message): p for p in problems}.values())
    for problem in unique if log else ():
        logger.log(logging.INFO if problem.advice else logging.WARNING, "CORS configuration: %s", problem.message)
    unique = [problem for problem in unique if not problem.advice]
    if strict and unique:
        lines = "\n".join(f"- [{p.code}] {p.message}" for p in unique)
        raise CORSConfigError(f"{len(unique)} CORS configuration problem(s):\n{lines}")


# ---------------------------------------------------------------------------- shapes


def _is_collection(value: Any) -> bool:
    """Whether `value` can be read item by item more than once (a str is one value, not a collection)."""
    return isinstance(value, Iterable) and not isinstance(value, (str, Iterator))


def _items(value: Any) -> list[Any]:
    """The items a collection argument holds; a str counts as the one item it was meant to be."""
    if isinstance(value, str):
        return [value]
    # An iterator is left unread (reading it would consume what the constructor reads later).
    return list(value) if _is_collection(value) else []


def _shape_problems(argument: str, value: Any) -> list[Problem]:
    if isinstance(value, str):
        return [
            Problem(
                "str-not-list",
                argument,
                value,
                f"{argument} is the str {shown(value)}, so every membership test is a substring test "
                f"(and joining it splits it into characters); pass a list: {argument}=[{shown(value)}]",
            )
        ]
    if isinstance(value, Iterator):
        return [
            Problem(
                "not-a-collection",
                argument,
                value,
                f"{argument} is a one-shot iterator ({type(value).__name__}): the first membership test "
                f"consumes it and later ones give wrong answers; pass a list or a tuple",
            )
        ]
    # (Not iterable at all: building the configuration reports it.)
    return [
        Problem(
            "non-str-item",
            argument,
            item,
            f"{argument} contains {shown(item)} of type {type(item).__name__}, which can never equal a "
            f"request's header value (always str); write it as a str",
        )
        for item in _items(value)
        if not isinstance(item, str)
    ]


# ---------------------------------------------------------------------------- origins


def _origin_list_problems(origins: list[Any], credentials: bool) -> list[Problem]:
    problems = []
    has_wildcard = any(isinstance(origin, str) and origin == "*" for origin in origins)
    others = tuple(origin for origin in origins if not (isinstance(origin, str) and origin == "*"))
    if has_wildcard and others:
        problems.append(
            Problem(
                "wildcard-mixed",
                "allow_origins",
                others,
                f"allow_origins mixes '*' with {shown(others)}: '*' already allows every origin, so the others "
                f"have no effect; keep either '*' or the explicit list",
            )
        )
    if has_wildcard and credentials:
        problems.append(
            Problem(
                "wildcard-credentials",
                "allow_origins",
                "*",
                "allow_origins=['*'] with allow_credentials=True reflects ANY requesting origin together with "
                "Access-Control-Allow-Credentials: true (Starlette before 1.0: on requests carrying a cookie, as "
                "credentialed ones do), so every website can read your users' authenticated responses; list the "
                "trusted origins explicitly (or drop allow_credentials)",
            )
        )
    return problems


def _origin_problems(origin: str, credentials: bool) -> list[Problem]:
    """What keeps `origin` from ever equalling the Origin header a browser sends."""
    flaws = shape_flaws(origin)
    text = "".join(origin.split())
    parts = split_origin(text)
    problems = []

    def add(code: str, message: str) -> None:
        problems.append(Problem(f"origin-{code}", "allow_origins", origin, message))

    if WHITESPACE in flaws:
        add(WHITESPACE, f"allowed origin {origin!r} contains whitespace, which browsers never send; use {text!r}")
    if NULL in flaws:
        add(
            NULL,
            f"allowed origin {origin!r}: browsers send 'null' from sandboxed iframes, file: URLs, data: URLs and "
            f"some redirects, so any website can send it; remove it",
        )
        return problems
    if "*" in text:
        try:
            parse_pattern(text, credentials)
            instead = f"allow_origin_patterns=[{text!r}]"
        except CORSConfigError:
            instead = f"allow_origin_regex (e.g. {_suggest_regex_for_pattern(text)!r})"
        add(
            "wildcard-pattern",
            f"allowed origin {origin!r} contains '*', but allow_origins only matches whole origins exactly; "
            f"use {instead} instead",
        )
        return problems
    if parts is None:
        add(
            NO_SCHEME,
            f"allowed origin {origin!r} has no scheme; browsers send the scheme too, e.g. "
            f"{'https://' + text.split('/')[0]!r}",
        )
        return problems
    scheme, authority, host, port, _ = parts
    if scheme.lower() not in KNOWN_SCHEMES:
        add(
            "unknown-scheme",
            f"allowed origin {origin!r} has the unknown scheme {scheme!r}; browsers send origins like "
            f"'https://example.com' (http, https or an extension scheme)",
        )
    bare = f"{scheme}://{authority}"
    messages = {
        TRAILING_SLASH: f"allowed origin {origin!r} ends with '/', but an Origin header never does; use {bare!r}",
        PATH: f"allowed origin {origin!r} has a path, but an Origin header is only scheme://host[:port]; use {bare!r}",
        DEFAULT_PORT: f"allowed origin {origin!r} names the default port :{port}, which browsers leave out; "
        f"use {f'{scheme}://{host}'!r}",
        UPPERCASE: f"allowed origin {origin!r} has upper-case letters, but browsers send the scheme and host in "
        f"lower case and the comparison is exact; use {bare.lower()!r}",
        NO_HOST: f"allowed origin {origin!r} has no host; write it as 'https://example.com'",
    }
    for flaw in flaws:
        if flaw in messages:
            add(flaw, messages[flaw])
    return problems


def _suggest_regex_for_pattern(pattern: str) -> str:
    parts = [re.escape(part) for part in pattern.split("*")]
    # A wildcard in the host stands for labels; in the port for digits.
    return r"[a-z0-9-]+".join(parts).replace(r":[a-z0-9-]+", r":[0-9]+")


# ---------------------------------------------------------------------------- methods, headers


def _method_problems(method: str) -> list[Problem]:
    problems = _token_problems("allow_methods", method, "method")
    if problems:
        return problems
    upper = method.upper()
    if method != upper:
        if upper in NORMALIZED_METHODS:
            why = f"browsers always send {upper!r}, so {method!r} never matches"
        else:
            why = f"method names are case-sensitive, so {method!r} only matches a request spelling it that way"
        problems.append(
            Problem("method-lowercase", "allow_methods", method, f"allow_methods has {method!r}: {why}; use {upper!r}")
        )
    return problems


def _token_problems(argument: str, name: str, kind: str) -> list[Problem]:
    if TOKEN.fullmatch(name):
        return []
    hint = ""
    if "," in name:
        hint = f"; list each {kind} as its own item: {[part.strip() for part in name.split(',')]!r}"
    elif name.strip() != name and TOKEN.fullmatch(name.strip()):
        hint = f"; use {name.strip()!r}"
    return [
        Problem(
            f"{kind}-invalid-token",
            argument,
            name,
            f"{argument} has {shown(name)}, which is not a valid HTTP {kind} name (letters, digits and "
            f"!#$%&'*+-.^_`|~ only) and can never match{hint}",
        )
    ]


# ---------------------------------------------------------------------------- max_age


def _max_age_problems(max_age: Any) -> list[Problem]:
    # Starlette sends str(max_age): what matters is whether that text is a number of seconds.
    text = str(max_age)
    if isinstance(max_age, bool) or not re.fullmatch(r"-?[0-9]+", text):
        return [
            Problem(
                "max-age-type",
                "max_age",
                max_age,
                f"max_age={max_age!r} is sent as {text!r}, which browsers do not read as a number of seconds "
                f"(they fall back to 5 s); use an int",
            )
        ]
    max_age = int(text)
    if max_age < 0:
        return [
            Problem(
                "max-age-negative",
                "max_age",
                max_age,
                f"max_age={max_age} is negative: browsers reject it and fall back to caching for 5 s; "
                f"use 0 to disable caching or a positive number of seconds",
            )
        ]
    if max_age > CHROMIUM_MAX_AGE:
        capped = "Chromium-based browsers cap it at 7200 s"
        if max_age > FIREFOX_MAX_AGE:
            capped += " and Firefox at 86400 s"
        return [
            Problem(
                "max-age-too-large",
                "max_age",
                max_age,
                f"max_age={max_age}: {capped}, so preflights are repeated sooner than you expect; "
                f"use at most {CHROMIUM_MAX_AGE}",
            )
        ]
    return []


# ---------------------------------------------------------------------------- origin regex


def _regex_problems(pattern: Any) -> list[Problem]:
    """Its type, its syntax, then (for a regex that compiles) what it matches and how long it may take."""
    if not isinstance(pattern, str):
        return [
            Problem(
                "regex-type",
                "allow_origin_regex",
                pattern,
                f"allow_origin_regex must be a str pattern, not {type(pattern).__name__}",
            )
        ]
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return [
            Problem("regex-invalid", "allow_origin_regex", pattern, f"allow_origin_regex {pattern!r} is invalid: {exc}")
        ]
    backtracking = _backtracking_problems(pattern)
    return _match_problems(pattern, compiled, bool(backtracking)) + backtracking


def _match_problems(pattern: str, compiled: re.Pattern[str], backtracks: bool) -> list[Problem]:
    """Origins others control that the regex matches."""
    if backtracks:
        # Trying origins on it could take as long as an attack: they are tried on the same
        # regex rewritten, or not at all.
        rewrite = unambiguous_rewrite(pattern)
        if rewrite is None:
            return []
        compiled = re.compile(rewrite)
    broad = [origin for origin in ("https://evil.com", "http://evil.com", "null") if compiled.fullmatch(origin)]
    if broad:
        return [
            Problem(
                "regex-overbroad",
                "allow_origin_regex",
                pattern,
                f"allow_origin_regex {pattern!r} matches {shown(broad)}, i.e. origins anyone controls; "
                f"match only your own hosts, e.g. r'https://([a-z0-9-]+\\.)*example\\.com'",
            )
        ]
    examples = _origin_examples(compiled)
    for scheme, host, port in examples:
        suffix = public_suffix(host)
        tenant = f"{scheme}://evil-tenant.{suffix}{port}"
        if "." in suffix and compiled.fullmatch(tenant):  # a shared suffix: github.io, co.uk
            return [
                Problem(
                    "regex-lookalike",
                    "allow_origin_regex",
                    pattern,
                    f"allow_origin_regex {pattern!r} matches other people's sites on {suffix!r}, where anyone can "
                    f"publish, e.g. [{tenant!r}]; name your own site exactly, e.g. "
                    f"r'{scheme}://myproject\\.{re.escape(suffix)}'",
                )
            ]
    matched: dict[str, tuple[str, str, str]] = {}  # look-alike origin -> (scheme, imitated domain, port)
    for scheme, host, port in examples:
        base = _registrable(host)
        for lookalike in _lookalikes(scheme, host, port, base):
            if lookalike not in matched and compiled.fullmatch(lookalike) and not _within(lookalike, base):
                matched[lookalike] = (scheme, base, port)
    if not matched:
        return []
    examples = list(matched)[:3]
    scheme, base, port = matched[examples[0]]
    subdomains = "" if base == "localhost" or base.replace(".", "").isdigit() else r"([a-z0-9-]+\.)*"
    suggestion = f"{scheme}://{subdomains}{re.escape(base)}" + (r"(:[0-9]+)?" if port else "")
    return [
        Problem(
            "regex-lookalike",
            "allow_origin_regex",
            pattern,
            f"allow_origin_regex {pattern!r} also matches look-alike origins outside {base!r} that others can "
            f"own, e.g. {shown(examples, 200)}; escape every dot (\\.) and require a dot before the domain, "
            f"e.g. r'{suggestion}'",
        )
    ]


def _backtracking_problems(pattern: str) -> list[Problem]:
    """A regex whose matching time, on an Origin an attacker picks, grows faster than its length."""
    found = find_backtracking(pattern)
    if found is None:
        return []
    sample = f"{found.prefix!r} + {found.pump!r} * 30" + (f" + {found.suffix!r}" if found.suffix else "")
    if found.exponential:
        why = (
            f"a repeated part of it can match the same text in more than one way, so on an Origin that "
            f"does not match, such as {sample}, the engine tries every way: each further {found.pump!r} "
            f"multiplies the matching time"
        )
    else:
        why = (
            f"two repeats in it can both consume {found.pump!r}, so on an Origin that does not match, "
            f"such as {sample.replace('* 30', '* 5000')}, the engine tries every way of sharing it between "
            f"them: the matching time grows with the square of the length, or faster"
        )
    fixes = []
    rewrite = unambiguous_rewrite(pattern)
    suggestion = _pattern_suggestion(rewrite or pattern)
    if suggestion:
        origin_pattern, domain = suggestion
        fixes.append(f"if it means the subdomains of {domain!r}, use allow_origin_patterns=[{origin_pattern!r}]")
    if rewrite is not None:
        fixes.append(f"write it as {_raw(rewrite)}, which matches the same origins one way only")
    else:
        fixes.append(
            "rewrite it so that each text matches one way only (end each repeated part with a character "
            "the part cannot otherwise match, as in r'https://([a-z0-9-]+\\.)*example\\.com')"
        )
    return [
        Problem(
            "regex-backtracking",
            "allow_origin_regex",
            pattern,
            f"allow_origin_regex {pattern!r} can take time growing "
            f"{'exponentially' if found.exponential else 'faster than linearly'} with the Origin's length: "
            f"{why}; {', or '.join(fixes)}",
        )
    ]


def _pattern_suggestion(pattern: str) -> tuple[str, str] | None:
    """An origin pattern for the subdomains of the domain the regex names: (pattern, domain)."""
    for scheme, host, port in _origin_examples(re.compile(pattern)):
        base = _registrable(host)
        candidate = f"{scheme}://*.{base}" + (":*" if port else "")
        try:
            parse_pattern(candidate, False)
        except CORSConfigError:
            continue
        if not is_public_suffix(base) and "." in base:
            return candidate, base
    return None


def _raw(pattern: str) -> str:
    """The pattern as a raw string literal, as people write regexes (repr when it cannot be one)."""
    return f"r'{pattern}'" if "'" not in pattern and not pattern.endswith("\\") else repr(pattern)


def _origin_examples(compiled: re.Pattern[str]) -> list[tuple[str, str, str]]:
    """(scheme, host, ':port' or '') of strings the regex matches, or that its literals spell."""
    candidates = {e for e in example_matches(compiled.pattern) if compiled.fullmatch(e)}
    # A parse-free fallback: host-like runs in the pattern text with escaped dots unescaped.
    text = compiled.pattern.replace("\\.", ".")
    for host in re.findall(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", text):
        candidates.add("https://" + host.strip(".-"))
    examples = set()
    for candidate in candidates:
        scheme, sep, rest = candidate.partition("://")
        if not sep or not rest:
            continue
        host, port = split_port(rest.split("/")[0])
        host = host.strip(".").lower()
        if host and (port is None or port.isdigit()):
            examples.add((scheme.lower() or "https", host, f":{port}" if port else ""))
    return sorted(examples)


def _registrable(host: str) -> str:
    """The domain one owner controls: one label under the public suffix (or the host itself)."""
    if host.replace(".", "").isdigit():  # an IPv4 address
        return host
    suffix = public_suffix(host)
    if host == suffix:
        return host
    label = host[: -len(suffix) - 1].rsplit(".", 1)[-1]
    return f"{label}.{suffix}"


def _lookalikes(scheme: str, host: str, port: str, base: str) -> list[str]:
    hosts = [
        f"evil{base}",
        f"evil-{base}",
        f"evil{host}",
        f"{host}.evil.com",
        f"{base}.evil.com",
        f"{host}evil.com",
        f"{host}-evil.com",
    ]
    # An unescaped dot matches any character: app.example.com also matches appxexample.com.
    hosts += [host[:i] + "x" + host[i + 1 :] for i, ch in enumerate(host) if ch == "."]
    suffix = public_suffix(host)
    if "." in suffix:  # a shared suffix (github.io, co.uk): anyone can get a name there
        hosts.append(f"evil-tenant.{suffix}")
    return [f"{scheme}://{h}{port}" for h in hosts]


def _within(origin: str, base: str) -> bool:
    host, _ = split_port(origin.partition("://")[2])
    if host == base:
        return True
    # Subdomains belong to the owner of `base`, unless `base` is a public suffix.
    return host.endswith("." + base) and not is_public_suffix(base)
