"""The GraphQL HTTP endpoint: request context from the Bearer token, GraphiQL served locally."""

from __future__ import annotations

from pathlib import Path

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


class HoistGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        return await build_context(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL_PAGE)
