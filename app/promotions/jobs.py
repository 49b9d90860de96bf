"""Outbox job handlers of promotions (run by Celery tasks or the embedded worker)."""

from __future__ import annotations

from typing import Any

from app.outbox.registry import job, sweep
from app.promotions import expiry, release, service
from app.promotions.transitions import PROMOTE_JOB


@job(PROMOTE_JOB)
async def promote(payload: dict[str, Any]) -> None:
    """SPEC §4's promote job; idempotent."""
    await service.complete_promotion(int(payload["request_id"]))


@sweep("promotions.expire")
async def expire() -> int:
    """Requests that ran out of time while awaiting approval turn EXPIRED."""
    return await expiry.expire_due()


@sweep("promotions.release_queued")
async def release_queued() -> int:
    """Queued requests whose promotion window opened are promoted, oldest first."""
    return await release.release_due()
