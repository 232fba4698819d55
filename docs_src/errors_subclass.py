from fastapi import FastAPI

from fastcors import CORSMiddleware


class App(FastAPI):   # or Starlette
    def build_middleware_stack(self):
        return CORSMiddleware(super().build_middleware_stack(),
                              allow_origins=["https://app.example.com"], allow_credentials=True)


app = App()


@app.get("/items")
def items() -> list[str]:
    raise RuntimeError("the database is down")
