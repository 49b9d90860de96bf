"""OpenTelemetry traces: nothing installed while off; on, a promotion's worker span is a
descendant of the GraphQL mutation that asked for it, through the outbox row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from strawberry.extensions.tracing import OpenTelemetryExtension

from app.asgi import create_app
from app.observability import tracing
from app.outbox.models import OutboxJob
from app.promotions.transitions import PROMOTE_JOB
from app.settings import OTLP_TRACES_ENDPOINTS
from tests.conftest import People
from tests.promotions.world import World, build_world, drain, request_row
from tests.support.graphql import GraphQLClient

JOB_SPAN = f"hoist.job {PROMOTE_JOB}"


def _extension_factories(app: Any) -> list[Any]:
    graphql = next(route.endpoint for route in app.routes if route.path == "/graphql")
    return list(graphql.schema.extensions)


def _builds_otel_extension(factory: Any) -> bool:
    made = factory() if callable(factory) and not isinstance(factory, type) else factory
    return isinstance(made, OpenTelemetryExtension) or made is OpenTelemetryExtension


@pytest.fixture
def untraced(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTLP_TRACES_ENDPOINTS:
        monkeypatch.delenv(name, raising=False)


def test_off_by_default_nothing_is_installed(untraced: None) -> None:
    assert tracing.configure(tracing.API_SERVICE) is None
    assert tracing.provider() is None
    app = create_app(manage_database=False)
    assert not any(m.cls is OpenTelemetryMiddleware for m in app.user_middleware)
    assert not any(_builds_otel_extension(f) for f in _extension_factories(app))
    # The global provider is still OpenTelemetry's no-op proxy: no SDK was set up.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert tracing.outbox_context() == (None, None)
    assert tracing.current_ids() == (None, None)


def test_an_endpoint_turns_it_on_with_the_standard_variables() -> None:
    """In a process of its own: the global provider can be set once per process."""
    script = """
import json, os
from opentelemetry import trace
from app.observability import tracing

def described(provider):
    [processor] = provider._active_span_processor._span_processors
    exporter = processor._batch_processor._exporter
    return [provider.resource.attributes["service.name"], type(processor).__name__,
            type(exporter).__name__, exporter._endpoint]

provider = tracing.configure(tracing.API_SERVICE)
first = described(provider) + [trace.get_tracer_provider() is provider]
tracing._provider = None  # as a second process would start
os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT")
os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://127.0.0.1:4318/t"
os.environ["OTEL_SERVICE_NAME"] = "shop-hoist"
print(json.dumps([first, described(tracing.configure(tracing.WORKER_SERVICE))]))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "HOIST_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first, second = json.loads(done.stdout.strip().splitlines()[-1])
    exporting = ["BatchSpanProcessor", "OTLPSpanExporter"]
    assert first == ["hoist-api", *exporting, "http://127.0.0.1:4318/v1/traces", True]
    assert second == ["shop-hoist", *exporting, "http://127.0.0.1:4318/t"]


@contextmanager
def in_memory_tracing(database_url: str | None = None) -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process, into memory (the global provider untouched); SQL too on
    PostgreSQL."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider, database_url)
    try:
        yield exporter
    finally:
        tracing.shutdown()


@pytest.fixture
def spans(db_url: str) -> Iterator[InMemorySpanExporter]:
    with in_memory_tracing(db_url) as exporter:
        yield exporter


@pytest.fixture
async def traced_world(
    spans: InMemorySpanExporter, db: str, people: People, admin: str
) -> AsyncIterator[World]:
    transport = httpx.ASGITransport(app=create_app(manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://hoist.test") as http:
        yield await build_world(GraphQLClient(http), people, admin)


def test_on_the_app_has_the_middleware_and_the_extension() -> None:
    with in_memory_tracing():
        app = create_app(manage_database=False)
    assert app.user_middleware[0].cls is OpenTelemetryMiddleware  # outermost
    assert sum(_builds_otel_extension(f) for f in _extension_factories(app)) == 1


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None:
        parent = by_id.get(span.parent.span_id)
        assert parent is not None, f"{span.name}'s parent was not exported"
        chain.append(parent)
        span = parent
    return chain


async def test_the_promotion_job_span_descends_from_the_mutation(
    traced_world: World, spans: InMemorySpanExporter, db: str
) -> None:
    world = traced_world
    await world.policy("fast-lane", "prod")  # no approval needed
    image = await world.image()
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert result["outcome"] == "PROMOTING"
    # The mutation's trace context was written on the job's row...
    job = await OutboxJob.get(task=PROMOTE_JOB)
    assert job.traceparent is not None and job.done_at is None
    # ...and the job runs later, outside the request, as a worker would run it.
    assert trace.get_current_span() is trace.INVALID_SPAN
    await drain()
    assert await world.request_status(request_row(result)) == "PROMOTED"

    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    [job_span] = [s for s in finished if s.name == JOB_SPAN]
    assert job_span.kind is SpanKind.CONSUMER
    assert job_span.attributes == {
        "hoist.job.kind": PROMOTE_JOB,
        "hoist.job.id": job.id,
        "hoist.job.attempt": 1,
    }
    chain = _ancestors(job_span, by_id)
    names = [s.name for s in chain]
    # The resolver's span, Strawberry's operation span, the ASGI server span (the root).
    assert "GraphQL Resolving: promoteImage" in names
    operation = next(s for s in chain if s.name.startswith("GraphQL Query"))
    assert operation.kind is SpanKind.SERVER
    assert chain[-1].name == "POST /graphql" and chain[-1].parent is None
    assert {s.context.trace_id for s in [job_span, *chain]} == {job_span.context.trace_id}
    assert job.traceparent.split("-")[1] == trace.format_trace_id(job_span.context.trace_id)
    if db == "postgres":  # asyncpg's queries, the job's among them
        sql = [s for s in finished if s.attributes and s.attributes.get("db.system")]
        assert any(job_span in _ancestors(s, by_id) for s in sql), {s.name for s in sql}


async def test_a_job_written_with_tracing_off_has_no_traceparent(
    untraced: None, gql: GraphQLClient, people: People, admin: str
) -> None:
    world = await build_world(gql, people, admin)
    await world.policy("fast-lane", "prod")
    image = await world.image()
    [result] = await world.promote(world.tokens["dev"], image, ["prod"])
    assert result["outcome"] == "PROMOTING"
    job = await OutboxJob.get(task=PROMOTE_JOB)
    assert (job.traceparent, job.tracestate) == (None, None)
    # Run once tracing is on: its span is a root of its own, there being nothing to continue.
    with in_memory_tracing() as spans:
        await drain()
    [job_span] = [s for s in spans.get_finished_spans() if s.name == JOB_SPAN]
    assert job_span.parent is None
    assert await world.request_status(request_row(result)) == "PROMOTED"
