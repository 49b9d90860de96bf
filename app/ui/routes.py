"""Serves the dashboard's static files at /ui: no build step, nothing rendered server-side.

The page is a shell; its JavaScript modules talk to the public /graphql API with the
token the user pasted. Every path under /ui that is not a static file gets the same
shell (emails link to /ui/requests/<id>), and the client-side router takes it from there.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

# The dashboard runs only its own files: no inline script or style, no other origin.
# Values from the API go in as text; this policy is the second line of defence.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time (ETag/Last-Modified make that cheap): an upgraded Hoist
    # must never run yesterday's modules against today's API.
    "Cache-Control": "no-cache",
}


class DashboardFiles(StaticFiles):
    """StaticFiles with the dashboard's security and caching headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


async def shell(request: Request) -> Response:
    """The one HTML page; the router in app.js reads the location."""
    return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)


async def to_shell(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)


def ui_routes() -> list[BaseRoute]:
    """The dashboard's routes, for create_app()."""
    return [
        Route("/ui", to_shell),
        Mount("/ui/static", DashboardFiles(directory=STATIC), name="ui-static"),
        Route("/ui/{path:path}", shell),
    ]
