"""fastcors' origin patterns as headless Chromium enforces CORS on them.

Chromium resolves the test host names to loopback (conftest's `browser`, HOST_RESOLVER_RULES),
so pages can run on real subdomains. Origins (ports A and B: two page servers):
  api      http://api.example.test:<P>   uvicorn serving rw_served.browser_api (one variant)
  sub      http://app.example.test:<A>   one label under example.test
  sub_b    http://app.example.test:<B>   the same host on the other page port
  deep     http://a.b.example.test:<A>   two labels under example.test
  idn      http://bücher.example.test:<A>, whose origin Chromium sends punycoded:
           http://xn--bcher-kva.example.test:<A>
  under    http://my_app.example.test:<A>  an underscore in the label
  apex     http://example.test:<A>       the domain itself: `*.` never matches it
  evil     http://evilexample.test:<A>   a look-alike that ends in "example.test"
  local    http://app.localhost:<A>      `*.localhost` (loopback in Chromium without any rule)
  local_b  http://app.localhost:<B>
  lochost  http://localhost:<A>          the apex of `*.localhost`

The configurations of browser_api (PATTERN_CONFIGS), all with GET/PUT, the x-custom header,
x-exposed exposed and credentials allowed:
  sub        http://*.example.test:*    any subdomain, any port
  fixedport  http://*.example.test:<A>  any subdomain, page port A only
  localsub   http://*.localhost:*
Starlette has no patterns: its reference row ("starlette-regex") is served the regex that
means the same, so the fastcors rows can be compared with the rule people write today.

api.example.test and app.example.test are the same site (example.test), so the API's
SameSite=Lax cookie comes along on a credentialed fetch from the subdomains and the apex,
never from evilexample.test or app.localhost. Verdicts have the format of test_rw_browser:
"<what JavaScript got> | <what the API server received>".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from . import rw_browser as cases
from .rw_browser import PUT_CUSTOM, WITH_COOKIE, BrowserRun, Case, Fetch, case_path, page_server, run_fetches
from .rw_support import impl_env, serving, verdict_table

API_HOST = "api.example.test"
TABLE = verdict_table("browser CORS verdicts, origin patterns: what JavaScript got | what the API server received")


GET = Fetch()
READ_HEADERS = Fetch(read="headers")
ALLOWED_GET = "ok 200 | GET"
ALLOWED_PUT = "ok 200 | OPTIONS,PUT"
DENIED_GET = "blocked (no-allow-origin) | GET"
# The preflight of a refused origin: a 400 without Access-Control-Allow-Origin, which Chromium
# reports as the missing header; the PUT itself is never sent.
DENIED_PUT = "blocked (no-allow-origin) | OPTIONS"

CASES = [
    # A subdomain page: simple GET, preflighted PUT with a custom header, credentials, exposed header.
    Case("sub_get", "sub", "sub", (GET,), ALLOWED_GET),
    Case("sub_preflight_put", "sub", "sub", (PUT_CUSTOM,), ALLOWED_PUT),
    Case("sub_credentialed", "sub", "sub", (WITH_COOKIE,), "ok cookie=abc | GET+cookie"),
    Case("sub_exposed_header", "sub", "sub", (READ_HEADERS,), "ok x-exposed=yes x-hidden=null | GET"),
    # Two labels match `*.` too, and so do a punycoded label and one with an underscore.
    Case("deep_get", "deep", "sub", (GET,), ALLOWED_GET),
    Case("deep_preflight_put", "deep", "sub", (PUT_CUSTOM,), ALLOWED_PUT),
    Case("idn_get", "idn", "sub", (GET,), ALLOWED_GET),
    Case("underscore_label_get", "under", "sub", (GET,), ALLOWED_GET),
    # The apex is never matched by `*.`: the cookie goes out (same site), the answer stays unread.
    Case("apex_get_denied", "apex", "sub", (GET,), DENIED_GET),
    Case("apex_preflight_denied", "apex", "sub", (PUT_CUSTOM,), DENIED_PUT),
    Case("apex_credentialed_denied", "apex", "sub", (WITH_COOKIE,), "blocked (no-allow-origin) | GET+cookie"),
    # A look-alike that merely ends in "example.test".
    Case("lookalike_get_denied", "evil", "sub", (GET,), DENIED_GET),
    Case("lookalike_preflight_denied", "evil", "sub", (PUT_CUSTOM,), DENIED_PUT),
    Case("lookalike_credentialed_denied", "evil", "sub", (WITH_COOKIE,), DENIED_GET),
    # `:*`: both page ports are allowed.
    Case("anyport_other_port_get", "sub_b", "sub", (GET,), ALLOWED_GET),
    Case("anyport_other_port_preflight_put", "sub_b", "sub", (PUT_CUSTOM,), ALLOWED_PUT),
    Case("localhost_anyport_port_a", "local", "localsub", (GET,), ALLOWED_GET),
    Case("localhost_anyport_port_b", "local_b", "localsub", (GET,), ALLOWED_GET),
    Case("localhost_anyport_preflight_put", "local_b", "localsub", (PUT_CUSTOM,), ALLOWED_PUT),
    Case("localhost_apex_denied", "lochost", "localsub", (GET,), DENIED_GET),
    # A fixed port: that port only.
    Case("fixedport_get", "sub", "fixedport", (GET,), ALLOWED_GET),
    Case("fixedport_preflight_put", "sub", "fixedport", (PUT_CUSTOM,), ALLOWED_PUT),
    Case("fixedport_other_port_get_denied", "sub_b", "fixedport", (GET,), DENIED_GET),
    Case("fixedport_other_port_preflight_denied", "sub_b", "fixedport", (PUT_CUSTOM,), DENIED_PUT),
]

# (variant id, RW_MIDDLEWARE, fastcors implementation or None)
VARIANTS = [
    ("fastcors-compiled", "fastcors", "compiled"),
    ("fastcors-python", "fastcors", "python"),
    ("starlette-regex", "starlette", None),
]


# Where the browser is sent for a page whose address differs from its origin.
ADDRESSES = {"idn": "http://bücher.example.test"}


@pytest.fixture(scope="module")
def pages() -> Iterator[dict[str, str]]:
    """Each page's origin, as Chromium sends it."""
    with page_server() as port_a, page_server() as port_b:
        yield {
            "sub": f"http://app.example.test:{port_a}",
            "sub_b": f"http://app.example.test:{port_b}",
            "deep": f"http://a.b.example.test:{port_a}",
            "idn": f"http://xn--bcher-kva.example.test:{port_a}",
            "under": f"http://my_app.example.test:{port_a}",
            "apex": f"http://example.test:{port_a}",
            "evil": f"http://evilexample.test:{port_a}",
            "local": f"http://app.localhost:{port_a}",
            "local_b": f"http://app.localhost:{port_b}",
            "lochost": f"http://localhost:{port_a}",
        }


