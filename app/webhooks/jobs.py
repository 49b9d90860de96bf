"""The webhooks' periodic sweeps (run by Celery beat's `outbox.sweep` or the embedded
worker): hand new audit events on to deliveries, then try the deliveries that are due."""

from __future__ import annotations

from app.outbox.registry import sweep
from app.webhooks import delivery, fanout


@sweep("webhooks.fan_out")
async def fan_out() -> int:
    """Deliveries for the audit events not yet handed on (see fanout); the new ones are
    tried at once, after their commit."""
    return await fanout.fan_out()


@sweep("webhooks.deliver")
async def deliver() -> int:
    """Retries that have come due, and tries a stopped worker left unfinished."""
    return await delivery.deliver_due()
