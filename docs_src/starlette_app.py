from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fastcors import CORSMiddleware


async def homepage(request):
    return PlainTextResponse("hello")


app = Starlette(
    routes=[Route("/", homepage)],
    middleware=[Middleware(CORSMiddleware, allow_origins=["https://app.example.com"])],
)
