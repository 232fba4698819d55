"""A FastAPI app whose CORS configuration strict mode refuses (a trailing slash), set up two ways.

`late`: the settings go to add_middleware as they are; FastAPI builds the middleware at
lifespan startup (or the first request), too late to stop the server. `validated`: the
settings are validated where they are written, so importing the app fails.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from fastcors import CORSMiddleware, CORSSettings

CORS = CORSSettings(allow_origins=["https://app.example.com/"], strict=True)
if os.environ.get("STRICT_SETUP") == "validated":
    CORS = CORS.validate()  # raises CORSConfigError here, at import

app = FastAPI()
app.add_middleware(CORSMiddleware, **CORS.arguments())


@app.get("/")
async def root() -> dict[str, str]:
    return {"ok": "yes"}
