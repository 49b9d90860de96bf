"""create_app(): the Starlette application with its lifespan and the GraphQL route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from app import live
from app.attestation.keys import signing_key
from app.attestation.routes import signing_key_routes
from app.body_limit import BodyLimit
from app.cors import cors_middleware
from app.db import tortoise_config
from app.graphql.schema import build_schema, ports, schema
from app.graphql.view import HoistGraphQL, graphiql_asset
from app.health import health_routes
from app.metrics_endpoint import metrics_routes
from app.observability import tracing
from app.outbox.runner import job_runner
from app.outbox.service import Dispatcher
from app.request_ids import RequestIds
from app.settings import get_settings
from app.ui.email_actions import email_routes
from app.ui.routes import ui_routes


def _celery_dispatcher() -> Dispatcher:
    # Imported only with a broker configured: Celery stays out of embedded-worker servers.
    from workers.celery_app import CeleryDispatcher

    return CeleryDispatcher()


def create_app(*, manage_database: bool = True) -> Starlette:
    """The ASGI app; `manage_database=False` when the caller (a test) has set Tortoise up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # At first start the key is made (HOIST_DATA_DIR); a configured one that is
        # missing stops the server here rather than at its first promotion.
        signing_key()
        if not manage_database:
            yield
            return
        async with (
            RegisterTortoise(app, config=tortoise_config()),
            job_runner(get_settings(), _celery_dispatcher),
            live.listening(),  # with Redis: this process hears every process's changes
        ):
            yield

    # Tracing on (app/observability/tracing.py): a schema of its own, with Strawberry's
    # OpenTelemetry extension; off, the shared one, which has none.
    provider = tracing.provider()
    graphql = HoistGraphQL(schema if provider is None else build_schema(provider), ports)
    return Starlette(
        routes=[
            # A Route, not a Mount: a Mount answers POST /graphql with a 307 redirect.
            # Every method reaches HoistGraphQL, which answers HEAD (uptime checkers),
            # OPTIONS, and the others' 405 in JSON (the Route's own 405 is plain text).
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),  # live subscriptions (graphql-transport-ws)
            Route("/assets/{package}/{path:path}", graphiql_asset),
            *health_routes(),
            *metrics_routes(),  # Prometheus's text format (README "Metrics")
            *signing_key_routes(),
            *ui_routes(),  # the dashboard: static files that use /graphql
            *email_routes(),  # an approval email's Approve and Reject links
        ],
        # The request's span first (tracing on), then its id and log scope, so that both
        # cover everything after; CORS next: a cross-origin page can read even a 413.
        middleware=[
            *tracing.asgi_middleware(),
            Middleware(RequestIds),
            *cors_middleware(get_settings().cors_origins),
            Middleware(BodyLimit, max_bytes=get_settings().max_body_bytes),
        ],
        lifespan=lifespan,
    )
