"""The GraphQL HTTP endpoint: request context from the Bearer token, GraphiQL served locally."""

from __future__ import annotations

import re
from pathlib import Path

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from app.graphql.context import Context, build_context
from app.validation import storable

GRAPHIQL_PAGE = (Path(__file__).parent / "static" / "graphiql.html").read_text()

# The npm packages whose files the GraphiQL page loads, and which files of them may be served.
ASSET_PACKAGES = {
    "graphiql": {"graphiql.min.css", "graphiql.min.js"},
    "react": {"umd/react.production.min.js"},
    "react-dom": {"umd/react-dom.production.min.js"},
}


# NUL written as a GraphQL escape in the query text: \u0000 or \u{0}.
_NUL_ESCAPE = re.compile(r"\\u(?:0000|\{0+\})")


def _unstorable(value: object) -> bool:
    """A string the databases can't store (NUL, lone surrogate), raw from JSON variables or
    as an escape in the query text: it would crash the first query that passes it on."""
    if isinstance(value, str):
        return not storable(value) or bool(_NUL_ESCAPE.search(value))
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


class HoistGraphQL(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, except that a request refused before GraphQL runs (not JSON, no
        query, NUL...) is answered in GraphQL's JSON shape, not plain text, so every client
        can read why."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            response = JSONResponse({"errors": [{"message": exc.reason}]},
                                    status_code=exc.status_code)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """Refuse what the databases cannot store up front: NUL and lone surrogates."""
        decoded = super().decode_json(data)
        if _unstorable(decoded):
            raise HTTPException(400, "strings may not contain the NUL character (\\u0000) "
                                     "or lone surrogates (\\ud800-\\udfff)")
        return decoded

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        return await build_context(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL_PAGE)
