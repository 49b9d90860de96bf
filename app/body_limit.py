"""The HTTP request body is bounded (HOIST_MAX_BODY_BYTES): 413 in GraphQL's JSON shape.

Checked twice, both before anything is buffered: a declared Content-Length over the limit
is refused without reading a byte of the body, and a body sent without one (chunked) is
counted as it arrives and refused at the first chunk past the limit. Starlette and
Strawberry read the whole body into memory, so this must sit in front of them.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from `receive` to stop whoever is reading the body; answered 413 below."""


class BodyLimit:
    """ASGI middleware that refuses HTTP request bodies over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self) -> JSONResponse:
        message = f"the request body is larger than {self.max_bytes} bytes"
        return JSONResponse(
            {"errors": [{"message": message}]}, status_code=413, headers={"Connection": "close"}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refusal()(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:  # nothing sensible can be said once an answer began
                raise
            await self._refusal()(scope, receive, send)
