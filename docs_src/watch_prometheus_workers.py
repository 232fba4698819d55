# app.py, served by `uvicorn app:app --workers 3` or
# `gunicorn app:app -w 3 -k uvicorn.workers.UvicornWorker`, with PROMETHEUS_MULTIPROC_DIR set
# to an empty directory in the server's environment (before Python starts).
import os
import tempfile

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp())  # (for this example only)

import fastcors.prometheus  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from prometheus_client import CollectorRegistry, make_asgi_app, multiprocess  # noqa: E402

from fastcors import CORSMiddleware  # noqa: E402

fastcors.prometheus.enable()  # in each worker: each writes its own file

# /metrics adds up every worker's file.
registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
metrics = make_asgi_app(registry)

api = FastAPI()
cors = CORSMiddleware(api, allow_origins=["https://app.example.com"])


async def app(scope, receive, send):
    # /metrics outside the CORS middleware, so that scrapes are not counted (as kind "none").
    if scope["type"] == "http" and scope["path"] == "/metrics":
        await metrics(scope, receive, send)
    else:
        await cors(scope, receive, send)
