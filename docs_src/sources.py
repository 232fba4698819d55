from fastapi import FastAPI

from fastcors import CORSHandle, CORSMiddleware, FileSource

cors = CORSHandle()
source = FileSource(cors, "/etc/myapp/cors.json")       # or RedisSource(cors, "redis://cache:6379/0")
app = FastAPI(lifespan=source.lifespan)                 # Starlette(..., lifespan=source.lifespan) alike
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], handle=cors)
