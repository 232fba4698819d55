from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from docs_src.websocket_guard import app

client = TestClient(app)
with client.websocket_connect("/ws", headers={"Origin": "https://app.example.com"}) as websocket:
    assert websocket.receive_text() == "hello"
try:
    with client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}):
        raise AssertionError("the guard let a foreign origin in")
except WebSocketDenialResponse as denial:
    assert denial.status_code == 403
