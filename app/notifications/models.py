"""Emails about promotion requests: one row per (request, recipient, event), its own outbox."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.promotions.models import PromotionRequest


class NotificationEvent(StrEnum):
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    PROMOTED = "PROMOTED"
    REJECTED = "REJECTED"
    STALE = "STALE"
    # Issue 16: a reminder to an approver who has not decided, and the requester's news
    # that the request ran out of time.
    REMINDER = "REMINDER"
    EXPIRED = "EXPIRED"
    # Issue 17: to the super-admins, a webhook endpoint Hoist switched off.
    WEBHOOK_DISABLED = "WEBHOOK_DISABLED"
    # Issue 18: to the requester of the promotion whose image a rollback replaced (one per
    # rollback: `occurrence` is the rollback deployment's id).
    ROLLED_BACK = "ROLLED_BACK"


class NotificationState(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    # The worker sending it stopped mid-send: the server may or may not have taken it.
    UNKNOWN = "UNKNOWN"


class Notification(Model):
    """One email. Rendered when the event happens, so it tells what was true then."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyNullableRelation[PromotionRequest] = fields.ForeignKeyField(
        "hoist.PromotionRequest",
        related_name="notifications",
        null=True,
        on_delete=fields.SET_NULL,
    )
    request_id: int | None
    event = fields.CharEnumField(NotificationEvent, max_length=32)
    recipient = fields.CharField(max_length=254)
    # Which one of an event that can happen more than once (the n-th REMINDER); else 0.
    occurrence = fields.IntField(default=0, db_default=0)
    subject = fields.CharField(max_length=400)
    text_body = fields.TextField()
    html_body = fields.TextField()
    state = fields.CharEnumField(
        NotificationState, max_length=16, default=NotificationState.PENDING
    )
    attempts = fields.IntField(default=0)
    # Tries that never reached the provider (connection refused, timeout, DNS failure):
    # they use no attempt, so an outage of any length loses no email; they space retries.
    unreachable_tries = fields.IntField(default=0, db_default=0)
    error = fields.TextField(null=True)
    # A PENDING email is tried again from this time on (exponential backoff).
    next_attempt_at = fields.DatetimeField()
    # Set by the worker sending it right now (a conditional UPDATE), so no other sends it.
    claimed_by = fields.CharField(max_length=32, null=True)
    claimed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        # At most one email per (request, recipient, event, occurrence), whatever runs twice.
        unique_together = (("request", "recipient", "event", "occurrence"),)
        indexes = (("state", "next_attempt_at"),)


class LinkAction(StrEnum):
    """What an email link decides (app/notifications/links.py)."""

    APPROVE = "approve"
    REJECT = "reject"


class EmailLinkKey(Model):
    """The key that signs email links when HOIST_SECRET_KEY is unset: made at random by the
    first process that needs it, then read by every process, so all of them agree."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    key = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "email_link_keys"


class EmailLinkUse(Model):
    """An email link that was used: written in the transaction of the decision it made, so a
    link works once, and a decision the rules refused leaves no row behind."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[PromotionRequest] = fields.ForeignKeyField(
        "hoist.PromotionRequest", related_name="email_link_uses", on_delete=fields.CASCADE
    )
    request_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="email_link_uses", on_delete=fields.CASCADE
    )
    user_id: int
    action = fields.CharEnumField(LinkAction, max_length=16)
    used_at = fields.DatetimeField()

    class Meta:
        table = "email_link_uses"
        # One use per (request, recipient, action): the approval email's link and a
        # reminder's are the same decision, and only one of them works.
        unique_together = (("request", "user", "action"),)
