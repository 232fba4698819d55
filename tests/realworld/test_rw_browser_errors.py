"""Error responses as headless Chromium sees them: a route that raises, with fastcors in each place.

Origins, both on loopback: the page http://127.0.0.1:<A> (allowed) fetches from the API
http://127.0.0.1:<B>, uvicorn serving one app of rw_served.errors_api directly:
  inside    `add_middleware`: ServerErrorMiddleware answers the 500 outside fastcors, without
            CORS headers, so fetch() rejects with a TypeError (a CORS failure) and the page
            never learns the status
  wrapped   `app = CORSMiddleware(app, ...)` handed to uvicorn: the page reads the 500
  subclass  FastAPI with `build_middleware_stack` overridden: the same, `app` stays a FastAPI
FastAPI's apps have a custom 500 handler (JSON body), Starlette's the default one. The POST
sends JSON, so Chromium preflights it; the preflight succeeds in every setup (the middleware
answers it), only the 500 differs. The app exception handlers' answers (an HTTPException's
404, a custom handler's 418) are readable in every setup. `/ok` shows that the lifespan
startup ran through the wrapper under uvicorn. Verdicts: what JavaScript got ("blocked" is
fetch's TypeError, with Chromium's console reason), then, for the blocked ones, what the
server really answered (status and Access-Control-Allow-Origin, fetched without a browser).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_harness import require_modules

from .rw_browser import RUN_FETCHES_JS, Fetch, console_reason, page_server
from .rw_support import IMPLS, impl_env, serving, verdict_table

TABLE = verdict_table("browser: error responses (what JavaScript got)")

FASTAPI_500 = '{"error":"kaboom"}'  # the app's custom 500 handler
STARLETTE_500 = "Internal Server Error"  # Starlette's default
BLOCKED_500 = "blocked (no-allow-origin)"
PREFLIGHT_POST_JSON = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    fetch: Fetch


CASES = [
    Case("ok", "/ok", Fetch(read="body")),
    Case("raise_get", "/boom", Fetch(read="body")),
    Case("raise_post_json", "/boom", Fetch("POST", {"content-type": "application/json"}, body="{}", read="body")),
    Case("http_exception_404", "/missing", Fetch(read="body")),
    Case("custom_handler_418", "/teapot", Fetch(read="body")),
]


def expected(framework: str, setup: str) -> dict[str, str]:
    """What JavaScript reads in each case, for one app."""
    error = f"ok 500 {FASTAPI_500 if framework == 'fastapi' else STARLETTE_500}"
    if setup == "inside":
        error = BLOCKED_500
    not_found = '{"detail":"no such item"}' if framework == "fastapi" else "no such item"
    return {
        "ok": "ok 200 started=yes",
        "raise_get": error,
        "raise_post_json": error,
        "http_exception_404": f"ok 404 {not_found}",
        "custom_handler_418": "ok 418 teapot",
    }


APPS = [
    ("fastapi", "inside"),
    ("fastapi", "wrapped"),
    ("fastapi", "subclass"),
    ("starlette", "inside"),
    ("starlette", "wrapped"),
]
MATRIX = [(framework, setup, impl) for framework, setup in APPS for impl in IMPLS]


@dataclass
class ErrorRun:
    framework: str
    setup: str
    impl: str
    compiled: bool  # what the server process says it runs
    verdicts: dict[str, str]
    direct: dict[str, httpx.Response]  # /boom from the page's origin without a browser: "get", "preflight"
    console: list[str]
    server_log: str


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    with page_server() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=MATRIX, ids=[f"{framework}-{setup}-{impl}" for framework, setup, impl in MATRIX])
def error_run(request: pytest.FixtureRequest, browser: Any, page: str, http: httpx.Client) -> ErrorRun:
    framework, setup, impl = request.param
    require_modules(framework)
    env = {"RW_PAGE_ORIGIN": page, **impl_env(impl)}
    with serving("uvicorn", f"rw_served.errors_api:{framework}_{setup}", env, ready_path="/_impl") as api:
        compiled = http.get(api.url + "/_impl").json()["compiled"]
        # uvicorn closes the connection after an unhandled exception: no keep-alive reuse here.
        direct = {
            "get": http.get(api.url + "/boom", headers={"origin": page, "connection": "close"}),
            "preflight": http.options(api.url + "/boom", headers={"origin": page, **PREFLIGHT_POST_JSON}),
        }
        browser.get(page + "/")
        browser.get_log("browser")  # drop earlier messages
        batch = [{"id": case.id, "url": api.url + case.path, "fetches": [vars(case.fetch)]} for case in CASES]
        results = browser.execute_async_script(RUN_FETCHES_JS, batch)
        assert "__error__" not in results, results
        console = [entry["message"] for entry in browser.get_log("browser")]
        server_log = api.log_tail(100_000)
    verdicts = {}
    for case in CASES:
        got = results[case.id]
        verdicts[case.id] = f"blocked ({console_reason(api.url + case.path, console)})" if got == "blocked" else got
        TABLE.record(case.id, f"{framework}-{setup}", verdicts[case.id], impl)
    return ErrorRun(framework, setup, impl, compiled, verdicts, direct, console, server_log)


def test_server_runs_the_implementation(error_run: ErrorRun) -> None:
    assert error_run.compiled == (error_run.impl == "compiled")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_what_the_page_reads(error_run: ErrorRun, case: Case) -> None:
    got = error_run.verdicts[case.id]
    related = [message for message in error_run.console if case.path in message]
    assert got == expected(error_run.framework, error_run.setup)[case.id], f"console: {related}"


def test_the_server_answered_500_either_way(error_run: ErrorRun, page: str) -> None:
    # The blocked fetches were not a network failure: the server sent its 500, and only the
    # CORS headers decide whether the page may read it.
    response = error_run.direct["get"]
    assert response.status_code == 500
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed == (None if error_run.setup == "inside" else page)


def test_the_preflight_passes_in_every_setup(error_run: ErrorRun, page: str) -> None:
    # The middleware answers the preflight itself: the blocked POST failed on its 500, not before.
    response = error_run.direct["preflight"]
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers.get("access-control-allow-origin") == page


def test_the_server_logs_the_exception(error_run: ErrorRun) -> None:
    # ServerErrorMiddleware re-raises after its 500, through fastcors in every setup: uvicorn logs it.
    assert "RuntimeError: kaboom" in error_run.server_log
