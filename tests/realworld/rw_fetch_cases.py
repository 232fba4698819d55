"""The CORS cases Chromium runs (fetches from a page against rw_served.browser_api) and their
verdicts, shared by the browser suites: "<what JavaScript got> | <what the API server received>".

JavaScript either reads the answer or gets fetch's TypeError ("blocked", with Chromium's
console reason in brackets); the server side lists the requests in order, `+cookie` where the
cookie came along.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .rw_browser import OTHER, PAGE, run_fetches


@dataclass(frozen=True)
class Fetch:
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    credentials: str = "same-origin"  # fetch()'s default: no cookies cross-origin
    body: str | None = None
    read: str = "status"  # what JavaScript reports: status, cookie (as the API saw it), headers or body


@dataclass(frozen=True)
class Case:
    id: str
    page: str  # which origin the fetches run from
    config: str  # which CORS configuration of browser_api answers
    fetches: tuple[Fetch, ...]
    expected: str  # the verdict, the same for every middleware variant


PUT_CUSTOM = Fetch("PUT", {"x-custom": "1"}, body="x")
WITH_COOKIE = Fetch(credentials="include", read="cookie")

# The verdict table. Chromium rejects a preflight answered with 400 for its status before
# looking at the allowed methods/headers, hence "preflight-not-ok" for both refusals.
CASES = [
    Case("simple_get_allowed", PAGE, "main", (Fetch(),), "ok 200 | GET"),
    Case("simple_get_denied_origin", OTHER, "main", (Fetch(),), "blocked (no-allow-origin) | GET"),
    Case("cookie_credentials_on", PAGE, "main", (WITH_COOKIE,), "ok cookie=abc | GET+cookie"),
    Case("cookie_credentials_off", PAGE, "nocred", (WITH_COOKIE,), "blocked (no-allow-credentials) | GET+cookie"),
    Case("no_cookie_credentials_off", PAGE, "nocred", (Fetch(read="cookie"),), "ok cookie=- | GET"),
    Case("preflight_put_allowed", PAGE, "main", (PUT_CUSTOM,), "ok 200 | OPTIONS,PUT"),
    Case(
        "preflight_header_refused",
        PAGE,
        "main",
        (Fetch("PUT", {"x-forbidden": "1"}),),
        "blocked (preflight-not-ok) | OPTIONS",
    ),
    Case("preflight_method_refused", PAGE, "main", (Fetch("DELETE"),), "blocked (preflight-not-ok) | OPTIONS"),
    Case("exposed_header_readable", PAGE, "main", (Fetch(read="headers"),), "ok x-exposed=yes x-hidden=null | GET"),
    Case("no_header_exposed", PAGE, "nocred", (Fetch(read="headers"),), "ok x-exposed=null x-hidden=null | GET"),
    Case("preflight_cached_max_age", PAGE, "main", (PUT_CUSTOM, PUT_CUSTOM), "ok 200, ok 200 | OPTIONS,PUT,PUT"),
    Case("preflight_max_age_0", PAGE, "nocache", (PUT_CUSTOM, PUT_CUSTOM), "ok 200, ok 200 | OPTIONS,PUT,OPTIONS,PUT"),
    Case("star_get", OTHER, "star", (Fetch(),), "ok 200 | GET"),
    Case("star_credentialed", PAGE, "star", (WITH_COOKIE,), "blocked (wildcard-with-credentials) | GET+cookie"),
    Case("star_preflight_any_header", OTHER, "star", (Fetch("PUT", {"x-anything": "1"}),), "ok 200 | OPTIONS,PUT"),
    Case("star_custom_method_refused", OTHER, "star", (Fetch("PURGE"),), "blocked (preflight-not-ok) | OPTIONS"),
    Case("starcred_same_site", PAGE, "starcred", (WITH_COOKIE,), "ok cookie=abc | GET+cookie"),
    Case("starcred_cross_site", OTHER, "starcred", (WITH_COOKIE,), "ok cookie=- | GET"),
    Case(
        "starcred_preflight",
        OTHER,
        "starcred",
        (Fetch("PUT", {"x-anything": "1"}, credentials="include"),),
        "ok 200 | OPTIONS,PUT",
    ),
    Case("regex_allowed", OTHER, "regex", (Fetch(),), "ok 200 | GET"),
    Case("regex_denied", PAGE, "regex", (Fetch(),), "blocked (no-allow-origin) | GET"),
]

# Chromium's console message for a CORS failure -> a short reason. First match wins.
CONSOLE_REASONS = [
    ("must not be the wildcard '*' when the request's credentials mode is 'include'", "wildcard-with-credentials"),
    ("No 'Access-Control-Allow-Origin' header", "no-allow-origin"),
    ("'Access-Control-Allow-Credentials'", "no-allow-credentials"),
    ("does not have HTTP ok status", "preflight-not-ok"),
    ("is not allowed by Access-Control-Allow-Headers", "header-not-allowed"),
    ("is not allowed by Access-Control-Allow-Methods", "method-not-allowed"),
    ("does not match the supplied origin", "origin-mismatch"),
]


def console_reason(url: str, console: list[str]) -> str:
    messages = [message for message in console if f"'{url}'" in message]
    for needle, reason in CONSOLE_REASONS:
        if any(needle in message for message in messages):
            return reason
    return "no console reason" if not messages else "other: " + messages[0][:200]


def verdict(api: str, path: str, js: str, console: list[str], log: list[dict[str, Any]]) -> str:
    """The verdict on the fetches to `api` + `path`: what JavaScript got | what the API server received."""
    if js == "blocked":
        js = f"blocked ({console_reason(api + path, console)})"
    received = [entry["method"] + ("+cookie" if entry["cookie"] else "") for entry in log if entry["path"] == path]
    return f"{js} | {','.join(received)}"


def case_path(case: Case, version: str = "") -> str:
    """Where a case is served: its configuration, answering as Starlette `version` if given."""
    return f"/{case.config}@{version}/{case.id}" if version else f"/{case.config}/{case.id}"


def run_cases(
    browser: Any, pages: dict[str, str], api: str, http: httpx.Client, versions: tuple[str, ...] = ("",)
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Every case from its page, against each version's configurations (in one script run per page):
    the verdicts by version and case, and Chromium's console."""
    browser.get(api + "/_set_cookie")  # first-party: the API origin sets its cookie
    assert any(cookie["name"] == "rwsession" for cookie in browser.get_cookies()), "the cookie was not stored"
    browser.get_log("browser")  # drop earlier messages
    results: dict[str, str] = {}  # by path
    for page in (PAGE, OTHER):
        paths = [(case_path(case, version), case) for version in versions for case in CASES if case.page == page]
        results.update(run_fetches(browser, pages[page], fetch_batch(api, paths)))
    console = [entry["message"] for entry in browser.get_log("browser")]
    log = http.get(api + "/_log").json()
    verdicts: dict[str, dict[str, str]] = {version: {} for version in versions}
    for version in versions:
        for case in CASES:
            path = case_path(case, version)
            verdicts[version][case.id] = verdict(api, path, results[path], console, log)
    return verdicts, console


def fetch_batch(api: str, cases: Iterable[tuple[str, Case]]) -> list[dict[str, Any]]:
    """RUN_FETCHES_JS's input: each (path, case)'s fetches to `api` + path, the path as its id."""
    return [{"id": path, "url": api + path, "fetches": [vars(f) for f in case.fetches]} for path, case in cases]


@dataclass
class BrowserRun:
    """The verdicts of one middleware variant, by case id."""

    variant: str
    verdicts: dict[str, str]
    console: list[str]  # Chromium's console messages, for failure reports
    origins: dict[str, set[str]] = field(default_factory=dict)  # the Origin headers the API received, by case


def assert_verdict(run: BrowserRun, case: Case) -> None:
    related = [message for message in run.console if f"/{case.config}/{case.id}'" in message]
    assert run.verdicts[case.id] == case.expected, f"{run.variant}: {case.id}: console: {related}"


def served_implementation(variant: str) -> dict[str, object]:
    """What browser_api's /_impl says for a middleware variant ("starlette..." or "fastcors-<impl>")."""
    if variant.startswith("starlette"):
        return {"middleware": "starlette"}
    return {"middleware": "fastcors", "compiled": variant == "fastcors-compiled"}
