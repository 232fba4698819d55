from starlette.applications import Starlette

from fastcors import CORSMiddleware

app = Starlette()
cors = CORSMiddleware(app, allow_origins=["https://app.example.com"])
# serve `cors` (uvicorn main:cors); later, while it runs:
cors.reconfigure(cors.settings, allow_origins=["https://app.example.com", "https://new.example.com"])
