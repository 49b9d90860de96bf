"""GraphQL queries of notifications: super-admins watch the emails Hoist sends."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app import limits
from app.errors import validation
from app.graphql.context import Info
from app.graphql.errors import UNSET, mutate, parse_id, unset_to_none
from app.graphql.pagination import After, Connection, First, paginate
from app.notifications import resend, service
from app.notifications.types import Notification, NotificationState, ResendNotificationsPayload


@strawberry.type
class Query:
    @strawberry.field(
        description="Emails about promotion requests, newest first (super-admins only)."
    )
    async def notifications(
        self,
        info: Info,
        state: Annotated[
            NotificationState | None,
            strawberry.argument(description="Only emails in this state; left out: all."),
        ] = UNSET,
        first: First = 20,
        after: After = UNSET,
    ) -> Connection[Notification]:
        rows = service.list_notifications(await info.context.access(), unset_to_none(state))
        return await paginate(rows, first, unset_to_none(after), Notification.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Send FAILED or UNKNOWN emails again, with a fresh set "
        "of attempts (super-admins only; 1-100 ids, all or nothing). An "
        "UNKNOWN one may then reach its recipient twice."
    )
    async def resend_notifications(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="The emails to send again, FAILED or UNKNOWN ones. "
                + limits.list_note(resend.MAX_RESEND)
            ),
        ],
    ) -> ResendNotificationsPayload | None:
        access = await info.context.access()

        async def run() -> ResendNotificationsPayload:
            if len(ids) > resend.MAX_RESEND:  # before parsing thousands of ids
                raise validation(
                    f"ids must list 1 to {resend.MAX_RESEND} notifications (got {len(ids)})", "ids"
                )
            rows = await resend.resend(
                access, [parse_id(i, f"ids.{n}", "Notification") for n, i in enumerate(ids)]
            )
            return ResendNotificationsPayload(notifications=[Notification.of(r) for r in rows])

        return await mutate(run, lambda errors: ResendNotificationsPayload(errors=errors))
