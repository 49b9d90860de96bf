"""Writing the audit log; every service that changes state calls `record` in its transaction."""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet

from app import live
from app.accounts.access import Access
from app.audit import repository
from app.audit.models import AuditEvent


async def record(
    access: Access,
    action: str,
    *,
    application: str | None = None,
    environment: str | None = None,
    **data: Any,
) -> None:
    """Write one audit event for `action` by the caller (None for the system); a caller
    who came another way than the API (an email link) has it in the data's `via`. Live
    subscribers hear of it once the transaction has committed (app/live.py)."""
    if access.via is not None:
        data = {**data, "via": access.via}
    event = await AuditEvent.create(
        actor_id=access.user_id,
        action=action,
        application=application,
        environment=environment,
        data=data,
    )
    live.publish_after_commit(event.id, action, application, environment, data)


def audit_log(
    access: Access, application: str | None, actor: str | None, action: str | None
) -> QuerySet[AuditEvent]:
    """The audit events matching (super-admins): `actor` an email, `action` exact or,
    ending in '.', a prefix; both ignore case (None: any)."""
    access.require_super_admin()
    # Actions are lowercase; SQLite's LIKE (the prefix match) ignores case and Postgres'
    # does not, so the filter is lowercased to answer alike on both.
    action = None if action is None else action.lower()
    return repository.events_matching(
        application,
        None if actor is None else actor.strip().lower(),
        action,
        action_is_prefix=action is not None and action.endswith("."),
    )
