"""Celery tasks: one per outbox job name, plus the periodic relay. Thin: they call services."""

from __future__ import annotations

from datetime import timedelta

from celery.signals import worker_process_init, worker_process_shutdown

from app.observability import tracing
from app.outbox import service as outbox
from app.outbox.registry import load_handlers
from app.settings import get_settings
from workers import runtime
from workers.celery_app import celery


def _job_task(name: str) -> None:
    def run_job(job_id: int) -> bool:
        return runtime.run(outbox.run_job(job_id))

    run_job.__doc__ = f"Run outbox job {name!r} by id (idempotent)."
    celery.task(name=name)(run_job)


for _name in load_handlers():
    _job_task(_name)


@celery.task(name="outbox.relay")
def relay() -> int:
    """Hand over again the jobs not done after the relay delay."""
    after = timedelta(seconds=get_settings().outbox_relay_after_seconds)
    return runtime.run(outbox.relay(after))


@celery.task(name="outbox.sweep")
def sweep() -> dict[str, int]:
    """Run the periodic sweeps (expiry, reminders, promotion windows)."""
    return runtime.run(outbox.run_sweeps())


@worker_process_init.connect
def _init_process(**_: object) -> None:
    # In each pool process, after the fork: the span exporter's thread does not survive one.
    provider = tracing.configure(tracing.WORKER_SERVICE, get_settings().resolved_database_url)
    if provider is not None:
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    runtime.start()


@worker_process_shutdown.connect
def _close_process(**_: object) -> None:
    runtime.stop()
    tracing.shutdown()
