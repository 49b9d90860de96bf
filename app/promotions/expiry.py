"""The expiry sweep: requests still awaiting approval past their deadline turn EXPIRED."""

from __future__ import annotations

from app import clock
from app.accounts.access import SYSTEM
from app.outbox.registry import each_due
from app.promotions import transitions
from app.promotions.models import PromotionRequest, PromotionStatus


async def expire_due() -> int:
    """AWAITING_APPROVAL → EXPIRED for every request past its expires_at; how many moved.

    Each move is its own transaction and conditional on the status (transitions.move), so
    a sweep running in two processes at once expires each request once: the loser's
    UPDATE changes nothing and publishes nothing, so there is one email and one audit
    record per request. The requester's email is written by the notifications listener
    inside the same transaction.
    """
    due = PromotionRequest.filter(
        status=PromotionStatus.AWAITING_APPROVAL, expires_at__lte=clock.now()
    ).order_by("expires_at", "id")

    async def expire(request_id: int) -> int:
        return await transitions.move(
            SYSTEM, request_id, PromotionStatus.AWAITING_APPROVAL, PromotionStatus.EXPIRED
        )

    return await each_due(due, expire)
