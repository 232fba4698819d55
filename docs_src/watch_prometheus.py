import fastcors.prometheus
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, generate_latest

from fastcors import CORSMiddleware

fastcors.prometheus.enable()  # once per process, before or after the middleware is built

api = FastAPI()
app = CORSMiddleware(api, allow_origins=["https://app.example.com"])

client = TestClient(app)
client.get("/", headers={"Origin": "https://evil.example"})
client.options("/", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"})

fastcors.prometheus.flush()  # (the counts reach the counter within FLUSH_SECONDS anyway)
exposition = generate_latest(REGISTRY).decode()
assert 'fastcors_requests_total{kind="simple",outcome="denied",reason="origin"} 1.0' in exposition
assert 'fastcors_requests_total{kind="preflight",outcome="denied",reason="method"} 1.0' in exposition
