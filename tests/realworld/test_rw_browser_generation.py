"""fastcors answering as an old Starlette (starlette_version="0.46.2") as headless Chromium sees it.

One API server per implementation serves test_rw_browser's configurations twice: answering as
the newest Starlette generation and as 0.46.2 (browser_api's RW_STARLETTE_VERSIONS), and one
script run per page fetches every case of test_rw_browser against both. The generations differ
where `allow_origins=["*"]` meets credentials: before 1.0 the origin is reflected when the
request carries a cookie, not when allow_credentials is set. In the browser:
  star_credentialed    the cookie makes 0.46 name the origin, without Allow-Credentials:
                       still blocked, for another reason
  starcred_cross_site  a Lax cookie never goes cross-site, so 0.46 answers `*` together with
  starcred_preflight   Allow-Credentials: Chromium blocks the credentialed fetch (the preflight,
                       which names the origin in both generations, passes)
Every other verdict is the newest one (which test_rw_browser checks against Starlette). The
headers behind the three differences are Starlette 0.46.2's own (the per-release suites).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .rw_browser import PAGE, run_cases
from .rw_support import IMPLS, impl_env, serving, verdict_table
from .test_rw_browser import CASES

OLD = "0.46.2"
TABLE = verdict_table(f"browser CORS verdicts, fastcors starlette_version='newest' vs {OLD!r}")

# Where 0.46.2's verdict differs from the newest (CASES' expected).
OLD_DIFFERS = {
    "star_credentialed": "blocked (no-allow-credentials) | GET+cookie",
    "starcred_cross_site": "blocked (wildcard-with-credentials) | GET",
    "starcred_preflight": "blocked (wildcard-with-credentials) | OPTIONS,PUT",
}


@pytest.mark.parametrize("impl", IMPLS)
def test_old_generation_verdicts(impl: str, browser: Any, pages: dict[str, str], http: httpx.Client) -> None:
    env = {"RW_MIDDLEWARE": "fastcors", "RW_PAGE_ORIGIN": pages[PAGE], "RW_STARLETTE_VERSIONS": f"newest,{OLD}"}
    with serving("uvicorn", "rw_served.browser_api:app", {**env, **impl_env(impl)}, ready_path="/_impl") as api:
        assert http.get(api.url + "/_impl").json() == {"middleware": "fastcors", "compiled": impl == "compiled"}
        verdicts, console = run_cases(browser, pages, api.url, http, CASES, versions=("newest", OLD))
    for case in CASES:
        TABLE.record(case.id, "newest", verdicts["newest"][case.id], impl)
        TABLE.record(case.id, OLD, verdicts[OLD][case.id], impl)
    newest = {case.id: case.expected for case in CASES}
    assert verdicts["newest"] == newest, console
    assert verdicts[OLD] == {**newest, **OLD_DIFFERS}, console
