from fastapi import FastAPI

from fastcors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origin_patterns=["https://*.example.com", "http://localhost:*"],
    allow_credentials=True,
)
