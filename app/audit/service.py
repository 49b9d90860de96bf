"""Writing the audit log; every service that changes state calls `record` in its transaction."""

from __future__ import annotations

from typing import Any

from app.accounts.access import Access
from app.audit.models import AuditEvent


async def record(
    access: Access,
    action: str,
    *,
    application: str | None = None,
    environment: str | None = None,
    **data: Any,
) -> None:
    """Write one audit event for `action` by the caller (None for the system)."""
    await AuditEvent.create(
        actor_id=access.user_id,
        action=action,
        application=application,
        environment=environment,
        data=data,
    )
