import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient

from fastcors import CORSMiddleware

logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], debug=True)

client = TestClient(app)
client.get("/", headers={"Origin": "https://evil.example"})
# WARNING fastcors: CORS: response sent without Access-Control-Allow-Origin (the browser hides
#   it from the page): origin 'https://evil.example' is not allowed (allowed: 'https://app.example.com')
