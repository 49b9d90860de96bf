"""The outbox: jobs are rows written in the state change's transaction, handed over after commit.

A job is handed to a dispatcher (Celery, or the embedded worker) only after the
transaction that wrote it has committed. When the hand-over fails (broker down,
process killed), the row stays not done and the periodic relay hands it over again.
Handlers are idempotent, so a job that runs twice does nothing the second time.

A handler that raises is a failed *attempt*: its transaction rolls back, the error and
the count are kept on the row, and the relay hands the job over again only after a
backoff (HOIST_OUTBOX_RETRY_BASE_SECONDS, doubling, at most
HOIST_OUTBOX_RETRY_MAX_SECONDS). After HOIST_OUTBOX_MAX_ATTEMPTS failed attempts the job
is DEAD: never run again until a super-admin retries it (retry_dead_job), and
counted by /healthz. So a poison job costs a bounded number of runs, not one per relay
interval forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tortoise.expressions import F, Q
from tortoise.functions import Count, Min
from tortoise.queryset import QuerySet

from app import clock, ids
from app.accounts.access import Access
from app.audit.service import record
from app.db import after_commit, unit_of_work
from app.errors import DomainError, ErrorCode, not_found
from app.observability import logs, metrics, tracing
from app.outbox import repository
from app.outbox.models import OutboxJob
from app.outbox.registry import Handler, load_handlers, load_sweeps
from app.settings import Settings, get_settings

log = logging.getLogger("hoist.outbox")

_ERROR_LIMIT = 1000


class Dispatcher(Protocol):
    async def submit(self, job: OutboxJob) -> None:
        """Hand a committed job to whatever runs it; raise when that fails."""


_dispatcher: Dispatcher | None = None
# The hand-overs running after their request answered (see in_background); None: inline.
_background: set[asyncio.Task[None]] | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Where committed jobs go in this process (None: nowhere; the relay picks them up)."""
    global _dispatcher
    _dispatcher = dispatcher


@asynccontextmanager
async def in_background() -> AsyncIterator[None]:
    """While open, a committed job is handed over in a task of its own, so the mutation
    that wrote it answers without waiting for the broker (a Celery publish is a network
    call and a thread hop). Nothing is lost by not waiting: the job's row is committed
    before the task starts, and one whose hand-over fails or never runs (the process
    stops first) is not handed over, so the relay hands it over later. On exit the
    tasks still running are awaited, so a clean shutdown leaves none half done.

    For a process whose event loop keeps running (the server); a Celery task's loop
    stops when the task returns, so the worker hands its jobs over inline."""
    global _background
    tasks: set[asyncio.Task[None]] = set()
    _background = tasks
    try:
        yield
    finally:
        _background = None
        await asyncio.gather(*tasks, return_exceptions=True)


async def _after_commit_hand_over(job: OutboxJob) -> None:
    tasks = _background
    if tasks is None:
        await hand_over(job)
        return
    task = asyncio.create_task(_hand_over_logged(job))
    tasks.add(task)  # a reference, so the task is not collected before it ends
    task.add_done_callback(tasks.discard)


async def _hand_over_logged(job: OutboxJob) -> None:
    try:
        await hand_over(job)
    except Exception:  # recording the outcome failed (database gone): the relay retries
        log.exception("could not hand over job %s (%s)", job.id, job.task)


async def _write(task: str, payload: dict[str, Any]) -> OutboxJob:
    """The job's row. With tracing on, it carries the current span's trace context, so
    that its run is a child of what wrote it."""
    traceparent, tracestate = tracing.outbox_context()
    return await OutboxJob.create(
        task=task, payload=payload, traceparent=traceparent, tracestate=tracestate
    )


async def enqueue(task: str, **payload: Any) -> OutboxJob:
    """Write a job in the current unit of work; it is handed over once that commits."""
    job = await _write(task, payload)
    after_commit(lambda: _after_commit_hand_over(job))
    return job


