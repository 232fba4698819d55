"""fastcors' `websocket_origin_guard` on real servers, with real clients: Chromium and `websockets`.

Browsers apply no CORS to WebSockets: any page may open `new WebSocket(...)` to any server,
cookies included, and only the server can refuse by the Origin header (cross-site WebSocket
hijacking). With the guard, fastcors refuses the handshake of a disallowed Origin before the
app sees it: with the ASGI "websocket.http.response" extension (an HTTP 403 with the body
"Disallowed CORS origin") where the server advertises it, else by closing before accept,
which the server turns into an HTTP 403 of its own.

The app is rw_served.ws_api: an echo endpoint behind fastcors (guard on: /ws; guard off:
/unguarded/ws; on a server without the extension: /noext/ws) and behind Starlette's
CORSMiddleware (/starlette/ws), allowing http://allowed.example and (fastcors only)
http://*.example.test:*. Each handshake carries a `case` query parameter, and the endpoint
logs the ones that reach it, so every verdict says both what the client got and what the
app saw ("-": the handshake never reached it).

1. Chromium: pages on an allowed origin (app.example.test) and a denied look-alike
   (evilexample.test) open WebSockets to the app under uvicorn.
2. The `websockets` client, with an explicit Origin header (or none), against uvicorn (each
   WebSocket implementation), hypercorn (asyncio, trio) and granian.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_harness import require_modules

from bench.launch import ServerProcess

from .rw_browser import page_server
from .rw_support import (
    IMPLS,
    WEBSOCKET_SERVERS,
    impl_env,
    serving,
    verdict_table,
)

API_HOST = "api.example.test"  # as Chromium reaches the app (HOST_RESOLVER_RULES)
DENIAL_BODY = "Disallowed CORS origin"
EXTENSION = "websocket.http.response"


def _app_saw(log: list[dict[str, Any]], case: str) -> str:
    """What the echo endpoint logged for `case` (its disconnect left out: servers report different codes)."""
    entries = [entry for entry in log if entry["case"] == case]
    if not entries:
        return "-"
    return "; ".join(",".join(e for e in entry["events"] if not e.startswith("disconnect")) for entry in entries)


# ---------------------------------------------------------------------------------------
# 1. Chromium

# Opens each case's WebSocket in turn, sends "hello", closes after the first message, and
# reports the events JavaScript saw: "open", "message <data>", "error", "close <code>".
RUN_WEBSOCKETS_JS = """
const cases = arguments[0];
const done = arguments[arguments.length - 1];
const runOne = (url) => new Promise((resolve) => {
  const events = [];
  const finish = () => { clearTimeout(timer); resolve(events.join(', ')); };
  const timer = setTimeout(() => { events.push('timeout'); resolve(events.join(', ')); }, 15000);
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (error) {
    events.push(error.name + ': ' + error.message);
    finish();
    return;
  }
  ws.onopen = () => { events.push('open'); ws.send('hello'); };
  ws.onmessage = (event) => { events.push('message ' + event.data); ws.close(1000); };
  ws.onerror = () => events.push('error');
  ws.onclose = (event) => { events.push('close ' + event.code); finish(); };
});
(async () => {
  const results = {};
  for (const c of cases) results[c.id] = await runOne(c.url);
  return results;
})().then(done, (error) => done({'__error__': String(error)}));
"""

ALLOWED_PAGE, DENIED_PAGE = "allowed", "denied"


@dataclass(frozen=True)
class BrowserCase:
    id: str
    page: str  # ALLOWED_PAGE (http://app.example.test:<port>) or DENIED_PAGE (http://evilexample.test:<port>)
    path: str  # which middleware of ws_api answers
    expected: str  # "<what JavaScript saw> | <what the app saw>", the same for both implementations


ECHOED = "open, message echo:hello, close 1000 | accepted,message:hello"
# Chromium fails the handshake (its console: "Unexpected response code: 403"); JavaScript
# sees only an error and the abnormal close 1006, never "open".
REFUSED = "error, close 1006 (handshake 403) | -"

BROWSER_CASES = [
    BrowserCase("guard_allowed_origin", ALLOWED_PAGE, "/ws", ECHOED),
    BrowserCase("guard_denied_origin", DENIED_PAGE, "/ws", REFUSED),
    BrowserCase("guard_denied_close_before_accept", DENIED_PAGE, "/noext/ws", REFUSED),
    BrowserCase("guard_off_allowed_origin", ALLOWED_PAGE, "/unguarded/ws", ECHOED),
    # The hijacking the guard prevents: the look-alike's page talks to the app.
    BrowserCase("guard_off_denied_origin_hijacks", DENIED_PAGE, "/unguarded/ws", ECHOED),
    BrowserCase("starlette_denied_origin_hijacks", DENIED_PAGE, "/starlette/ws", ECHOED),
]

BROWSER_TABLE = verdict_table("browser WebSocket verdicts: what JavaScript saw | what the app saw")
HANDSHAKE_STATUS = re.compile(r"Unexpected response code: (\d+)")


@dataclass
class BrowserWebSocketRun:
    impl: str
    implementation: dict[str, Any]
    verdicts: dict[str, str]
    console: list[str]


@pytest.fixture(scope="module")
def ws_pages() -> Iterator[dict[str, str]]:
    with page_server() as port:
        yield {ALLOWED_PAGE: f"http://app.example.test:{port}", DENIED_PAGE: f"http://evilexample.test:{port}"}


def _browser_verdict(js: str, url: str, console: list[str]) -> str:
    if "open" in js.split(", "):
        return js
    statuses = [
        match.group(1)
        for message in console
        if f"'{url}'" in message
        for match in [HANDSHAKE_STATUS.search(message)]
        if match
    ]
    return f"{js} (handshake {statuses[0] if statuses else '?'})"


@pytest.fixture(scope="module", params=IMPLS)
def browser_ws_run(
    request: pytest.FixtureRequest, browser: Any, ws_pages: dict[str, str], http: httpx.Client
) -> BrowserWebSocketRun:
    impl = request.param
    # uvicorn as run by default (--ws auto).
    with serving("uvicorn", "rw_served.ws_api:app", impl_env(impl)) as server:
        implementation = http.get(server.url + "/_impl").json()
        browser.get_log("browser")  # drop earlier messages
        results: dict[str, str] = {}
        urls = {case.id: f"ws://{API_HOST}:{server.port}{case.path}?case={case.id}" for case in BROWSER_CASES}
        for page, origin in ws_pages.items():
            browser.get(origin + "/")
            batch = [{"id": case.id, "url": urls[case.id]} for case in BROWSER_CASES if case.page == page]
            got = browser.execute_async_script(RUN_WEBSOCKETS_JS, batch)
            assert "__error__" not in got, got
            results.update(got)
        console = [entry["message"] for entry in browser.get_log("browser")]
        log = http.get(server.url + "/_log").json()
    verdicts = {}
    for case in BROWSER_CASES:
        verdicts[case.id] = f"{_browser_verdict(results[case.id], urls[case.id], console)} | {_app_saw(log, case.id)}"
        BROWSER_TABLE.record(case.id, f"fastcors-{impl}", verdicts[case.id])
    return BrowserWebSocketRun(impl, implementation, verdicts, console)


def test_browser_ws_api_runs_the_implementation(browser_ws_run: BrowserWebSocketRun) -> None:
    assert browser_ws_run.implementation == {"middleware": "fastcors", "compiled": browser_ws_run.impl == "compiled"}


@pytest.mark.parametrize("case", BROWSER_CASES, ids=[case.id for case in BROWSER_CASES])
def test_browser_websocket_verdict(browser_ws_run: BrowserWebSocketRun, case: BrowserCase) -> None:
    related = [message for message in browser_ws_run.console if f"case={case.id}'" in message]
    assert browser_ws_run.verdicts[case.id] == case.expected, f"fastcors-{browser_ws_run.impl}: console: {related}"


# ---------------------------------------------------------------------------------------
# 2. The `websockets` client against each server


@dataclass(frozen=True)
class ClientCase:
    id: str
    path: str
    origin: str | None  # the Origin header the client sends, or none
    expected: str  # "<status and echo, or status and body> | <what the app saw>"


CLIENT_ECHOED = "101 echo:hello | accepted,message:hello"
# The extension's answer: fastcors' own 403 and body.
DENIED = f"403 {DENIAL_BODY!r} | -"
# Close before accept: the server's own 403, with an empty body (every server here).
CLOSED = "403 '' | -"

CLIENT_CASES = [
    ClientCase("allowed_origin", "/ws", "http://allowed.example", CLIENT_ECHOED),
    ClientCase("allowed_by_pattern", "/ws", "http://app.example.test:8080", CLIENT_ECHOED),
    ClientCase("no_origin", "/ws", None, CLIENT_ECHOED),  # not a browser: nothing to guard against
    ClientCase("denied_origin", "/ws", "http://denied.example", DENIED),
    ClientCase("denied_pattern_apex", "/ws", "http://example.test", DENIED),
    ClientCase("denied_null_origin", "/ws", "null", DENIED),
    ClientCase("close_before_accept_denied", "/noext/ws", "http://denied.example", CLOSED),
    ClientCase("close_before_accept_allowed", "/noext/ws", "http://allowed.example", CLIENT_ECHOED),
    ClientCase("guard_off_denied_origin", "/unguarded/ws", "http://denied.example", CLIENT_ECHOED),
    ClientCase("starlette_denied_origin", "/starlette/ws", "http://denied.example", CLIENT_ECHOED),
]

# What each server does differently, as observed (uvicorn 0.54, hypercorn 0.18, granian 2.8.7).
SERVER_EXPECTED: dict[str, dict[str, str]] = {
    # granian sends the app's 403 with the headers of a successful upgrade added (Connection:
    # upgrade, Upgrade: websocket, Sec-WebSocket-Accept). Harmless: a client accepts only a
    # 101, and the websockets client (like browsers) reports the 403 and its body.
    "granian": {
        case.id: f"403 {DENIAL_BODY!r} +upgrade headers | -" for case in CLIENT_CASES if case.expected == DENIED
    },
}
# Every server here advertises the extension, granian included (it is what the denial
# response needs); /noext/ws hides it from fastcors to try the other way on each server.
# uvicorn's websockets-sansio implementation logs "ASGI callable returned without completing
# handshake." after every denial response (it forgets that the response completed the
# handshake; the client still gets the full 403). That is uvicorn's, not fastcors'.
ADVERTISES_EXTENSION = {server: "yes" for server in WEBSOCKET_SERVERS}

SERVER_TABLE = verdict_table(
    "WebSocket guard on real servers: what the websockets client got | what the app saw", row_name="case"
)
SERVER_MATRIX = [(server, impl) for server in WEBSOCKET_SERVERS for impl in IMPLS]


@dataclass
class WebSocketServer:
    name: str
    impl: str
    server: ServerProcess

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"


@pytest.fixture(scope="module", params=SERVER_MATRIX, ids=[f"{server}-{impl}" for server, impl in SERVER_MATRIX])
def ws_server(request: pytest.FixtureRequest) -> Iterator[WebSocketServer]:
    server_name, impl = request.param
    require_modules("websockets")
    with serving(server_name, "rw_served.ws_api:app", impl_env(impl)) as server:
        yield WebSocketServer(server_name, impl, server)


def _handshake(url: str, origin: str | None) -> str:
    """Connect, send "hello", read one message; or the refusal: "<status> <body>"."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    try:
        with connect(url, origin=origin, open_timeout=10, close_timeout=5) as websocket:
            status = websocket.response.status_code
            websocket.send("hello")
            return f"{status} {websocket.recv(timeout=10)}"
    except InvalidStatus as exc:
        response = exc.response
        body = bytes(response.body or b"").decode("latin-1")
        verdict = f"{response.status_code} {body!r}"
        if "sec-websocket-accept" in response.headers:
            verdict += " +upgrade headers"
        if body == DENIAL_BODY:
            # fastcors' denial response, whole: the type and length it sets.
            assert response.headers["content-type"] == "text/plain; charset=utf-8", response.headers
            assert response.headers["content-length"] == str(len(DENIAL_BODY)), response.headers
        return verdict


