from fastapi import FastAPI

from fastcors import CORSMiddleware

app = FastAPI()
# Answer as the newest Starlette generation, whatever Starlette release is installed.
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], starlette_version="newest")
