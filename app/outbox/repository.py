"""Queries of the outbox's jobs (for the operations' views; app/outbox/service.py writes them)."""

from __future__ import annotations

from collections.abc import Sequence

from app.outbox.models import OutboxJob


async def jobs_by_ids(ids: Sequence[int]) -> list[OutboxJob]:
    return await OutboxJob.filter(id__in=list(ids))
