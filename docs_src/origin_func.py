from fastapi import FastAPI

from fastcors import CORSMiddleware

tenant_origins = {"https://shop.tenant-one.example"}   # e.g. loaded from the database, kept up to date


def tenant_origin(origin: str) -> bool:
    return origin in tenant_origins


app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_origin_func=tenant_origin)
