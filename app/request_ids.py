"""Every HTTP request has an id: the caller's X-Request-Id when it is a sane one (a proxy's,
so one id follows the request through both logs), else a new one; it is sent back in the
response's X-Request-Id and carried by every log line of the request (its log scope)."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import logs, tracing

HEADER = "X-Request-Id"
# Short and plain, so an id written into a log line can't forge or hide anything there.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(scope: Scope) -> str:
    """The request's id: the sane X-Request-Id it came with, or a new random one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = str(value.decode("latin-1"))
            if _SANE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: opens each request's log scope with its id, and answers with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        tracing.set_attributes(request_id=rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        with logs.scope(request_id=rid):
            await self.app(scope, receive, send_with_id)