def _port(origin: str) -> str:
    return origin.rsplit(":", 1)[1]


@pytest.fixture(scope="module", params=VARIANTS, ids=[variant[0] for variant in VARIANTS])
def pattern_run(request: pytest.FixtureRequest, browser: Any, pages: dict[str, str], http: httpx.Client) -> BrowserRun:
    variant, middleware, impl = request.param
    env = {"RW_MIDDLEWARE": middleware, "RW_PATTERN_PORT": _port(pages["sub"])}
    if impl is not None:
        env.update(impl_env(impl))
    with serving("uvicorn", "rw_served.browser_api:app", env, ready_path="/_impl") as server:
        api = f"http://{API_HOST}:{server.port}"
        assert http.get(server.url + "/_impl").json() == cases.served_implementation(variant)
        browser.get(api + "/_set_cookie")  # first-party: the API origin sets its cookie
        cookies = browser.get_cookies()
        assert any(c["name"] == "rwsession" and c["domain"] == API_HOST for c in cookies), "the cookie was not stored"
        browser.get_log("browser")  # drop earlier messages
        results: dict[str, str] = {}
        for page, origin in pages.items():  # every page has cases
            address = ADDRESSES.get(page, origin.rsplit(":", 1)[0]) + ":" + _port(origin)
            batch = cases.fetch_batch(api, [(case_path(case), case) for case in CASES if case.page == page])
            results.update(run_fetches(browser, address, batch))
            assert browser.execute_script("return location.origin") == origin
        console = [entry["message"] for entry in browser.get_log("browser")]
        log = http.get(server.url + "/_log").json()
    verdicts, origins = {}, {}
    for case in CASES:
        path = case_path(case)
        verdicts[case.id] = cases.verdict(api, path, results[path], console, log)
        origins[case.id] = {entry["origin"] for entry in log if entry["path"] == path}
        TABLE.record(case.id, variant, verdicts[case.id])
    return BrowserRun(variant, verdicts, console, origins)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_browser_pattern_verdict(pattern_run: BrowserRun, case: Case) -> None:
    cases.assert_verdict(pattern_run, case)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_browser_sent_the_page_origin(pattern_run: BrowserRun, pages: dict[str, str], case: Case) -> None:
    # Each verdict is about the origin it names: Chromium sent that page's origin, port included.
    assert pattern_run.origins[case.id] == {pages[case.page]}
