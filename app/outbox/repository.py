"""Queries of the outbox's jobs (for the operations' views), and the claim a runner takes
on one; app/outbox/service.py writes them."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise import connections

from app.outbox.models import OutboxJob

# The first key of the outbox's advisory locks (two-int form), so that no other use of
# Postgres advisory locks in the same database collides with a job's: "Hois" in ASCII.
_JOB_LOCKS = 0x486F6973


async def jobs_by_ids(ids: Sequence[int]) -> list[OutboxJob]:
    return await OutboxJob.filter(id__in=list(ids))


async def claim(job_id: int) -> bool:
    """Take job `job_id` for the current transaction; False when another transaction (in
    any process on this database) holds it.

    A Postgres advisory lock, released by the commit or rollback: two runners of one job
    (two server processes' embedded workers, two Celery deliveries) never run its handler
    side by side, and the one that gets it after the other committed finds the job done.
    It locks no row, so recording a hand-over of the job meanwhile never waits for the
    handler. SQLite needs none: it has one writing process, whose transactions run one
    at a time.
    """
    conn = connections.get("default")  # the transaction's, inside a unit of work
    if conn.capabilities.dialect != "postgres":
        return True
    _, rows = await conn.execute_query(
        "SELECT pg_try_advisory_xact_lock($1, $2)", [_JOB_LOCKS, job_id]
    )
    return bool(rows[0][0])
