from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastcors import CORSMiddleware, CORSReport, CORSSettings

reports: list[CORSReport] = []
# The policy in force allows two origins; the candidate retires old.example.com.
candidate = CORSSettings(allow_origins=["https://app.example.com"])

api = FastAPI()
app = CORSMiddleware(
    api,
    allow_origins=["https://app.example.com", "https://old.example.com"],
    report_only=candidate,
    on_report=reports.append,
)

client = TestClient(app)
response = client.get("/", headers={"Origin": "https://old.example.com"})
assert response.headers["access-control-allow-origin"] == "https://old.example.com"  # still allowed
assert reports == [CORSReport("simple", ("origin",), "https://old.example.com", "/", change="would_deny")]
assert app.would_deny_origins() == [("https://old.example.com", 1)]

# Watched long enough, and nobody needs old.example.com any more: enforce the candidate.
app.reconfigure(candidate)
assert "access-control-allow-origin" not in client.get("/", headers={"Origin": "https://old.example.com"}).headers
