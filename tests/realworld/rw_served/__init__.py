"""ASGI applications that real server processes import (PYTHONPATH=tests/realworld).

Each module builds its apps at import time from the environment of the server process:
`FASTCORS_NO_EXTENSIONS=1` selects fastcors' pure-Python implementation, and the apps
report which implementation really ran in the `x-fastcors-compiled` response header.
"""
