"""Soak: mixed CORS traffic at full speed against a real uvicorn process serving fastcors.

Several keep-alive connections on loopback send preflights (allowed and refused), simple
requests (allowed, refused, without Origin) and requests from random origins, for a bounded
time (FASTCORS_SOAK_SECONDS: 60 in CI, 10 locally). Every response's status, body and CORS
headers must equal what Starlette's middleware gives for the same request (computed here,
in process); the server must log no error; and its resident memory must stay flat once
warmed up.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from asgi_harness import IN_CI, http_scope, require_modules, run
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware

from bench.launch import ServerProcess, free_port

SECONDS = float(os.environ.get("FASTCORS_SOAK_SECONDS", "60" if IN_CI else "10"))
CONNECTIONS = 8
MAX_REQUESTS = 3_000_000  # a bound, whatever the speed
RSS_TOLERANCE_KIB = 4096  # after warm-up; a 64-byte leak per request would exceed it quickly

ALLOWED = "https://app.example.com"
CONFIG = {
    "allow_origins": [ALLOWED, "http://localhost:3000"],
    "allow_origin_regex": r"https://[a-z]+\.preview\.example\.com",
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "DELETE"],
    "allow_headers": ["X-Token", "Content-Type"],
    "expose_headers": ["X-Total"],
    "max_age": 600,
}
APP_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"2"), (b"vary", b"Accept-Encoding")]

# The server: fastcors' default implementation around a small app; it says which one first.
SERVER = """
import json, sys
import uvicorn
import fastcors

CONFIG = json.loads(sys.argv[1])
APP_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"2"), (b"vary", b"Accept-Encoding")]

async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": APP_HEADERS})
    await send({"type": "http.response.body", "body": b"ok"})

print("COMPILED", fastcors.COMPILED, flush=True)
uvicorn.run(fastcors.CORSMiddleware(app, **CONFIG), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False, lifespan="off", timeout_keep_alive=30, backlog=1024)
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def random_origin(rng: random.Random) -> str:
    label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(rng.randrange(1, 24)))
    return rng.choice(
        [
            f"https://{label}.preview.example.com",
            f"https://{label}.example.com",
            f"http://{label}",
            f"https://{label}.preview.example.com.evil.com",
            "null",
            ALLOWED,
        ]
    )


def pick_request(rng: random.Random) -> tuple[str, tuple[tuple[bytes, bytes], ...]]:
    """(method, request headers) for one request of the mix."""
    kind = rng.randrange(8)
    origin = ALLOWED if kind < 4 else random_origin(rng) if kind < 6 else "https://evil.com"
    if kind == 7:
        return "GET", ()  # no Origin at all
    headers: list[tuple[bytes, bytes]] = [(b"origin", origin.encode())]
    if rng.randrange(2):
        method = rng.choice(["GET", "POST", "PUT", "DELETE"])
        headers.append((b"access-control-request-method", method.encode()))
        if rng.randrange(2):
            headers.append((b"access-control-request-headers", rng.choice([b"x-token", b"X-Token, x-other", b""])))
        return "OPTIONS", tuple(headers)
    return rng.choice(["GET", "POST"]), tuple(headers)


class Expected:
    """What Starlette answers to a request: status, body and the CORS headers, in order."""

    def __init__(self) -> None:
        self.cache: dict[Any, tuple[int, bytes, list[tuple[bytes, bytes]]]] = {}

    def __call__(self, method: str, headers: tuple[tuple[bytes, bytes], ...]) -> tuple[int, bytes, list[Any]]:
        key = (method, headers)
        if key not in self.cache:
            start = {"type": "http.response.start", "status": 200, "headers": list(APP_HEADERS)}
            body = {"type": "http.response.body", "body": b"ok"}
            outcome = run(
                lambda app: StarletteCORSMiddleware(app, **CONFIG), http_scope(method, list(headers)), [[start, body]]
            )
            status = outcome.sent[0]["status"]
            cors = [(bytes(k), bytes(v)) for k, v in outcome.sent[0]["headers"] if is_cors(bytes(k))]
            answer = (status, b"".join(m.get("body", b"") for m in outcome.sent[1:]), cors)
            if len(self.cache) < 10_000:
                self.cache[key] = answer
            return answer
        return self.cache[key]


def is_cors(name: bytes) -> bool:
    name = name.lower()
    return name == b"vary" or name.startswith(b"access-control-")


async def one_connection(port: int, seed: int, deadline: float, stats: dict[str, Any], expected: Expected) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline and stats["requests"] < MAX_REQUESTS:
            method, headers = pick_request(rng)
            lines = [f"{method} /soak HTTP/1.1\r\nhost: 127.0.0.1\r\n".encode()]
            lines += [name + b": " + value + b"\r\n" for name, value in headers]
            writer.write(b"".join(lines) + b"\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head[:-4].split(b"\r\n")
            got_headers = [tuple(line.split(b": ", 1)) for line in header_lines]
            length = int(next(v for k, v in got_headers if k.lower() == b"content-length"))
            body = await reader.readexactly(length)
            status = int(status_line.split()[1])
            got = (status, body, [(k.lower(), v) for k, v in got_headers if is_cors(k)])
            stats["requests"] += 1
            want = expected(method, headers)
            if got != want:
                stats["unexpected"] += 1
                if len(stats["examples"]) < 3:
                    stats["examples"].append({"request": (method, headers), "got": got, "want": want})
    finally:
        writer.close()


async def traffic(port: int, pid: int, stats: dict[str, Any]) -> None:
    start = time.monotonic()
    deadline = start + SECONDS
    warm_until = start + max(2.0, SECONDS * 0.25)
    expected = Expected()

    async def sample_memory() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            (stats["rss_warm"] if time.monotonic() < warm_until else stats["rss"]).append(rss_kib(pid))

    tasks = [one_connection(port, seed, deadline, stats, expected) for seed in range(CONNECTIONS)]
    await asyncio.gather(sample_memory(), *tasks)


@pytest.mark.slow
def test_soak_mixed_traffic() -> None:
    require_modules("uvicorn")
    port = free_port()
    with ServerProcess([sys.executable, "-c", SERVER, json.dumps(CONFIG), str(port)], port, "uvicorn (soak)") as server:
        compiled = "COMPILED True" in server.log_tail()
        if IN_CI:
            assert compiled, "in CI the server must run the compiled extension"
        stats: dict[str, Any] = {"requests": 0, "unexpected": 0, "examples": [], "rss_warm": [], "rss": []}
        asyncio.run(traffic(port, server.pid, stats))
        assert server.running(), "the server died"
        server_log = server.log_tail(chars=1_000_000)

    requests = stats["requests"]
    rate = requests / SECONDS
    warm_end = stats["rss_warm"][-1]
    peak = max(stats["rss"])
    print(
        f"\nsoak: {requests} requests in {SECONDS:.0f} s ({rate:.0f}/s, {CONNECTIONS} connections, "
        f"compiled={compiled}); RSS {warm_end} KiB after warm-up, peak {peak} KiB after"
    )
    assert requests > 1000
    assert stats["unexpected"] == 0, stats["examples"]
    assert "Traceback" not in server_log and "ERROR" not in server_log, server_log[-3000:]
    assert peak - warm_end < RSS_TOLERANCE_KIB, f"RSS grew from {warm_end} to {peak} KiB: {stats['rss']}"
