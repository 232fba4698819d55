import hmac
import os

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fastcors import CORSHandle, CORSMiddleware, CORSSettings

CORS = CORSSettings(allow_origins=["https://app.example.com"], allow_credentials=True)
cors = CORSHandle()
app = FastAPI()
app.add_middleware(CORSMiddleware, **vars(CORS), handle=cors)

ADMIN_TOKEN = os.environ["CORS_ADMIN_TOKEN"].encode()


def admin(credentials: HTTPAuthorizationCredentials = Depends(HTTPBearer())) -> None:
    # Whoever sets the allowed origins decides which websites read your users' data.
    if not hmac.compare_digest(credentials.credentials.encode(), ADMIN_TOKEN):
        raise HTTPException(status_code=403, detail="not allowed")


@app.put("/admin/cors-origins", dependencies=[Depends(admin)])
def set_origins(origins: list[str]) -> None:
    cors.reconfigure(CORS, allow_origins=origins)   # raises, changing nothing, if refused
