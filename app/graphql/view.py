"""The GraphQL HTTP endpoint: request context from the Bearer token, GraphiQL served locally."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from app.graphql.context import Context, build_context
from app.settings import get_settings
from app.ui.routes import SECURITY_HEADERS
from app.validation import storable

log = logging.getLogger("hoist")

STATIC = Path(__file__).parent / "static"
GRAPHIQL_PAGE = (STATIC / "graphiql.html").read_text()

# The npm packages whose files the GraphiQL page loads, and which files of them may be served.
ASSET_PACKAGES = {
    "graphiql": {"graphiql.min.css", "graphiql.min.js"},
    "react": {"umd/react.production.min.js"},
    "react-dom": {"umd/react-dom.production.min.js"},
}
# Hoist's own files of the page (app/graphql/static), served as /assets/hoist/<name>.
OWN_ASSETS = {"graphiql-page.js", "graphiql-page.css", "favicon.svg"}
# The npm files change only with an upgrade of the set-up; ours are revalidated each time
# (the dashboard's headers say no-cache), so an upgraded Hoist never runs yesterday's page script.
NPM_CACHING = {"Cache-Control": "public, max-age=86400"}

# The dashboard's headers (one definition, app/ui/routes.py), plus fonts from data: URIs:
# GraphiQL's stylesheet embeds its fonts that way. Fonts run no code.
GRAPHIQL_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"]
    + "; font-src 'self' data:",
}

# Variables and extensions nest input objects a few levels; nothing real comes near this.
MAX_JSON_DEPTH = 64


async def graphiql_asset(request: Request) -> Response:
    """GraphiQL's scripts and styles: Hoist's own, and those of the npm packages the set-up
    command installed; the page's strict headers on each."""
    package, path = request.path_params["package"], request.path_params["path"]
    if package == "hoist" and path in OWN_ASSETS:
        return FileResponse(STATIC / path, headers=GRAPHIQL_HEADERS)
    if path not in ASSET_PACKAGES.get(package, set()):
        return JSONResponse({"errors": [{"message": "not found"}]}, status_code=404)
    file = get_settings().node_modules / package / path
    if not file.is_file():
        log.error("GraphiQL asset %s is missing: run `npm ci` (the README's set-up does)", file)
        return JSONResponse({"errors": [{"message": "asset not installed"}]}, status_code=404)
    return FileResponse(file, headers={**GRAPHIQL_HEADERS, **NPM_CACHING})


# NUL written as a GraphQL escape in the query text: \u0000 or \u{0}.
_NUL_ESCAPE = re.compile(r"\\u(?:0000|\{0+\})")


class _TooDeep(ValueError):
    pass


def _unstorable(value: object) -> bool:
    """A string the databases can't store (NUL, lone surrogate), raw from JSON variables or
    as an escape in the query text: it would crash the first query that passes it on.
    Walked with a stack of its own, which also bounds the nesting (_TooDeep)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not storable(item) or _NUL_ESCAPE.search(item):
                return True
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _TooDeep
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


class HoistGraphQL(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, except that a request refused before GraphQL runs (not JSON, no
        query, NUL...) is answered in GraphQL's JSON shape, not plain text, so every client
        can read why; and HEAD answers as GET would for a browser (uptime checkers)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            if request.method == "HEAD":
                response: Response = await self.render_graphql_ide(request)
            else:
                response = await self.run(request)
        except HTTPException as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.reason}]}, status_code=exc.status_code
            )
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """Refuse what the databases cannot store up front (NUL and lone surrogates), and
        bodies that are not UTF-8 or nest deeper than MAX_JSON_DEPTH, as 400s: Strawberry
        itself turns only malformed JSON into one, the rest into a 500 with a traceback."""
        try:
            decoded = super().decode_json(data)
        except UnicodeDecodeError as exc:
            raise HTTPException(
                400, f"the request body is not valid UTF-8 (byte {exc.start})"
            ) from None
        except RecursionError:
            raise HTTPException(
                400, f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
            ) from None
        try:
            unstorable = _unstorable(decoded)
        except _TooDeep:
            raise HTTPException(
                400, f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
            ) from None
        if unstorable:
            raise HTTPException(
                400,
                "strings may not contain the NUL character (\\u0000) "
                "or lone surrogates (\\ud800-\\udfff)",
            )
        return decoded

    # Narrower than strawberry's (Request | WebSocket): Hoist mounts no websocket route, so
    # only HTTP requests arrive here.
    async def get_context(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Context:
        return await build_context(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # The dashboard's policy: the page runs only Hoist's own files (a token is pasted
        # into it), and no other site may frame it.
        return HTMLResponse(GRAPHIQL_PAGE, headers=GRAPHIQL_HEADERS)
