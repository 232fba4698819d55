"""Headless Debian Chromium (driven by Selenium and Debian's chromedriver) and page servers.

Never downloads a browser or a driver: both binaries come from Debian's packages
(`chromium`, `chromium-driver`), and Selenium is given their paths.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
