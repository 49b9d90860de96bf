"""Queries of notification emails."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from app.notifications.models import Notification, NotificationState


def notifications_in_state(state: NotificationState | None) -> QuerySet[Notification]:
    """The emails in the state (None: in any)."""
    rows = Notification.all()
    return rows if state is None else rows.filter(state=state)
