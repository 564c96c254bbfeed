"""Response compression for what is read, never for what streams (ADR 0025).

Pages, fragments, scripts and JSON reads (GET/HEAD) leave gzip-compressed from the app itself, so
``make run``, the nginx stack and the load balancer serve the same bytes. Requests that stream (a turn
is a POST; a resume asks for ``text/event-stream``) bypass the gzip wrapper entirely: Starlette's
wrapper excludes event streams by content type, but with uvicorn's httptools protocol a stream that
passed through it reached Chromium in one piece at the end of the turn (seen in the chat browser test).
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

_READS = frozenset({"GET", "HEAD"})


class ReadCompressionMiddleware:
    """gzip (>= ``minimum_size`` bytes) for GET/HEAD requests that do not ask for an event stream."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = 512, compresslevel: int = 6) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _READS and not _wants_stream(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _wants_stream(scope: Scope) -> bool:
    return any(name == b"accept" and b"text/event-stream" in value for name, value in scope["headers"])
