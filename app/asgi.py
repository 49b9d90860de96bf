"""create_app(): the Starlette application with its lifespan and the GraphQL route."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from app.db import tortoise_config
from app.graphql.schema import schema
from app.graphql.view import ASSET_PACKAGES, HoistGraphQL
from app.outbox.runner import job_runner
from app.settings import get_settings
from app.ui.routes import ui_routes

log = logging.getLogger("hoist")


async def asset(request: Request) -> Response:
    """GraphiQL's scripts and styles, from the npm packages the set-up command installed."""
    package, path = request.path_params["package"], request.path_params["path"]
    if path not in ASSET_PACKAGES.get(package, set()):
        return PlainTextResponse("not found", status_code=404)
    file = get_settings().node_modules / package / path
    if not file.is_file():
        log.error("GraphiQL asset %s is missing: run `npm ci` (the README's set-up does)", file)
        return PlainTextResponse("asset not installed", status_code=404)
    return FileResponse(file, headers={"Cache-Control": "public, max-age=86400"})


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(*, manage_database: bool = True) -> Starlette:
    """The ASGI app; `manage_database=False` when the caller (a test) has set Tortoise up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        async with RegisterTortoise(app, config=tortoise_config()), job_runner(get_settings()):
            yield

    graphql = HoistGraphQL(schema)
    return Starlette(
        routes=[
            # A Route, not a Mount: a Mount answers POST /graphql with a 307 redirect.
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/assets/{package}/{path:path}", asset),
            Route("/healthz", health),
            *ui_routes(),  # the dashboard: static files that use /graphql
        ],
        lifespan=lifespan,
    )
