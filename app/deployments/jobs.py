"""Outbox job handlers of deployments (run by Celery tasks or the embedded worker)."""

from __future__ import annotations

from typing import Any

from app.deployments import executor
from app.deployments.service import EXECUTE_JOB
from app.outbox.registry import job


@job(EXECUTE_JOB)
async def execute(payload: dict[str, Any]) -> None:
    """Hand a deployment to the configured executor; idempotent."""
    await executor.execute(int(payload["deployment_id"]))
