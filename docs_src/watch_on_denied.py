from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastcors import CORSEvent, CORSMiddleware

refused: list[CORSEvent] = []

api = FastAPI()
app = CORSMiddleware(
    api,
    allow_origins=["https://app.example.com"],
    allow_methods=["GET", "POST"],
    on_denied=refused.append,  # a plain function, called as each refused request is answered
    log_denials=True,  # and one INFO line per reason and origin, at most once a minute
)

client = TestClient(app)
client.options("/items", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"})
client.get("/items", headers={"Origin": "https://evil.example"})

assert refused == [
    CORSEvent("preflight", ("method",), "https://app.example.com", "/items", requested_method="PUT"),
    CORSEvent("simple", ("origin",), "https://evil.example", "/items"),
]
