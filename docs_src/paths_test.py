from fastapi.testclient import TestClient

from docs_src.paths import app

client = TestClient(app)
response = client.get("/public/prices", headers={"Origin": "https://anyone.example"})
assert response.headers["access-control-allow-origin"] == "*"
