from fastapi import FastAPI

from fastcors import CORSMiddleware, CORSSettings

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],            # everything else
    paths={
        "/public": CORSSettings(allow_origins=["*"]),
        "/api/partner": CORSSettings(allow_origins=["https://partner.example"], allow_credentials=True),
        "/internal": None,                                 # no CORS handling at all
    },
)


@app.get("/public/prices")
def prices() -> dict[str, int]:
    return {"apple": 3}
