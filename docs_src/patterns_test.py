from fastapi.testclient import TestClient

from docs_src.patterns import app

client = TestClient(app)
for origin, allowed in [
    ("https://app.example.com", True),
    ("https://a.b.example.com", True),
    ("http://localhost:5173", True),
    ("https://example.com", False),
    ("https://evilexample.com", False),
]:
    response = client.get("/", headers={"Origin": origin})
    assert (response.headers.get("access-control-allow-origin") == origin) is allowed, origin
