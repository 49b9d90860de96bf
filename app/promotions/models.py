"""Promotion requests and the approvals and rejections given on them (SPEC §4, §5)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.catalog.models import Application, Environment, Image, Workflow
    from app.policies.models import PromotionPolicy


class PromotionStatus(StrEnum):
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    PROMOTING = "PROMOTING"
    PROMOTED = "PROMOTED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    STALE = "STALE"
    # Approved (or needing no approval) while the pair's promotion window is closed: it is
    # promoted, in request order, once the window opens.
    QUEUED = "QUEUED"
    # Still awaiting approval when its policy's requestTimeout ran out.
    EXPIRED = "EXPIRED"


OPEN_STATUSES = (
    PromotionStatus.AWAITING_APPROVAL,
    PromotionStatus.QUEUED,
    PromotionStatus.PROMOTING,
    PromotionStatus.PROMOTED,
)
# Leaving for these states frees the (image, target) pair for a new request.
CLOSED_STATUSES = (
    PromotionStatus.CANCELLED,
    PromotionStatus.REJECTED,
    PromotionStatus.STALE,
    PromotionStatus.EXPIRED,
)


class SourceType(StrEnum):
    CI = "CI"
    ENVIRONMENT = "ENVIRONMENT"


class DecisionKind(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class PromotionRequest(Model):
    id = fields.IntField(primary_key=True)
    image: fields.ForeignKeyRelation[Image] = fields.ForeignKeyField(
        "hoist.Image", related_name="promotion_requests", on_delete=fields.CASCADE
    )
    image_id: int
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="promotion_requests", on_delete=fields.CASCADE
    )
    application_id: int
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "hoist.Workflow", related_name="promotion_requests", on_delete=fields.CASCADE
    )
    workflow_id: int
    source_type = fields.CharEnumField(SourceType, max_length=16)
    source_environment: fields.ForeignKeyNullableRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment",
        related_name="promotions_from",
        null=True,
        on_delete=fields.RESTRICT,
    )
    source_environment_id: int | None
    target_environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="promotions_to", on_delete=fields.RESTRICT
    )
    target_environment_id: int
    status = fields.CharEnumField(PromotionStatus, max_length=32)
    # "<image id>:<target environment id>" while the request is open, else NULL: the
    # unique index on it is how the database keeps one open request per (image, target)
    # on both Postgres and SQLite, whatever the concurrency.
    open_key = fields.CharField(max_length=64, null=True, unique=True)
    requested_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="promotion_requests", on_delete=fields.RESTRICT
    )
    requested_by_id: int
    comment = fields.TextField(null=True)
    # The policy may be deleted later; the request keeps its name and version.
    policy: fields.ForeignKeyNullableRelation[PromotionPolicy] = fields.ForeignKeyField(
        "hoist.PromotionPolicy",
        related_name="requests",
        null=True,
        on_delete=fields.SET_NULL,
    )
    policy_id: int | None
    policy_name = fields.CharField(max_length=50)
    policy_version = fields.IntField()
    required_approvals = fields.IntField()
    evaluation: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    # A WARN policy's failed clauses the request went ahead with (issue 20): each a dict
    # of app.cel.ClauseResult's fields. NULL (requests older than the column) or empty: none.
    warnings: fields.JSONField[list[dict[str, Any]] | None] = fields.JSONField(null=True)
    stale_reason = fields.TextField(null=True)
    # Why the AUTOMATIC deployment after promotion was not made (filter, approvals).
    auto_deploy_blocked_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    promoted_at = fields.DatetimeField(null=True)
    # When an AWAITING_APPROVAL request turns EXPIRED (its policy's requestTimeout from
    # creation); NULL: never. Set once, at creation, so a later policy change moves no
    # deadline an approver was told about.
    expires_at = fields.DatetimeField(null=True)
    # Reminders to approvers who have not decided (the policy's remindAfter, maxReminders):
    # how many went out, and when the next is due (NULL: no more). Set at creation, like
    # expires_at; the reminder sweep moves them on with a conditional UPDATE.
    reminders_sent = fields.IntField(default=0, db_default=0)
    next_reminder_at = fields.DatetimeField(null=True)
    # Break glass (issue 16): the requester's reason for promoting through a closed
    # promotion window; NULL: an ordinary request. Such a request needs the policy's
    # breakGlassApproverCount approvals on top of its approverCount.
    break_glass_reason = fields.TextField(null=True)
    # Set by deployments when the AUTOMATIC deployment after promotion found the pair's
    # promotion window closed: the deployments sweep makes it once the window opens.
    auto_deploy_waiting = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "promotion_requests"
        indexes = (
            ("status", "target_environment_id"),
            ("application_id", "status"),
            # The expiry sweep: the awaiting requests whose deadline has come.
            ("status", "expires_at"),
            ("status", "next_reminder_at"),
            # Delivery insights (app/insights): an application's requests in a time range,
            # covering what the figures read of them (no table row is fetched).
            (
                "application_id",
                "created_at",
                "target_environment_id",
                "status",
                "source_environment_id",
                "required_approvals",
            ),
        )


class PromotionDecision(Model):
    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[PromotionRequest] = fields.ForeignKeyField(
        "hoist.PromotionRequest", related_name="decisions", on_delete=fields.CASCADE
    )
    request_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="promotion_decisions", on_delete=fields.RESTRICT
    )
    user_id: int
    kind = fields.CharEnumField(DecisionKind, max_length=16)
    comment = fields.TextField(null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "promotion_decisions"
        # One approval per user per request, enforced by the database.
        unique_together = (("request", "user", "kind"),)
        # pendingApprovals' "not yet approved by me" subquery reads one user's approvals; the
        # unique index above leads with the request and can't serve it (bench/promotion/).
        indexes = (
            ("user_id", "kind", "request_id"),
            # Delivery insights: when a request's last approval came.
            ("request_id", "kind", "at"),
        )
