"""The least work any middleware answering like Starlette's must do (compiled by bench.floor).

Not a CORS middleware: it reads no request header and checks nothing. For a non-preflight
it wraps `send` and appends `vary: Origin` to a copy of the response headers (every
answer Starlette gives carries it); for an OPTIONS request it sends one precomputed
answer. Any correct implementation does strictly more, so its overhead is a lower bound.
"""

import cython

_VARY_ORIGIN = cython.declare(tuple, (b"vary", b"Origin"))
_ANSWER_HEADERS = cython.declare(tuple, ((b"content-length", b"2"), (b"content-type", b"text/plain; charset=utf-8")))


async def _answer(send):
    await send({"type": "http.response.start", "status": 200, "headers": list(_ANSWER_HEADERS)})
    await send({"type": "http.response.body", "body": b"OK"})


@cython.final
@cython.freelist(32)
@cython.cclass
class _Send:
    send: object

    def __call__(self, message):
        if message["type"] != "http.response.start":
            return self.send(message)
        headers = list(message["headers"])
        headers.append(_VARY_ORIGIN)
        message["headers"] = headers
        return self.send(message)


@cython.cclass
class FloorMiddleware:
    app: object

    def __init__(self, app):
        self.app = app

    def __call__(self, scope, receive, send):
        if scope["method"] == "OPTIONS":
            return _answer(send)
        wrapped: _Send = _Send.__new__(_Send)
        wrapped.send = send
        return self.app(scope, receive, wrapped)
