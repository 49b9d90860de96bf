"""The outbox: jobs are rows written in the state change's transaction, handed over after commit.

A job is handed to a dispatcher (Celery, or the embedded worker) only after the
transaction that wrote it has committed. When the hand-over fails (broker down,
process killed), the row stays not done and the periodic relay hands it over again.
Handlers are idempotent, so a job that runs twice does nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tortoise.expressions import F, Q

from app.db import after_commit, unit_of_work
from app.outbox.models import OutboxJob
from app.outbox.registry import load_handlers

log = logging.getLogger("hoist.outbox")


class Dispatcher(Protocol):
    async def submit(self, job: OutboxJob) -> None:
        """Hand a committed job to whatever runs it; raise when that fails."""


_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Where committed jobs go in this process (None: nowhere; the relay picks them up)."""
    global _dispatcher
    _dispatcher = dispatcher


async def enqueue(task: str, **payload: Any) -> OutboxJob:
    """Write a job in the current unit of work; it is handed over once that commits."""
    job = await OutboxJob.create(task=task, payload=payload)
    after_commit(lambda: hand_over(job))
    return job


async def hand_over(job: OutboxJob) -> bool:
    """Give a job to the dispatcher; False (and the job left for the relay) when that fails."""
    if _dispatcher is None:
        return False
    try:
        await _dispatcher.submit(job)
    except Exception as exc:  # broker down, connection refused...: the relay retries
        log.warning("could not hand over job %s (%s): %s", job.id, job.task, exc)
        await OutboxJob.filter(id=job.id).update(last_error=str(exc)[:500])
        return False
    await OutboxJob.filter(id=job.id).update(
        handed_over_at=datetime.now(UTC), handovers=F("handovers") + 1
    )
    return True


async def relay(older_than: timedelta) -> int:
    """Hand over again every job not done and not handed over within `older_than`."""
    cutoff = datetime.now(UTC) - older_than
    stuck = await OutboxJob.filter(
        Q(handed_over_at__isnull=True) | Q(handed_over_at__lt=cutoff),
        done_at__isnull=True, created_at__lt=cutoff,
    ).order_by("id").limit(500)
    handed = 0
    for job in stuck:
        handed += await hand_over(job)
    if stuck:
        log.info("outbox relay: %d of %d stuck jobs handed over", handed, len(stuck))
    return handed


async def run_job(job_id: int) -> bool:
    """Run a job's handler and mark it done, in one transaction; a done job is skipped."""
    handlers = load_handlers()
    async with unit_of_work():
        job = await OutboxJob.get_or_none(id=job_id)
        if job is None or job.done_at is not None:
            return False
        await handlers[job.task](job.payload)
        # Conditional, so two workers racing on one job can't both count it done.
        done = await OutboxJob.filter(id=job_id, done_at__isnull=True).update(
            done_at=datetime.now(UTC)
        )
        return bool(done)
