"""The Celery app: broker from HOIST_BROKER_URL, no results, late acks, one job at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from app.observability import logs
from app.outbox.models import OutboxJob
from app.settings import get_settings


def make_celery(broker_url: str | None = None) -> Celery:
    settings = get_settings()
    broker = broker_url or settings.broker_url or "memory://"
    app = Celery("hoist", broker=broker, include=["workers.tasks"])
    app.conf.update(
        task_ignore_result=True,
        # A job is acknowledged only after it ran; a worker killed mid-job gets it redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        # Hand-over must fail fast when the broker is down: the outbox relay retries later.
        broker_connection_timeout=2,
        task_publish_retry=False,
        broker_transport_options={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        beat_schedule={
            "outbox-relay": {
                "task": "outbox.relay",
                "schedule": settings.outbox_relay_interval_seconds,
            },
            "periodic-sweeps": {
                "task": "outbox.sweep",
                "schedule": settings.outbox_relay_interval_seconds,
            },
        },
    )
    return app


celery = make_celery()


def _configure_logging(**_: object) -> None:
    """The worker logs as `hoist serve` does (HOIST_LOG_FORMAT, the redaction): with a
    receiver of this signal, Celery sets up no logging of its own, nor redirects stdout."""
    # billiard's pool logs to "multiprocessing", which propagates nothing to the root.
    logs.configure(get_settings(), "multiprocessing")


setup_logging.connect(_configure_logging)


class CeleryDispatcher:
    """Hands committed outbox jobs to Celery; the task name is the job's name."""

    def __init__(self, app: Celery = celery) -> None:
        self.app = app

    async def submit(self, job: OutboxJob) -> None:
        # Publishing blocks on the network: keep it off the event loop.
        await asyncio.to_thread(self._send, job.task, job.id)

    def _send(self, task: str, job_id: int) -> Any:
        return self.app.send_task(task, args=[job_id], retry=False)
