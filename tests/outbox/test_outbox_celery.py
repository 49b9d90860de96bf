"""A poison job under `hoist worker` (Celery on Redis, with the periodic relay): its
failures are counted and spaced out, it stops as DEAD, and a retry runs it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.ids import global_id
from app.outbox import service as outbox
from app.outbox.models import OutboxJob
from tests.outbox.test_outbox_dead_jobs import RETRY, write_poison
from tests.support.graphql import GraphQLClient
from tests.support.processes import celery_worker
from tests.support.waiting import eventually
from workers.celery_app import CeleryDispatcher, make_celery

WORKER_SETTINGS = {
    "HOIST_OUTBOX_MAX_ATTEMPTS": "3",
    "HOIST_OUTBOX_RETRY_BASE_SECONDS": "0.2",
    "HOIST_OUTBOX_RETRY_MAX_SECONDS": "0.4",
    "HOIST_OUTBOX_RELAY_AFTER_SECONDS": "0.5",
    "HOIST_OUTBOX_RELAY_INTERVAL_SECONDS": "0.3",
}


@pytest.fixture
def dispatch_to() -> Iterator[None]:
    yield
    outbox.set_dispatcher(None)


async def test_celery_worker_gives_up_on_a_poison_job_and_runs_it_again_when_retried(
    gql: GraphQLClient,
    admin: str,
    db_url: str,
    redis_url: str,
    tmp_path: Path,
    dispatch_to: None,
) -> None:
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))

    async def dead_after(attempts: int) -> bool:
        row = await OutboxJob.get(id=job.id)
        return row.dead_at is not None and row.attempts == attempts

    with celery_worker(tmp_path, db_url, redis_url, beat=True, **WORKER_SETTINGS):
        job = await write_poison()  # handed to Celery after commit
        await eventually(lambda: dead_after(3), timeout=60, what="the poison job DEAD")
        row = await OutboxJob.get(id=job.id)
        assert row.last_error is not None and row.last_error.startswith("ValueError: ")
        assert row.done_at is None and row.handovers >= 3
        assert await outbox.relay(older_than=timedelta(0)) == 0

        job_gid = global_id("OutboxJob", job.id)
        retried = (await gql(RETRY, {"id": job_gid}, token=admin))["retryOutboxJob"]
        assert retried["errors"] == [] and retried["job"]["state"] == "PENDING"
        assert retried["job"]["attempts"] == 0
        await eventually(lambda: dead_after(3), timeout=60, what="the retried job DEAD again")
    assert (await OutboxJob.get(id=job.id)).handovers >= 6