async def enqueue_fallback(task: str, **payload: Any) -> int:
    """Write a job that the caller runs itself after commit, and that is not handed over.

    The row is the safety net: should the caller's process die before `finish_fallback`,
    the relay finds the row not done and hands it over like any job left behind.
    """
    job = await _write(task, payload)
    return job.id


async def finish_fallback(job_id: int) -> None:
    """The caller did the work of its fallback job itself: the relay has nothing to do."""
    await OutboxJob.filter(id=job_id, done_at__isnull=True).update(done_at=clock.now())


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
        handed_over_at=clock.now(), handovers=F("handovers") + 1
    )
    return True


def due_jobs(older_than: timedelta) -> Any:
    """Jobs a worker should get now: not done, not dead, past their backoff, and not
    handed over within `older_than` (a job in a worker's hands is left to it)."""
    now = clock.now()
    cutoff = now - older_than
    return OutboxJob.filter(
        Q(handed_over_at__isnull=True) | Q(handed_over_at__lt=cutoff),
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        done_at__isnull=True,
        dead_at__isnull=True,
        created_at__lt=cutoff,
    )


async def relay(older_than: timedelta) -> int:
    """Hand over again every job not done and not handed over within `older_than`."""
    stuck = await due_jobs(older_than).order_by("id").limit(500)
    handed = 0
    for job in stuck:
        handed += await hand_over(job)
    if stuck:
        log.info("outbox relay: %d of %d stuck jobs handed over", handed, len(stuck))
    return handed


async def run_sweeps() -> dict[str, int]:
    """Run every periodic sweep once; one that fails is logged and the others still run.
    How many each changed, by name (a failed one: -1)."""
    changed: dict[str, int] = {}
    for name, sweep in load_sweeps().items():
        try:
            changed[name] = await sweep()
        except Exception:
            log.exception("periodic sweep %s failed", name)
            changed[name] = -1
    return changed


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait after the `attempts`-th failed run: base, doubling, never more than the cap."""
    return clock.backoff(
        attempts, settings.outbox_retry_base_seconds, settings.outbox_retry_max_seconds
    )


def describe_error(exc: BaseException) -> str:
    """What an operator sees of a handler's failure: its type and message, shortened."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:_ERROR_LIMIT]


async def run_job(job_id: int) -> bool:
    """Run a job's handler and mark it done, in one transaction; a done or dead job, one
    still in its backoff, or one another runner holds (repository.claim) is skipped. A
    handler that raises leaves the job not done, its failure recorded (see the module's
    docstring); True only when this run did it."""
    handlers = load_handlers()
    timer = metrics.JobTimer(handlers)
    try:
        with logs.scope(job_id=job_id):
            return await _run_job(job_id, handlers, timer)
    finally:
        timer.observe()


async def _run_job(job_id: int, handlers: dict[str, Handler], timer: metrics.JobTimer) -> bool:
    try:
        async with unit_of_work():
            # The claim before the read, in a statement of its own: the read's snapshot is
            # then taken after the claim, so it sees what an earlier holder committed.
            if not await repository.claim(job_id):
                # Another runner has it: it finishes the job, or records its failure and
                # the relay hands the job over again.
                log.info("outbox job %s is being run elsewhere: left to that run", job_id)
                return False
            job = await OutboxJob.get_or_none(id=job_id)
            if job is None or job.done_at is not None or job.dead_at is not None:
                return False
            if job.retry_at is not None and job.retry_at > clock.now():
                # A stale second delivery, before the backoff is over: the relay hands the
                # job over again once it is due, and this run would only burn an attempt.
                return False
            timer.start(job.task)
            logs.bind(job=job.task)
            with tracing.job_span(
                job.task, job.id, job.attempts + 1, job.traceparent, job.tracestate
            ):
                await handlers[job.task](job.payload)
            # Conditional, so two workers racing on one job can't both count it done.
            done = await OutboxJob.filter(id=job_id, done_at__isnull=True).update(
                done_at=clock.now()
            )
            return bool(done)
    except Exception as exc:  # the handler's work rolled back with its transaction
        await record_failure(job_id, exc)
        return False


