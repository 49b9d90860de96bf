"""`hoist worker` (Celery on Redis) with tracing on: the job's span, exported by the worker
process, is a child of the span of the mutation that wrote the job, in another process,
through the outbox row alone; its SQL is traced too, and its log lines are JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.asgi import create_app
from app.outbox import service as outbox
from app.promotions.transitions import PROMOTE_JOB
from tests.conftest import People
from tests.observability.test_tracing import in_memory_tracing
from tests.promotions.world import build_world, request_row
from tests.support.graphql import GraphQLClient
from tests.support.otlp import Collector, running_collector
from tests.support.processes import celery_worker
from tests.support.waiting import eventually
from workers.celery_app import CeleryDispatcher, make_celery

WITHIN_SECONDS = 60.0


@pytest.fixture
def collector() -> Iterator[Collector]:
    with running_collector() as running:
        yield running


@pytest.fixture
def postgres_url(db: str, db_url: str) -> str:
    """Before the other fixtures (no Redis started for nothing): PostgreSQL only."""
    if db != "postgres":
        pytest.skip("a separate worker shares the server's database on PostgreSQL")
    return db_url


async def test_a_celery_workers_job_span_continues_the_mutations_trace(
    postgres_url: str,
    redis_url: str,
    people: People,
    admin: str,
    tmp_path: Path,
    collector: Collector,
) -> None:
    worker_env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "HOIST_LOG_FORMAT": "json",
    }
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))
    try:
        with (
            in_memory_tracing() as api_spans,
            celery_worker(tmp_path, postgres_url, redis_url, **worker_env),
        ):
            transport = httpx.ASGITransport(app=create_app(manage_database=False))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                world = await build_world(GraphQLClient(http), people, admin)
                await world.policy("fast-lane", "prod")
                image = await world.image()
                [result] = await world.promote(world.tokens["dev"], image, ["prod"])
            assert result["outcome"] == "PROMOTING"
            request_id = request_row(result)

            async def promoted() -> bool:
                return await world.request_status(request_id) == "PROMOTED"

            await eventually(promoted, "the worker promoting", WITHIN_SECONDS)
            eventually(
                lambda: collector.named(f"hoist.job {PROMOTE_JOB}"), "its span", WITHIN_SECONDS
            )
    finally:
        outbox.set_dispatcher(None)

    [job] = collector.named(f"hoist.job {PROMOTE_JOB}")
    assert job.service == "hoist-worker"
    api = {s.context.span_id: s for s in api_spans.get_finished_spans()}
    parent = api[int(job.parent_id, 16)]  # a span of this process: the resolver's
    assert parent.name == "GraphQL Resolving: promoteImage"
    assert f"{parent.context.trace_id:032x}" == job.trace_id
    # Celery's own task span in the worker, and asyncpg's queries under the job's span.
    names = {s.name for s in collector.received() if s.service == "hoist-worker"}
    assert f"run/{PROMOTE_JOB}" in names, names
    sql = [
        s
        for s in collector.received()
        if s.attributes.get("db.system")
        and job.span_id in [a.span_id for a in collector.ancestors(s)]
    ]
    assert sql, names

    lines = (tmp_path / "worker.log").read_text().splitlines()
    # Celery's signal handlers write their notices straight to the terminal, not through
    # logging ("worker: Warm shutdown (MainProcess)", README "Logs"): the one exception.
    records = [
        json.loads(line) for line in lines if line.strip() and not line.startswith("worker: ")
    ]
    assert any(r["message"].endswith(" ready.") for r in records)
    assert all({"request_id", "trace_id", "operation", "user_id"} <= set(r) for r in records)
