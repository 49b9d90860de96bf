"""Notifications hears request status changes and rollbacks: the emails they send are written."""

from __future__ import annotations

from app.events import DeploymentRolledBack, RequestStatusChanged, listener
from app.notifications import rollbacks
from app.notifications.service import request_status_changed
from app.promotions.models import PromotionStatus


@listener(RequestStatusChanged)
async def status_changed(event: RequestStatusChanged) -> None:
    await request_status_changed(event.request_id, PromotionStatus(event.status))


@listener(DeploymentRolledBack)
async def rolled_back(event: DeploymentRolledBack) -> None:
    await rollbacks.deployment_rolled_back(event)
