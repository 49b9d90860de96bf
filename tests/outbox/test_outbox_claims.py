"""Two runners of one job (two server processes' embedded workers, a Celery redelivery):
the second never runs the handler while the first holds the job, and finds it done after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from app.db import unit_of_work
from app.outbox import service as outbox
from app.outbox.models import OutboxJob
from app.outbox.registry import HANDLERS, load_handlers

HELD = "tests.held"


class HeldHandler:
    """A handler whose first run waits until released; it counts every run."""

    def __init__(self) -> None:
        self.runs = 0
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.runs += 1
        if self.runs == 1:
            self.entered.set()
            await self.release.wait()


@pytest.fixture
def held() -> Iterator[HeldHandler]:
    load_handlers()  # first, so the real handlers are in and ours is added beside them
    handler = HeldHandler()
    HANDLERS[HELD] = handler
    yield handler
    del HANDLERS[HELD]


async def test_a_job_another_runner_holds_is_left_to_it(db: str, held: HeldHandler) -> None:
    if db != "postgres":
        pytest.skip("SQLite runs one transaction at a time: a second run waits, then skips")
    async with unit_of_work():
        job = await OutboxJob.create(task=HELD, payload={})
    first = asyncio.create_task(outbox.run_job(job.id))
    await asyncio.wait_for(held.entered.wait(), timeout=30)  # bounds a failure only

    # The first run is inside the handler, its transaction open, nothing committed yet.
    assert await outbox.run_job(job.id) is False
    assert held.runs == 1, "the second runner ran the handler beside the first"

    held.release.set()
    assert await first is True
    assert (await OutboxJob.get(id=job.id)).done_at is not None
    assert await outbox.run_job(job.id) is False, "done: the claim is free, the job is not"
    assert held.runs == 1
