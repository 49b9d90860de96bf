"""The GraphQL HTTP endpoint: request context from the Bearer token, GraphiQL served locally."""

from __future__ import annotations

from pathlib import Path

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.asgi import GraphQL

from app.graphql.context import Context, build_context

GRAPHIQL_PAGE = (Path(__file__).parent / "static" / "graphiql.html").read_text()

# The npm packages whose files the GraphiQL page loads, and which files of them may be served.
ASSET_PACKAGES = {
    "graphiql": {"graphiql.min.css", "graphiql.min.js"},
    "react": {"umd/react.production.min.js"},
    "react-dom": {"umd/react-dom.production.min.js"},
}


def _has_nul(value: object) -> bool:
    """NUL in a string, raw (from JSON variables) or as an escape in the query text."""
    if isinstance(value, str):
        return "\x00" in value or "\\u0000" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class HoistGraphQL(GraphQL[Context, None]):
    def decode_json(self, data: str | bytes) -> object:
        """Refuse NUL characters up front: Postgres cannot store them in text."""
        decoded = super().decode_json(data)
        if _has_nul(decoded):
            raise HTTPException(400, "strings may not contain the NUL character (\\u0000)")
        return decoded

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        return await build_context(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL_PAGE)
