"""Notifications hears request status changes: the emails of the new status are written."""

from __future__ import annotations

from app.events import RequestStatusChanged, listener
from app.notifications.service import request_status_changed
from app.promotions.models import PromotionStatus


@listener(RequestStatusChanged)
async def status_changed(event: RequestStatusChanged) -> None:
    await request_status_changed(event.request_id, PromotionStatus(event.status))
