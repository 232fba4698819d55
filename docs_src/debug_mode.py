from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastcors import CORSMiddleware

api = FastAPI()
app = CORSMiddleware(api, allow_origins=["https://app.example.com"], debug=True)

TestClient(app).options(
    "/", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
)
# WARNING fastcors: CORS: preflight refused (400 Disallowed CORS method): method 'PUT' is not
#   allowed (allowed: GET; the comparison is case-sensitive)
