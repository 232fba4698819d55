from fastapi.testclient import TestClient

from docs_src.errors_wrapper import app

client = TestClient(app, raise_server_exceptions=False)
response = client.get("/items", headers={"Origin": "https://app.example.com"})
assert response.status_code == 500
assert response.headers["access-control-allow-origin"] == "https://app.example.com"
