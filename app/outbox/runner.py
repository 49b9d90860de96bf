"""Who runs outbox jobs for a serving process: Celery workers, or the embedded worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from app.outbox import service
from app.outbox.embedded import EmbeddedWorker
from app.outbox.service import Dispatcher
from app.settings import Settings


@asynccontextmanager
async def job_runner(
    settings: Settings, broker_dispatcher: Callable[[], Dispatcher]
) -> AsyncIterator[None]:
    """With HOIST_BROKER_URL, hand jobs to `broker_dispatcher()` (the caller's: Celery's,
    which lives in workers/, above app/); without, run them in this process."""
    if settings.broker_url:
        service.set_dispatcher(broker_dispatcher())
        # Jobs an earlier run wrote but never handed over (crash, broker down) go out now.
        await service.relay(timedelta(seconds=settings.outbox_relay_after_seconds))
        try:
            # A request answers before its jobs' Celery publish (the relay covers a failed one).
            async with service.in_background():
                yield
        finally:
            service.set_dispatcher(None)
        return
    worker = EmbeddedWorker(
        settings.outbox_relay_after_seconds, settings.outbox_relay_interval_seconds
    )
    service.set_dispatcher(worker)
    await worker.start()
    try:
        yield
    finally:
        await worker.stop()
        service.set_dispatcher(None)
