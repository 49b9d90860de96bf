"""CORS for browser pages on the origins HOIST_CORS_ORIGINS names: Starlette's middleware,
its preflight answers in JSON (or empty) like every other answer of Hoist's."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response

# What a page may send: the token, the JSON body's type, and the media types it accepts.
# The API takes bearer tokens, not cookies, so credentials (cookies) are not allowed.
ALLOWED_METHODS = ["GET", "POST"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Accept"]
# So that a page can read why a 401 (or a 405) was answered.
EXPOSED_HEADERS = ["WWW-Authenticate", "Allow"]


class JSONCORS(CORSMiddleware):
    """Starlette's CORSMiddleware, except that a preflight it allows is answered 204 with
    no body and one it refuses in GraphQL's JSON shape, instead of plain-text "OK" and
    "Disallowed CORS origin"."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        headers = {
            name: value
            for name, value in answer.headers.items()
            if name not in {"content-type", "content-length"}
        }
        if answer.status_code == 200:
            return Response(status_code=204, headers=headers)
        message = bytes(answer.body).decode()  # "Disallowed CORS origin, headers"
        return JSONResponse(
            {"errors": [{"message": message}]}, status_code=answer.status_code, headers=headers
        )


def cors_middleware(origins: list[str]) -> list[Middleware]:
    """The middleware for these origins; none at all without any (no CORS headers)."""
    if not origins:
        return []
    return [
        Middleware(
            JSONCORS,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
        )
    ]
