"""Queries of the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from app.audit.models import AuditEvent


def events_matching(
    application: str | None, actor_email: str | None, action: str | None, action_is_prefix: bool
) -> QuerySet[AuditEvent]:
    """Audit events of the application, by the actor, with the action (or, when
    `action_is_prefix`, an action starting with it); None matches any."""
    rows = AuditEvent.all()
    if application is not None:
        rows = rows.filter(application=application)
    if actor_email is not None:
        rows = rows.filter(actor__email=actor_email)
    if action is not None:
        rows = (
            rows.filter(action__startswith=action)
            if action_is_prefix
            else rows.filter(action=action)
        )
    return rows


async def events_by_ids(ids: Sequence[int]) -> list[AuditEvent]:
    return await AuditEvent.filter(id__in=list(ids))
