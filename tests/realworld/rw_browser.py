"""The browser suites' harness: headless Chromium, the page servers, and the CORS cases it runs.

Chromium is Debian's, driven by Selenium and Debian's chromedriver: never downloads a browser
or a driver (packages `chromium`, `chromium-driver`; Selenium is given their paths).

A case is fetches from a page against rw_served.browser_api, whose path names the CORS
configuration that answers (`/<config>/<case id>`), and its verdict: "<what JavaScript got> |
<what the API server received>". JavaScript either reads the answer or gets fetch's TypeError
("blocked", with Chromium's console reason in brackets); the server side lists the requests
in order, `+cookie` where the cookie came along.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from asgi_harness import require_modules, unavailable

from bench.launch import HOST

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers
]

# Test host names that Chromium resolves to loopback itself (no DNS, no /etc/hosts): the
# pages and the API of the origin-pattern and WebSocket suites. Chromium resolves
# `localhost` and `*.localhost` to loopback without any rule.
HOST_RESOLVER_RULES = "MAP *.example.test 127.0.0.1, MAP example.test 127.0.0.1, MAP evilexample.test 127.0.0.1"

# The two page origins of the browser suites (conftest's `pages`): "page" http://127.0.0.1:<A>,
# same-site with an API on 127.0.0.1 (its Lax cookie comes along), and "other"
# http://localhost:<C>, cross-site.
PAGE, OTHER = "page", "other"

PAGE_HTML = b"<!doctype html><html><head><title>fastcors page</title></head><body>page</body></html>"


class _PageHandler(BaseHTTPRequestHandler):
    """Serves one blank page: the origin that JavaScript fetches run from."""

    def do_GET(self) -> None:
        status, body = (200, PAGE_HTML) if self.path == "/" else (404, b"not found")
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass


@contextlib.contextmanager
def page_server() -> Iterator[int]:
    """A page server on a free loopback port, in a thread of this process; yields the port."""
    server = ThreadingHTTPServer((HOST, 0), _PageHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="page-server", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def chromium(extra_flags: Sequence[str] = ()) -> Iterator[Any]:
    """One headless Chromium with a fresh profile (and `extra_flags`); yields a Selenium WebDriver."""
    require_modules("selenium")
    for binary in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(binary) is None:
            unavailable(f"{binary} not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="fastcors-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, *extra_flags]:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    # The console carries Chromium's reason for each CORS failure; keep it readable.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_script_timeout(60)
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# Runs every case's fetches in order, in the page, and reports what JavaScript could read.
# No `cache: 'no-store'`: Chromium then skips its preflight cache too (the API answers
# with Cache-Control: no-store instead). A case's result is one string per fetch: "ok <status>", "ok cookie=<value>",
# "ok x-exposed=<value> x-hidden=<value>", "ok <status> <body>", or the error: "blocked" for the TypeError that
# fetch() rejects with on a CORS failure, "<name>: <message>" for anything else.
RUN_FETCHES_JS = """
const cases = arguments[0];
const done = arguments[arguments.length - 1];
(async () => {
  const results = {};
  for (const c of cases) {
    const parts = [];
    for (const f of c.fetches) {
      const init = {method: f.method, headers: f.headers, credentials: f.credentials, mode: 'cors'};
      if (f.body !== null) init.body = f.body;
      try {
        const response = await fetch(c.url, init);
        const text = await response.text();
        if (f.read === 'cookie') {
          parts.push('ok cookie=' + (JSON.parse(text).cookie || '-'));
        } else if (f.read === 'headers') {
          const get = (name) => name + '=' + response.headers.get(name);
          parts.push('ok ' + get('x-exposed') + ' ' + get('x-hidden'));
        } else if (f.read === 'body') {
          parts.push('ok ' + response.status + ' ' + text);
        } else {
          parts.push('ok ' + response.status);
        }
      } catch (error) {
        parts.push(error.name === 'TypeError' ? 'blocked' : error.name + ': ' + error.message);
      }
    }
    results[c.id] = parts.join(', ');
  }
  return results;
})().then(done, (error) => done({'__error__': String(error)}));
"""


def run_fetches(driver: Any, page: str, batch: list[dict[str, Any]]) -> dict[str, str]:
    """Open the page at origin `page`, run RUN_FETCHES_JS on `batch` there; what JavaScript got, by id."""
    driver.get(page + "/")
    got = driver.execute_async_script(RUN_FETCHES_JS, batch)
    assert "__error__" not in got, got
    return got


# ---------------------------------------------------------------------------- the cases


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
    browser: Any,
    pages: dict[str, str],
    api: str,
    http: httpx.Client,
    cases: Sequence[Case],
    versions: tuple[str, ...] = ("",),
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Every case from its page, against each version's configurations (in one script run per page):
    the verdicts by version and case, and Chromium's console."""
    browser.get(api + "/_set_cookie")  # first-party: the API origin sets its cookie
    assert any(cookie["name"] == "rwsession" for cookie in browser.get_cookies()), "the cookie was not stored"
    browser.get_log("browser")  # drop earlier messages
    results: dict[str, str] = {}  # by path
    for page in (PAGE, OTHER):
        paths = [(case_path(case, version), case) for version in versions for case in cases if case.page == page]
        results.update(run_fetches(browser, pages[page], fetch_batch(api, paths)))
    console = [entry["message"] for entry in browser.get_log("browser")]
    log = http.get(api + "/_log").json()
    verdicts: dict[str, dict[str, str]] = {version: {} for version in versions}
    for version in versions:
        for case in cases:
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
