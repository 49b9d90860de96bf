"""Queries of notification emails."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from app.notifications.models import Notification, NotificationState


def notifications_in_state(state: NotificationState | None) -> QuerySet[Notification]:
    """The emails in the state (None: in any)."""
    rows = Notification.all()
    return rows if state is None else rows.filter(state=state)


async def notifications_by_ids(ids: Sequence[int]) -> list[Notification]:
    return await Notification.filter(id__in=list(ids))
