"""Per-path CORS policies (`paths=`) as headless Chromium enforces them, against the workaround.

rw_served.paths_api: a FastAPI app with /public, /partner and /internal routers and the
top-level routes /top and /publicity, served by uvicorn in two ways:
  fastcors           one fastcors CORSMiddleware: top level allow_origins=[other], and
                     paths={"/public": any origin, "/partner": page only with credentials and
                     PUT + x-custom, "/internal": None} (both implementations)
  starlette-mounted  Starlette's CORSMiddleware on a sub-application per router, mounted at
                     its prefix (the top-level routes on one mounted at "/")
Pages (conftest's `pages`): page http://127.0.0.1:<A>, the partner, same-site with the API (its
Lax cookie comes along on a credentialed fetch); other http://localhost:<C>, the top level's
one origin. Verdicts: "<what JavaScript got> | <what the API server received>", as in
test_rw_browser. Every fastcors verdict must equal the mounted Starlette one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_harness import require_modules

from .rw_browser import OTHER, PAGE, WITH_COOKIE, Fetch, run_fetches, verdict
from .rw_support import IMPLS, impl_env, serving, verdict_table

TABLE = verdict_table("browser CORS verdicts per path: fastcors paths= vs Starlette mounted per router")
MOUNTED = "starlette-mounted"


@dataclass(frozen=True)
class Case:
    id: str
    page: str  # which origin the fetches run from
    prefix: str  # the fetches go to <prefix>/<id>
    fetch: Fetch
    expected: str

    @property
    def path(self) -> str:
        return f"{self.prefix}/{self.id}"


GET = Fetch()
PUT_CREDENTIALED = Fetch("PUT", {"x-custom": "1"}, credentials="include", body="x")

CASES = [
    # /public: any origin may read, without credentials.
    Case("public_get_page", PAGE, "/public", GET, "ok 200 | GET"),
    Case("public_get_other", OTHER, "/public", GET, "ok 200 | GET"),
    Case("public_credentialed", PAGE, "/public", WITH_COOKIE, "blocked (wildcard-with-credentials) | GET+cookie"),
    # /partner: the page only, with its cookie, and a preflighted PUT.
    Case("partner_credentialed", PAGE, "/partner", WITH_COOKIE, "ok cookie=abc | GET+cookie"),
    Case("partner_put", PAGE, "/partner", PUT_CREDENTIALED, "ok 200 | OPTIONS,PUT+cookie"),
    Case("partner_get_other", OTHER, "/partner", GET, "blocked (no-allow-origin) | GET"),
    Case("partner_put_other", OTHER, "/partner", PUT_CREDENTIALED, "blocked (no-allow-origin) | OPTIONS"),
    # The top level: other only.
    Case("top_get_other", OTHER, "/top", GET, "ok 200 | GET"),
    Case("top_get_page", PAGE, "/top", GET, "blocked (no-allow-origin) | GET"),
    # /publicity is not below /public: the top level's policy.
    Case("publicity_get_other", OTHER, "/publicity", GET, "ok 200 | GET"),
    Case("publicity_get_page", PAGE, "/publicity", GET, "blocked (no-allow-origin) | GET"),
    # /internal: no CORS handling; the app itself answers the preflight (405).
    Case("internal_get_other", OTHER, "/internal", GET, "blocked (no-allow-origin) | GET"),
    Case("internal_get_page", PAGE, "/internal", GET, "blocked (no-allow-origin) | GET"),
    Case("internal_put_page", PAGE, "/internal", PUT_CREDENTIALED, "blocked (no-allow-origin) | OPTIONS"),
]


@dataclass
class PathsRun:
    variant: str
    implementation: dict[str, Any]  # what the API server says it runs
    verdicts: dict[str, str]
    internal_headers: list[str]  # the header names of a GET of /internal/x with an Origin
    console: list[str]


def _run(variant: str, impl: str | None, browser: Any, pages: dict[str, str], http: httpx.Client) -> PathsRun:
    require_modules("fastapi")
    env = {"RW_MIDDLEWARE": "starlette" if impl is None else "fastcors", "RW_PAGE_ORIGIN": pages[PAGE]}
    env["RW_OTHER_ORIGIN"] = pages[OTHER]
    if impl is not None:
        env.update(impl_env(impl))
    with serving("uvicorn", "rw_served.paths_api:app", env, ready_path="/_impl") as api:
        implementation = http.get(api.url + "/_impl").json()
        internal = http.get(api.url + "/internal/x", headers={"origin": pages[OTHER]})
        browser.get(api.url + "/_set_cookie")  # first-party: the API origin sets its cookie
        browser.get_log("browser")  # drop earlier messages
        results: dict[str, str] = {}
        for page in (PAGE, OTHER):
            batch = [{"id": c.id, "url": api.url + c.path, "fetches": [vars(c.fetch)]} for c in CASES if c.page == page]
            results.update(run_fetches(browser, pages[page], batch))
        console = [entry["message"] for entry in browser.get_log("browser")]
        log = http.get(api.url + "/_log").json()
    verdicts = {case.id: verdict(api.url, case.path, results[case.id], console, log) for case in CASES}
    for case in CASES:
        TABLE.record(case.id, variant, verdicts[case.id])
    return PathsRun(variant, implementation, verdicts, sorted(internal.headers.keys()), console)


@pytest.fixture(scope="module")
def mounted(browser: Any, pages: dict[str, str], http: httpx.Client) -> PathsRun:
    return _run(MOUNTED, None, browser, pages, http)


@pytest.fixture(scope="module", params=IMPLS)
def fastcors_run(
    request: pytest.FixtureRequest, mounted: PathsRun, browser: Any, pages: dict[str, str], http: httpx.Client
) -> PathsRun:
    # `mounted` first: the reference column comes first in the table.
    return _run(f"fastcors-{request.param}", request.param, browser, pages, http)


def test_the_servers_run_the_variants(mounted: PathsRun, fastcors_run: PathsRun) -> None:
    assert mounted.implementation == {"middleware": "starlette"}
    assert fastcors_run.implementation == {
        "middleware": "fastcors",
        "compiled": fastcors_run.variant == "fastcors-compiled",
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_mounted_starlette_verdict(mounted: PathsRun, case: Case) -> None:
    related = [message for message in mounted.console if f"{case.path}'" in message]
    assert mounted.verdicts[case.id] == case.expected, f"console: {related}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fastcors_verdict_equals_mounted_starlette(fastcors_run: PathsRun, mounted: PathsRun, case: Case) -> None:
    related = [message for message in fastcors_run.console if f"{case.path}'" in message]
    assert fastcors_run.verdicts[case.id] == mounted.verdicts[case.id], f"console: {related}"


def test_internal_answers_carry_no_cors_headers(fastcors_run: PathsRun, mounted: PathsRun) -> None:
    # None: the app's answer as it is, not even Vary: Origin.
    assert fastcors_run.internal_headers == mounted.internal_headers
    assert not [name for name in mounted.internal_headers if name.startswith("access-control-") or name == "vary"]