async def record_failure(job_id: int, exc: Exception, settings: Settings | None = None) -> None:
    """Count a failed run of a job not done: back off, or DEAD after the last attempt."""
    settings = settings or get_settings()
    job = await OutboxJob.get_or_none(id=job_id)
    if job is None or job.done_at is not None or job.dead_at is not None:
        # Done already: what failed ran after the commit (an after-commit callback).
        log.exception("outbox job %s failed after it was done", job_id, exc_info=exc)
        return
    attempts = job.attempts + 1
    now = clock.now()
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": describe_error(exc),
        # No longer in a worker's hands: the relay gives it out again.
        "handed_over_at": None,
    }
    if attempts >= settings.outbox_max_attempts:
        values["dead_at"] = now
        log.error(
            "outbox job %s (%s) is DEAD after %d failed attempts",
            job_id,
            job.task,
            attempts,
            exc_info=exc,
        )
    else:
        values["retry_at"] = now + backoff(attempts, settings)
        log.warning(
            "outbox job %s (%s) failed (attempt %d of %d), retried after %s",
            job_id,
            job.task,
            attempts,
            settings.outbox_max_attempts,
            values["retry_at"].isoformat(),
            exc_info=exc,
        )
    # Conditional on the count read: two workers failing one run at once count it once.
    await OutboxJob.filter(id=job_id, attempts=job.attempts, done_at__isnull=True).update(**values)


PENDING, DONE, DEAD = "PENDING", "DONE", "DEAD"


def state_of(job: OutboxJob) -> str:
    """PENDING (maybe waiting for a retry), DONE, or DEAD (gave up)."""
    if job.done_at is not None:
        return DONE
    return DEAD if job.dead_at is not None else PENDING


def jobs_in_state(state: str | None) -> QuerySet[OutboxJob]:
    """The jobs in `state` (every job for None), as a query to page through."""
    rows = OutboxJob.all()
    if state == DEAD:
        return rows.filter(dead_at__isnull=False, done_at__isnull=True)
    if state == DONE:
        return rows.filter(done_at__isnull=False)
    if state == PENDING:
        return rows.filter(dead_at__isnull=True, done_at__isnull=True)
    return rows


@dataclass(frozen=True)
class Backlog:
    """Jobs not done and not dead (waiting for a worker or for their retry)."""

    jobs: int
    oldest_created_at: datetime | None


async def backlog() -> Backlog:
    """The pending jobs: how many, and when the oldest was written (one query)."""
    [row] = (
        await jobs_in_state(PENDING)
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .values("n", "oldest")
    )
    return Backlog(int(row["n"]), row["oldest"])


async def dead_job_count() -> int:
    """How many jobs gave up (the health check reports it)."""
    return await jobs_in_state(DEAD).count()


async def retry_dead_job(access: Access, job_id: int) -> OutboxJob:
    """A super-admin gives a DEAD job a fresh set of attempts; it is handed over after
    commit. Its last error stays visible (a new failure replaces it)."""
    access.require_super_admin()
    job = await OutboxJob.get_or_none(id=job_id)
    if job is None:
        raise not_found(f"no worker job has id {ids.global_id('OutboxJob', job_id)}", "id")
    if job.dead_at is None:
        state = "done" if job.done_at is not None else "still being tried"
        raise DomainError(
            ErrorCode.NOT_DEAD,
            f"job {job_id} is not DEAD ({state}): only a job that gave up can be retried",
            "id",
        )
    retried = await OutboxJob.filter(id=job_id, dead_at__isnull=False).update(
        dead_at=None, attempts=0, retry_at=None, handed_over_at=None
    )
    if not retried:  # another super-admin retried it a moment ago
        raise DomainError(ErrorCode.NOT_DEAD, f"job {job_id} was retried already", "id")
    await record(
        access,
        "outbox.job_retried",
        job_id=job_id,
        task=job.task,
        attempts=job.attempts,
        last_error=job.last_error,
    )
    await job.refresh_from_db()
    after_commit(lambda: _after_commit_hand_over(job))
    return job