@pytest.mark.parametrize("case", CLIENT_CASES, ids=[case.id for case in CLIENT_CASES])
def test_websocket_handshake(ws_server: WebSocketServer, http: httpx.Client, case: ClientCase) -> None:
    client = _handshake(f"{ws_server.ws_url}{case.path}?case={case.id}", case.origin)
    log = http.get(ws_server.server.url + "/_log").json()
    verdict = f"{client} | {_app_saw(log, case.id)}"
    SERVER_TABLE.record(case.id, ws_server.name, verdict, source=ws_server.impl)
    expected = SERVER_EXPECTED.get(ws_server.name, {}).get(case.id, case.expected)
    assert verdict == expected, ws_server.server.log_tail()


def test_server_advertises_the_extension(ws_server: WebSocketServer, http: httpx.Client) -> None:
    # Read from the scope of a handshake that reached the app (allowed_origin, run above,
    # or this one).
    client = _handshake(f"{ws_server.ws_url}/ws?case=extension", "http://allowed.example")
    assert client == "101 echo:hello"
    log = http.get(ws_server.server.url + "/_log").json()
    advertised = {EXTENSION in entry["extensions"] for entry in log if entry["path"] == "/ws"}
    assert len(advertised) == 1, log
    verdict = "yes" if advertised.pop() else "no"
    SERVER_TABLE.record(f"advertises {EXTENSION}", ws_server.name, verdict, source=ws_server.impl)
    assert verdict == ADVERTISES_EXTENSION[ws_server.name]


def test_server_log_has_no_traceback(ws_server: WebSocketServer) -> None:
    # Runs after the handshakes of this server: no refusal made the server log an exception.
    log = ws_server.server.log_tail(chars=1_000_000)
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
