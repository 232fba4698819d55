"""Denial events (`on_denied`) and request counts as headless Chromium's refused requests produce them.

Origins, all on loopback (conftest's `pages`):
  page   http://127.0.0.1:<A>   the one origin the API allows
  other  http://localhost:<C>   an origin the API refuses
  api    http://127.0.0.1:<B>   uvicorn serving rw_served.events_api (each fastcors implementation)

The API allows GET and the header x-ok, guards WebSockets, records every CORSEvent its
`on_denied` callback gets and counts requests (fastcors.count_requests()). The pages run,
in order, fetches and WebSockets that it refuses for each reason (origin, method, headers;
simple, preflight, WebSocket) and some it allows; then the test reads the API's /_events
(outside the middleware) and asserts the exact events, in order, and the exact counts.
Each browser verdict is what JavaScript got: "ok <status> <body>", "blocked (<Chromium's
console reason>)" for fetch's TypeError, or a WebSocket's events ("open", "message ...",
"error", "close <code>", with the handshake status Chromium logged for a refusal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .rw_browser import OTHER, PAGE, console_reason
from .rw_support import IMPLS, impl_env, serving, verdict_table

# Runs the steps in order in the page: a fetch (what JavaScript could read, or "blocked" for
# fetch's TypeError) or a WebSocket (sends "hello", closes after the first message; the
# events JavaScript saw).
RUN_STEPS_JS = """
const steps = arguments[0];
const done = arguments[arguments.length - 1];
const runWebSocket = (url) => new Promise((resolve) => {
  const events = [];
  const timer = setTimeout(() => { events.push('timeout'); resolve(events.join(', ')); }, 15000);
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (error) {
    clearTimeout(timer);
    resolve(error.name + ': ' + error.message);
    return;
  }
  ws.onopen = () => { events.push('open'); ws.send('hello'); };
  ws.onmessage = (event) => { events.push('message ' + event.data); ws.close(1000); };
  ws.onerror = () => events.push('error');
  ws.onclose = (event) => { events.push('close ' + event.code); clearTimeout(timer); resolve(events.join(', ')); };
});
const runFetch = async (s) => {
  const init = {method: s.method, headers: s.headers, mode: 'cors'};
  if (s.body !== null) init.body = s.body;
  try {
    const response = await fetch(s.url, init);
    return 'ok ' + response.status + ' ' + await response.text();
  } catch (error) {
    return error.name === 'TypeError' ? 'blocked' : error.name + ': ' + error.message;
  }
};
(async () => {
  const results = {};
  for (const s of steps) results[s.id] = s.websocket ? await runWebSocket(s.url) : await runFetch(s);
  return results;
})().then(done, (error) => done({'__error__': String(error)}));
"""

HANDSHAKE_STATUS = re.compile(r"Unexpected response code: (\d+)")


@dataclass(frozen=True)
class Step:
    id: str
    page: str  # PAGE (allowed) or OTHER (refused)
    expected: str  # what JavaScript got
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    websocket: bool = False
    # The CORSEvent the API records, with the page's origin and the step's path filled in;
    # None: an allowed request, no event.
    event: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return "/ws" if self.websocket else f"/api/{self.id}"


def _event(kind: str, reasons: list[str], method: str | None = None, headers: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "reasons": reasons, "requested_method": method, "requested_headers": headers}


# Chromium: a 400 preflight of an allowed origin (with Access-Control-Allow-Origin) fails on its status.
PREFLIGHT_REFUSED = "blocked (preflight-not-ok)"
ECHOED = "open, message echo:hello, close 1000"
WS_REFUSED = "error, close 1006 (handshake 403)"


def _read(step_id: str) -> str:
    """What JavaScript reads from an allowed GET of /api/<step_id>."""
    return f'ok 200 {{"method": "GET", "path": "/api/{step_id}"}}'


# In this order: the pages' steps run in it, and the API records its events in it.
STEPS = [
    Step("simple_denied", OTHER, "blocked (no-allow-origin)", event=_event("simple", ["origin"])),
    # Every check fails: the event lists each reason, the count names the first (origin).
    # The 400 carries no Access-Control-Allow-Origin for a refused origin, which Chromium
    # reports before the status.
    Step(
        "preflight_denied_all",
        OTHER,
        "blocked (no-allow-origin)",
        "PUT",
        {"X-Bad": "1"},
        body="x",
        event=_event("preflight", ["origin", "method", "headers"], "PUT", "x-bad"),
    ),
    # application/json is not a safelisted content type: Chromium preflights, and asks for
    # the header too (which fastcors, like Starlette, always allows).
    Step(
        "put_json",
        PAGE,
        PREFLIGHT_REFUSED,
        "PUT",
        {"Content-Type": "application/json"},
        body='{"a": 1}',
        event=_event("preflight", ["method"], "PUT", "content-type"),
    ),
    # Chromium's Access-Control-Request-Headers: lower-cased, sorted, comma-separated.
    Step(
        "get_bad_header",
        PAGE,
        PREFLIGHT_REFUSED,
        headers={"X-Ok": "1", "X-Bad": "1"},
        event=_event("preflight", ["headers"], "GET", "x-bad,x-ok"),
    ),
    Step("get_allowed", PAGE, _read("get_allowed")),
    Step("get_allowed_header", PAGE, _read("get_allowed_header"), headers={"X-Ok": "1"}),
    Step("ws_allowed", PAGE, ECHOED, websocket=True),
    # Chromium fails the handshake on fastcors' 403: JavaScript sees an error and the abnormal close.
    Step("ws_denied", OTHER, WS_REFUSED, websocket=True, event=_event("websocket", ["origin"])),
]

# fastcors.request_counts() after the steps and one request without an Origin header (httpx).
EXPECTED_COUNTS = {
    "none/allowed/none": 1,  # httpx
    "preflight/allowed/none": 1,  # get_allowed_header
    "preflight/denied/origin": 1,  # preflight_denied_all
    "preflight/denied/method": 1,  # put_json
    "preflight/denied/headers": 1,  # get_bad_header
    "preflight/denied/private-network": 0,
    "simple/allowed/none": 2,  # get_allowed, get_allowed_header
    "simple/denied/origin": 1,  # simple_denied
    "websocket/allowed/none": 1,  # ws_allowed
    "websocket/denied/origin": 1,  # ws_denied
}

TABLE = verdict_table("browser: refused requests and their denial events (what JavaScript got)")


@dataclass
class EventsRun:
    impl: str
    compiled: bool  # what the server process says it runs
    pages: dict[str, str]
    verdicts: dict[str, str]  # by step id
    events: list[dict[str, Any]]
    counts: dict[str, int]
    no_origin_status: int
    console: list[str]
    server_log: str


def _verdict(step: Step, got: str, url: str, console: list[str]) -> str:
    if got == "blocked":
        return f"blocked ({console_reason(url, console)})"
    if step.websocket and "open" not in got.split(", "):
        matches = [HANDSHAKE_STATUS.search(message) for message in console if f"'{url}'" in message]
        statuses = [match.group(1) for match in matches if match]
        return f"{got} (handshake {statuses[0] if statuses else '?'})"
    return got


def _groups(steps: list[Step]) -> list[tuple[str, list[Step]]]:
    """The steps as runs of consecutive steps from the same page."""
    groups: list[tuple[str, list[Step]]] = []
    for step in steps:
        if groups and groups[-1][0] == step.page:
            groups[-1][1].append(step)
        else:
            groups.append((step.page, [step]))
    return groups


@pytest.fixture(scope="module", params=IMPLS)
def events_run(request: pytest.FixtureRequest, browser: Any, pages: dict[str, str], http: httpx.Client) -> EventsRun:
    impl = request.param
    env = {"RW_PAGE_ORIGIN": pages[PAGE], **impl_env(impl)}
    with serving("uvicorn", "rw_served.events_api:app", env, ready_path="/_impl") as api:
        compiled = http.get(api.url + "/_impl").json()["compiled"]
        ws_base = "ws" + api.url.removeprefix("http")
        urls = {step.id: (ws_base if step.websocket else api.url) + step.path for step in STEPS}
        browser.get_log("browser")  # drop earlier messages
        results: dict[str, str] = {}
        for page, steps in _groups(STEPS):
            browser.get(pages[page] + "/")
            batch = [{**vars(step), "url": urls[step.id]} for step in steps]
            got = browser.execute_async_script(RUN_STEPS_JS, batch)
            assert "__error__" not in got, got
            results.update(got)
        console = [entry["message"] for entry in browser.get_log("browser")]
        no_origin_status = http.get(api.url + "/api/no_origin").status_code
        recorded = http.get(api.url + "/_events").json()
        server_log = api.log_tail(100_000)
    verdicts = {step.id: _verdict(step, results[step.id], urls[step.id], console) for step in STEPS}
    for step in STEPS:
        TABLE.record(step.id, "fastcors", verdicts[step.id], impl)
    return EventsRun(
        impl,
        compiled,
        pages,
        verdicts,
        recorded["events"],
        recorded["counts"],
        no_origin_status,
        console,
        server_log,
    )


def test_server_runs_the_implementation(events_run: EventsRun) -> None:
    assert events_run.compiled == (events_run.impl == "compiled")


@pytest.mark.parametrize("step", STEPS, ids=[step.id for step in STEPS])
def test_what_the_page_got(events_run: EventsRun, step: Step) -> None:
    related = [message for message in events_run.console if step.path in message]
    assert events_run.verdicts[step.id] == step.expected, f"fastcors-{events_run.impl}: console: {related}"


def test_denial_events(events_run: EventsRun) -> None:
    # Exactly one event per refused request, in the order the requests came, none for the
    # allowed ones (nor for the request without Origin).
    expected = [
        {**step.event, "origin": events_run.pages[step.page], "path": step.path}
        for step in STEPS
        if step.event is not None
    ]
    assert events_run.events == expected


def test_request_counts(events_run: EventsRun) -> None:
    assert events_run.no_origin_status == 200
    assert events_run.counts == EXPECTED_COUNTS


def test_server_log_has_no_traceback(events_run: EventsRun) -> None:
    # The callback never raised, and no refusal made the server log an exception.
    log = events_run.server_log
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
