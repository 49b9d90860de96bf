"""GET /.well-known/hoist-signing-key: Hoist's public key for promotion records, unauthenticated
(verifying needs no account). PEM by default, with the key id in `X-Hoist-Key-Id`; JSON
({keyId, publicKey}) when the client asks for application/json."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.attestation.keys import signing_key

PATH = "/.well-known/hoist-signing-key"
KEY_ID_HEADER = "X-Hoist-Key-Id"


async def public_key(request: Request) -> Response:
    key = signing_key()
    headers = {KEY_ID_HEADER: key.key_id, "Cache-Control": "public, max-age=300"}
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"keyId": key.key_id, "publicKey": key.public_pem}, headers=headers)
    return Response(key.public_pem, media_type="application/x-pem-file", headers=headers)


def signing_key_routes() -> list[BaseRoute]:
    return [Route(PATH, public_key, methods=["GET", "HEAD"])]
