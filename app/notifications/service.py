"""Email notifications about promotion requests (SPEC §7)."""

from __future__ import annotations

from app.promotions.models import PromotionStatus


async def request_status_changed(request_id: int, status: PromotionStatus) -> None:
    """Called in the transaction of every request state change (and of its creation)."""
