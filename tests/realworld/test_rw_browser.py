"""CORS as headless Chromium enforces it, with fastcors (both implementations) or Starlette in front.

Origins, all on loopback:
  page   http://127.0.0.1:<A>   the page the explicit-origin configurations allow
  other  http://localhost:<C>   a second origin (denied, or allowed by `*` / the regex)
  api    http://127.0.0.1:<B>   uvicorn serving rw_served.browser_api (one middleware variant)

Cookies: the API sets `rwsession=abc; SameSite=Lax` from a first-party page of its own.
Ports do not split sites, so page -> api (127.0.0.1 -> 127.0.0.1) is same-site and the
browser sends the cookie on a credentialed fetch; other -> api (localhost -> 127.0.0.1) is
cross-site, where a Lax cookie is never sent. (SameSite=None would need Secure, i.e.
https, so on plain http the credentialed cases run from the same-site page.)

Each verdict is "<what JavaScript got> | <what the API server received>": JavaScript
either reads the answer or gets fetch's TypeError ("blocked", with Chromium's console
reason in brackets); the server side lists the requests in order, `+cookie` where the
cookie came along. One browser for the session, one API server per middleware variant,
every case of a page in one script run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .rw_browser import OTHER, PAGE, run_fetches
from .rw_support import BROWSER_VERDICTS, check_impl_available, impl_env, serving


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

# (variant id, RW_MIDDLEWARE, fastcors implementation or None)
VARIANTS = [
    ("starlette", "starlette", None),
    ("fastcors-compiled", "fastcors", "compiled"),
    ("fastcors-python", "fastcors", "python"),
]


@dataclass
class BrowserRun:
    variant: str
    implementation: dict[str, Any]  # what the API server says it runs
    verdicts: dict[str, str]
    console: list[str]  # Chromium's console messages, for failure reports


def _reason(url: str, console: list[str]) -> str:
    messages = [message for message in console if f"'{url}'" in message]
    for needle, reason in CONSOLE_REASONS:
        if any(needle in message for message in messages):
            return reason
    return "no console reason" if not messages else "other: " + messages[0][:200]


def verdict(api: str, path: str, js: str, console: list[str], log: list[dict[str, Any]]) -> str:
    """The verdict on the fetches to `api` + `path`: what JavaScript got | what the API server received."""
    if js == "blocked":
        js = f"blocked ({_reason(api + path, console)})"
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
        batch = [{"id": path, "url": api + path, "fetches": [vars(f) for f in case.fetches]} for path, case in paths]
        results.update(run_fetches(browser, pages[page], batch))
    console = [entry["message"] for entry in browser.get_log("browser")]
    log = http.get(api + "/_log").json()
    verdicts: dict[str, dict[str, str]] = {version: {} for version in versions}
    for version in versions:
        for case in CASES:
            path = case_path(case, version)
            verdicts[version][case.id] = verdict(api, path, results[path], console, log)
    return verdicts, console


@pytest.fixture(scope="module", params=VARIANTS, ids=[variant[0] for variant in VARIANTS])
def browser_run(request: pytest.FixtureRequest, browser: Any, pages: dict[str, str], http: httpx.Client) -> BrowserRun:
    variant, middleware, impl = request.param
    env = {"RW_MIDDLEWARE": middleware, "RW_PAGE_ORIGIN": pages[PAGE]}
    if impl is not None:
        check_impl_available(impl)
        env.update(impl_env(impl))
    with serving("uvicorn", "rw_served.browser_api:app", env, ready_path="/_impl") as api:
        implementation = http.get(api.url + "/_impl").json()
        verdicts, console = run_cases(browser, pages, api.url, http)
    BROWSER_VERDICTS[variant] = verdicts[""]  # printed as a table at the end of the run
    return BrowserRun(variant, implementation, verdicts[""], console)


def test_api_runs_the_variant(browser_run: BrowserRun) -> None:
    expected = {
        "starlette": {"middleware": "starlette"},
        "fastcors-compiled": {"middleware": "fastcors", "compiled": True},
        "fastcors-python": {"middleware": "fastcors", "compiled": False},
    }[browser_run.variant]
    assert browser_run.implementation == expected


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_browser_verdict(browser_run: BrowserRun, case: Case) -> None:
    got = browser_run.verdicts[case.id]
    related = [message for message in browser_run.console if f"/{case.config}/{case.id}'" in message]
    assert got == case.expected, f"{browser_run.variant}: {case.id}: console: {related}"
