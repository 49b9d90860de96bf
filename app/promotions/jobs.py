"""Outbox job handlers of promotions (run by Celery tasks or the embedded worker)."""

from __future__ import annotations

from typing import Any

from app.outbox.registry import job
from app.promotions import service
from app.promotions.transitions import PROMOTE_JOB


@job(PROMOTE_JOB)
async def promote(payload: dict[str, Any]) -> None:
    """SPEC §4's promote job; idempotent."""
    await service.complete_promotion(int(payload["request_id"]))
