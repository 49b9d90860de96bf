"""GraphQL types of notification emails."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.errors import UserError, error_list
from app.graphql.nodes import super_admins, visible_nodes
from app.notifications import models, repository
from app.promotions.types import PromotionRequest, promotion_request_by_id

# strawberry.enum registers the GraphQL enum on the class itself (and returns it).
NotificationState = models.NotificationState
strawberry.enum(NotificationState, description="Whether an email went out.")
describe_values(
    NotificationState,
    {
        NotificationState.PENDING: "Not sent yet, or waiting for a retry however long the "
        "mail service is unreachable; nextAttemptAt says when it is tried next.",
        NotificationState.SENT: "The mail service accepted it.",
        NotificationState.FAILED: "Refused for good, or out of attempts (error says why): "
        "fix the cause, then send it again with resendNotifications.",
        NotificationState.UNKNOWN: "In doubt: the worker sending it stopped mid-send, so it "
        "may or may not have been delivered, and it is not sent again by itself. Resend it "
        "(resendNotifications) if the recipient did not get it.",
    },
)


@strawberry.type(description="One email Hoist sends about a promotion request, and its fate.")
class Notification(relay.Node):
    id: relay.NodeID[int]
    event: str = strawberry.field(
        description="APPROVAL_REQUESTED or REMINDER (to approvers), PROMOTED, REJECTED, "
        "STALE or EXPIRED (to the requester)."
    )
    recipient: str = strawberry.field(description="The email address it goes to.")
    subject: str = strawberry.field(description="The email's subject line.")
    state: NotificationState = strawberry.field(description="Whether it went out.")
    attempts: int = strawberry.field(description="Tries that reached the mail service.")
    unreachable_tries: int = strawberry.field(
        description="Tries that found the mail service unreachable (refused, timeout, DNS); "
        "they use no attempt."
    )
    error: str | None = strawberry.field(description="Why the last try failed.")
    created_at: datetime = strawberry.field(
        description="When it was written: when the event happened."
    )
    sent_at: datetime | None = strawberry.field(
        description="When the mail service accepted it; null until SENT."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When a PENDING email is tried next (null once SENT or FAILED)."
    )
    request_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: models.Notification) -> Notification:
        pending = row.state == models.NotificationState.PENDING
        return cls(
            id=row.id,
            event=row.event.value,
            recipient=row.recipient,
            subject=row.subject,
            state=row.state,
            attempts=row.attempts,
            unreachable_tries=row.unreachable_tries,
            error=row.error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at if pending else None,
            request_id=row.request_id,
        )

    resolve_nodes = visible_nodes(repository.notifications_by_ids, super_admins)

    @strawberry.field(description="The request it is about (null once that is deleted).")
    async def request(self, info: Info) -> PromotionRequest | None:
        if self.request_id is None:
            return None
        row = await promotion_request_by_id(info).load(self.request_id)
        return PromotionRequest.of(row) if row else None


@strawberry.type(description="The emails sent again, or why none was.")
class ResendNotificationsPayload:
    notifications: list[Notification] = strawberry.field(
        default_factory=list, description="The emails, PENDING again."
    )
    errors: list[UserError] = error_list(
        "Why none was resent (all or nothing): for instance an unknown id (NOT_FOUND) or one "
        "neither FAILED nor UNKNOWN (NOT_RESENDABLE), named by its place in ids.",
        ErrorCode.FORBIDDEN,
        ErrorCode.NOT_FOUND,
        ErrorCode.VALIDATION,
        ErrorCode.NOT_RESENDABLE,
    )
