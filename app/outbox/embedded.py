"""The embedded worker: with no broker configured, `hoist serve` runs jobs in its own event loop.

It runs the very handlers Celery tasks run (app.outbox.service.run_job), fed by the same
outbox, so the embedded default behaves like a deployment with Redis and workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from app.outbox import service
from app.outbox.models import OutboxJob

log = logging.getLogger("hoist.outbox.embedded")


class EmbeddedWorker:
    def __init__(self, relay_after: float, relay_every: float) -> None:
        self.relay_after = timedelta(seconds=relay_after)
        self.relay_every = relay_every
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []

    async def submit(self, job: OutboxJob) -> None:
        self.queue.put_nowait(job.id)

    async def start(self) -> None:
        # Jobs left not done by an earlier run of this process have no one else to run them.
        await service.relay(older_than=timedelta(0))
        self.tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self._relay())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _consume(self) -> None:
        while True:
            job_id = await self.queue.get()
            try:
                await service.run_job(job_id)
            except Exception:  # the job stays not done; the relay hands it over again
                log.exception("job %s failed", job_id)

    async def _relay(self) -> None:
        while True:
            await asyncio.sleep(self.relay_every)
            try:
                await service.relay(self.relay_after)
            except Exception:
                log.exception("outbox relay failed")
            await service.run_sweeps()
