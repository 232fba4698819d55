"""A Starlette app behind fastcors, its request counts exported to Prometheus from every worker.

fastcors.prometheus.enable() runs at import, in each worker process (the servers of the test
import the app in the workers, not in the master). The counts of all workers are exposed on
/metrics by prometheus_client in multiprocess mode: PROMETHEUS_MULTIPROC_DIR is set in the
server's environment (by the test, a fresh directory), before prometheus_client is imported.

Paths:
  /metrics      prometheus_client's exposition, outside the CORS middleware: scrapes (which
                carry no Origin) are not counted
  anything else fastcors.CORSMiddleware in front of the Starlette app; its route /data
                (GET, POST) answers which worker served it (pid) and which implementation
                ran; `?hold=S` blocks that worker's event loop S seconds (at most 0.1), so
                that concurrent requests spread over the workers

Environment of the server process: FASTCORS_NO_EXTENSIONS=1 for fastcors' pure-Python twin.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import fastcors
import fastcors.prometheus
from fastcors import CORSMiddleware

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    raise RuntimeError("PROMETHEUS_MULTIPROC_DIR must be set: the counts of every worker are collected from it")

ALLOWED_ORIGIN = "https://app.example"
CORS_OPTIONS: dict[str, Any] = {
    "allow_origins": [ALLOWED_ORIGIN],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["x-ok"],
}

fastcors.prometheus.enable()


async def data(request: Request) -> JSONResponse:
    time.sleep(min(float(request.query_params.get("hold", "0")), 0.1))
    return JSONResponse({"pid": os.getpid(), "compiled": fastcors.COMPILED})


cors_app = CORSMiddleware(Starlette(routes=[Route("/data", data, methods=["GET", "POST"])]), **CORS_OPTIONS)

registry = CollectorRegistry()
MultiProcessCollector(registry)
metrics_app = make_asgi_app(registry=registry)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/metrics":
        await metrics_app(scope, receive, send)
    else:
        await cors_app(scope, receive, send)
