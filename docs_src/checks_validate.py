from fastapi import FastAPI

from fastcors import CORSMiddleware, CORSSettings

# Raises fastcors.CORSConfigError here, at import, if the settings have a problem.
CORS = CORSSettings(allow_origins=["https://app.example.com"], strict=True).validate()

app = FastAPI()
app.add_middleware(CORSMiddleware, **CORS.arguments())
