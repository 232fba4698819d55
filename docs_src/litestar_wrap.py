from litestar import Litestar, get

from fastcors import CORSMiddleware


@get("/items")
async def items() -> list[str]:
    return ["a", "b"]


app = CORSMiddleware(Litestar(route_handlers=[items]), allow_origins=["https://app.example.com"])
