"""FastAPI whose CORS settings follow a shared source, for the multi-worker tests.

The source comes from the environment (FASTCORS_TEST_SOURCE: "file" or "redis"). It starts
at lifespan startup in each worker, or, with FASTCORS_TEST_START=import, when the module is
imported (before a preloading server forks its workers). /worker says which worker answered
and what its source reports.
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import FastAPI

import fastcors
from fastcors import CORSHandle, CORSMiddleware, FileSource, RedisSource, SettingsSource

CODE_ORIGIN = "http://code.example"  # what the code allows, before any shared settings


def _source(handle: CORSHandle) -> SettingsSource:
    if os.environ["FASTCORS_TEST_SOURCE"] == "file":
        return FileSource(handle, os.environ["FASTCORS_TEST_SETTINGS"])
    resync = float(os.environ["FASTCORS_TEST_RESYNC"])
    return RedisSource(handle, os.environ["FASTCORS_TEST_REDIS"], key=os.environ["FASTCORS_TEST_KEY"], resync=resync)


cors = CORSHandle()
source = _source(cors)
if os.environ.get("FASTCORS_TEST_START") == "import":
    source.start()
    app = FastAPI()
else:
    app = FastAPI(lifespan=source.lifespan)
app.add_middleware(CORSMiddleware, allow_origins=[CODE_ORIGIN], handle=cors)


@app.get("/worker")
async def worker(hold: float = 0.0) -> dict[str, Any]:
    # Blocking this worker's event loop a moment makes concurrent requests spread over the workers.
    time.sleep(min(hold, 0.1))
    return {
        "pid": os.getpid(),
        "version": source.version,
        "applied_at": source.applied_at,
        "last_error": source.last_error,
        "compiled": fastcors.COMPILED,
    }
