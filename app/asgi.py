"""create_app(): the Starlette application with its lifespan and the GraphQL route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from app.body_limit import BodyLimit
from app.db import tortoise_config
from app.graphql.schema import schema
from app.graphql.view import HoistGraphQL, graphiql_asset
from app.health import health_routes
from app.outbox.runner import job_runner
from app.outbox.service import Dispatcher
from app.settings import get_settings
from app.ui.routes import ui_routes


def _celery_dispatcher() -> Dispatcher:
    # Imported only with a broker configured: Celery stays out of embedded-worker servers.
    from workers.celery_app import CeleryDispatcher

    return CeleryDispatcher()


def create_app(*, manage_database: bool = True) -> Starlette:
    """The ASGI app; `manage_database=False` when the caller (a test) has set Tortoise up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        async with (
            RegisterTortoise(app, config=tortoise_config()),
            job_runner(get_settings(), _celery_dispatcher),
        ):
            yield

    graphql = HoistGraphQL(schema)
    return Starlette(
        routes=[
            # A Route, not a Mount: a Mount answers POST /graphql with a 307 redirect.
            # GET brings HEAD along (uptime checkers); HoistGraphQL answers it.
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/assets/{package}/{path:path}", graphiql_asset),
            *health_routes(),
            *ui_routes(),  # the dashboard: static files that use /graphql
        ],
        middleware=[Middleware(BodyLimit, max_bytes=get_settings().max_body_bytes)],
        lifespan=lifespan,
    )
