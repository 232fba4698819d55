from starlette.applications import Starlette

from fastcors import CORSMiddleware

api = Starlette()
cors = CORSMiddleware(api, allow_origins=["https://app.example.com"])
# serve `cors` (uvicorn main:cors); later, while it runs:
cors.reconfigure(cors.settings, allow_origins=["https://app.example.com", "https://new.example.com"])
