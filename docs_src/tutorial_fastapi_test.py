from fastapi.testclient import TestClient

from docs_src.tutorial_fastapi import app

client = TestClient(app)

# A simple request from an allowed origin: the answer names it, with credentials.
response = client.get("/", headers={"Origin": "http://localhost:8080"})
assert response.json() == {"message": "Hello World"}
assert response.headers["access-control-allow-origin"] == "http://localhost:8080"
assert response.headers["access-control-allow-credentials"] == "true"

# A preflight from an origin that is not in the list: refused with a 400.
response = client.options(
    "/",
    headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
)
assert response.status_code == 400
assert "access-control-allow-origin" not in response.headers
