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

from typing import Any

import httpx
import pytest

from .rw_browser import (
    OTHER,
    PAGE,
    PUT_CUSTOM,
    WITH_COOKIE,
    BrowserRun,
    Case,
    Fetch,
    assert_verdict,
    run_cases,
    served_implementation,
)
from .rw_support import impl_env, serving, verdict_table

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

TABLE = verdict_table("browser CORS verdicts: what JavaScript got | what the API server received")

# (variant id, RW_MIDDLEWARE, fastcors implementation or None)
VARIANTS = [
    ("starlette", "starlette", None),
    ("fastcors-compiled", "fastcors", "compiled"),
    ("fastcors-python", "fastcors", "python"),
]


@pytest.fixture(scope="module", params=VARIANTS, ids=[variant[0] for variant in VARIANTS])
def browser_run(request: pytest.FixtureRequest, browser: Any, pages: dict[str, str], http: httpx.Client) -> BrowserRun:
    variant, middleware, impl = request.param
    env = {"RW_MIDDLEWARE": middleware, "RW_PAGE_ORIGIN": pages[PAGE]}
    if impl is not None:
        env.update(impl_env(impl))
    with serving("uvicorn", "rw_served.browser_api:app", env, ready_path="/_impl") as api:
        assert http.get(api.url + "/_impl").json() == served_implementation(variant)
        verdicts, console = run_cases(browser, pages, api.url, http, CASES)
    for case in CASES:
        TABLE.record(case.id, variant, verdicts[""][case.id])
    return BrowserRun(variant, verdicts[""], console)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_browser_verdict(browser_run: BrowserRun, case: Case) -> None:
    assert_verdict(browser_run, case)
