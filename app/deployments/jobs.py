"""Outbox job handlers of deployments (run by Celery tasks or the embedded worker)."""

from __future__ import annotations

from typing import Any

from app.deployments import executor, service
from app.deployments.service import EXECUTE_JOB
from app.outbox.registry import job, sweep


@job(EXECUTE_JOB)
async def execute(payload: dict[str, Any]) -> None:
    """Hand a deployment to the configured executor; idempotent."""
    await executor.execute(int(payload["deployment_id"]))


@sweep("deployments.after_window")
async def after_window() -> int:
    """AUTOMATIC deployments after promotion that waited for a promotion window to open."""
    return await service.deploy_after_window()
