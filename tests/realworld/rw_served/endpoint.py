"""What every framework's `/data` route answers, so one expectation covers them all."""

from __future__ import annotations

from rw_served.settings import IMPL_HEADER, impl_value

# The route's own headers: `vary` is merged with Origin by the middleware, `x-exposed` is
# the header named in expose_headers, the last one says which implementation ran.
ROUTE_HEADERS = {"vary": "Accept-Encoding", "x-exposed": "yes", IMPL_HEADER: impl_value()}


def reply(method: str, body: bytes) -> bytes:
    return method.encode() + b" /data " + body
