from fastapi import FastAPI

from fastcors import CORSMiddleware

api = FastAPI()   # routes, exception handlers, lifespan, state: on `api`, as before


@api.get("/items")
def items() -> list[str]:
    raise RuntimeError("the database is down")


app = CORSMiddleware(api, allow_origins=["https://app.example.com"], allow_credentials=True)
# uvicorn main:app
