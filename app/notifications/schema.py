"""GraphQL queries of notifications: super-admins watch the emails Hoist sends."""

from __future__ import annotations

import strawberry

from app.graphql.context import Info
from app.graphql.errors import UNSET, unset_to_none
from app.graphql.pagination import Connection, paginate
from app.notifications import models
from app.notifications.types import Notification, NotificationState


@strawberry.type
class Query:
    @strawberry.field(description="Emails about promotion requests, newest first "
                      "(super-admins only).")
    async def notifications(
        self, info: Info, state: NotificationState | None = UNSET,  # type: ignore[valid-type]
        first: int | None = 20, after: str | None = UNSET,
    ) -> Connection[Notification]:
        (await info.context.access()).require_super_admin()
        rows = models.Notification.all()
        if (wanted := unset_to_none(state)) is not None:
            rows = rows.filter(state=wanted)
        return await paginate(rows, first, unset_to_none(after), Notification.of)
