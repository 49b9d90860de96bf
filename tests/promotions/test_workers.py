"""Promotion jobs run by real worker processes: Celery on Redis, and the relay after an
outage; with hand-overs in the background (as `hoist serve` does them), the promote
answers first, and a publish that fails then still leaves the job to the relay."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.outbox import service as outbox
from app.outbox.models import OutboxJob
from tests.promotions.world import World, request_row
from tests.support.processes import PrivateRedis, celery_worker
from tests.support.waiting import eventually
from workers.celery_app import CeleryDispatcher, make_celery


@pytest.fixture
def dispatch_to() -> Iterator[None]:
    yield
    outbox.set_dispatcher(None)


async def all_jobs_done() -> bool:
    return not await OutboxJob.filter(done_at__isnull=True).exists()


async def promoted(world: World, request_id: int) -> bool:
    return await world.request_status(request_id) == "PROMOTED"


async def test_celery_worker_on_redis_promotes(
    world: World, db_url: str, redis_url: str, tmp_path: Path, dispatch_to: None
) -> None:
    outbox.set_dispatcher(CeleryDispatcher(make_celery(redis_url)))
    await world.policy("fast-lane", "prod")
    image = await world.image()
    # With beat, the worker's relay re-sends a job whose first run met SQLite's "database
    # is locked" (two processes on one SQLite file; production workers use Postgres).
    with celery_worker(
        tmp_path,
        db_url,
        redis_url,
        beat=True,
        HOIST_OUTBOX_RELAY_AFTER_SECONDS="1",
        HOIST_OUTBOX_RELAY_INTERVAL_SECONDS="1",
    ):
        [r] = await world.promote(world.tokens["dev"], image, ["prod"])
        assert r["outcome"] == "PROMOTING"
        request_id = request_row(r)
        await eventually(lambda: promoted(world, request_id), what="PROMOTED by the worker")
    job = await OutboxJob.get(task="promotions.promote")
    assert job.done_at is not None and job.handovers >= 1


async def test_relay_hands_over_a_job_the_broker_missed(
    world: World, db_url: str, tmp_path: Path, dispatch_to: None
) -> None:
    broker = PrivateRedis(tmp_path)
    broker.start()
    outbox.set_dispatcher(CeleryDispatcher(make_celery(broker.url)))
    await world.policy("fast-lane", "prod")
    image = await world.image()
    broker.stop()
    try:
        [r] = await world.promote(world.tokens["dev"], image, ["prod"])
        # The request is committed and answered even though the broker is down.
        assert r["outcome"] == "PROMOTING"
        request_id = request_row(r)
        job = await OutboxJob.get(task="promotions.promote")
        assert job.handed_over_at is None and job.last_error
        broker.start()
        with celery_worker(tmp_path, db_url, broker.url):
            assert await outbox.relay(older_than=timedelta(0)) == 1
            await eventually(lambda: promoted(world, request_id), what="PROMOTED after relay")
            # The promote job wrote the requester's email job (SPEC §7): let it finish too.
            await eventually(all_jobs_done, what="every outbox job done")
        await job.refresh_from_db()
        assert job.done_at is not None and job.handovers == 1
        # Nothing left for the relay: the job is done once.
        assert await outbox.relay(older_than=timedelta(0)) == 0
    finally:
        broker.stop()


# At most this long a held hand-over waits to be let go: it bounds a failure (a promote
# that waited for its publish), never a success.
HOLD_AT_MOST_SECONDS = 30.0


class HeldDispatcher:
    """Takes jobs only once the test lets it: a publish that has not finished yet."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.jobs: list[int] = []

    async def submit(self, job: OutboxJob) -> None:
        self.entered.set()
        await asyncio.wait_for(self.release.wait(), HOLD_AT_MOST_SECONDS)
        self.jobs.append(job.id)


async def test_a_promote_answers_before_its_job_is_handed_over(
    world: World, dispatch_to: None
) -> None:
    held = HeldDispatcher()
    outbox.set_dispatcher(held)
    await world.policy("fast-lane", "prod")
    image = await world.image()
    async with outbox.in_background():
        [r] = await world.promote(world.tokens["dev"], image, ["prod"])
        assert r["outcome"] == "PROMOTING"
        await held.entered.wait()  # the hand-over runs, and is still held
        job = await OutboxJob.get(task="promotions.promote")
        assert held.jobs == [] and job.handed_over_at is None
        held.release.set()
    # Leaving in_background waited for the hand-over still running.
    await job.refresh_from_db()
    assert held.jobs == [job.id] and job.handed_over_at is not None and job.handovers == 1


async def test_a_publish_that_fails_after_the_answer_leaves_the_job_to_the_relay(
    world: World, db_url: str, tmp_path: Path, dispatch_to: None
) -> None:
    broker = PrivateRedis(tmp_path)
    broker.start()
    outbox.set_dispatcher(CeleryDispatcher(make_celery(broker.url)))
    await world.policy("fast-lane", "prod")
    image = await world.image()
    broker.stop()
    try:
        async with outbox.in_background():  # as `hoist serve` hands jobs to Celery
            [r] = await world.promote(world.tokens["dev"], image, ["prod"])
            assert r["outcome"] == "PROMOTING"
        request_id = request_row(r)
        job = await OutboxJob.get(task="promotions.promote")
        assert job.handed_over_at is None and job.last_error  # the publish failed
        broker.start()
        with celery_worker(tmp_path, db_url, broker.url):
            assert await outbox.relay(older_than=timedelta(0)) == 1
            await eventually(lambda: promoted(world, request_id), what="PROMOTED after relay")
            await eventually(all_jobs_done, what="every outbox job done")
        await job.refresh_from_db()
        assert job.done_at is not None and job.handovers == 1
    finally:
        broker.stop()
