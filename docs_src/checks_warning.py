from fastapi import FastAPI

from fastcors import CORSMiddleware

app = CORSMiddleware(FastAPI(), allow_origins=["https://app.example.com/"], allow_credentials=True)
# WARNING fastcors: CORS configuration: allowed origin 'https://app.example.com/' ends with '/',
#   but an Origin header never does; use 'https://app.example.com'
