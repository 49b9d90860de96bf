"""Outbox job handlers of notifications (run by Celery tasks or the embedded worker)."""

from __future__ import annotations

from typing import Any

from app.notifications import delivery, reminders
from app.outbox.registry import job, sweep
from app.settings import get_settings


@job(delivery.SEND_JOB)
async def send(payload: dict[str, Any]) -> None:
    """Send the job's PENDING emails after its transaction commits; idempotent (see delivery)."""
    ids = [int(i) for i in payload["notification_ids"]]
    await delivery.prepare(ids, get_settings())


@sweep("notifications.remind")
async def remind() -> int:
    """Reminders to approvers who have not decided, once per remindAfter (see reminders)."""
    return await reminders.remind_due()
