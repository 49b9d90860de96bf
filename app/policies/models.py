"""Promotion policies and the (application, environment) pairs they apply to (SPEC §3)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.catalog.models import Application, Environment


class Enforcement(StrEnum):
    """What a policy's failing conditions do (issue 20): block the promotion, or let it
    through with the failed clauses recorded as warnings (to roll out a new rule)."""

    ENFORCE = "ENFORCE"
    WARN = "WARN"


class PromotionPolicy(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    description = fields.CharField(max_length=300, null=True)
    pass_condition = fields.TextField(null=True)
    fail_condition = fields.TextField(null=True)
    approver_count = fields.IntField(default=0)
    allow_request_from_approve = fields.BooleanField(default=False)
    allow_image_builder_from_approve = fields.BooleanField(default=False)
    allow_approver_from_deploy = fields.BooleanField(default=False)
    # A request's life (issue 16), durations in whole seconds; NULL: no limit / none.
    # requestTimeout: an AWAITING_APPROVAL request turns EXPIRED this long after creation.
    request_timeout_seconds = fields.IntField(null=True)
    # approvalMaxAge: an approval older than this no longer counts towards the quorum.
    approval_max_age_seconds = fields.IntField(null=True)
    # remindAfter: approvers who have not decided are reminded once per period...
    remind_after_seconds = fields.IntField(null=True)
    # ...at most this many times.
    max_reminders = fields.IntField(default=2, db_default=2)
    # Extra approvals a break-glass promotion through a closed window needs.
    break_glass_approver_count = fields.IntField(default=1, db_default=1)
    enforcement = fields.CharEnumField(
        Enforcement, max_length=16, default=Enforcement.ENFORCE, db_default="ENFORCE"
    )
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "promotion_policies"


class PolicyBinding(Model):
    """The policy of one (application, environment) pair, at most one per pair."""

    id = fields.IntField(primary_key=True)
    policy: fields.ForeignKeyRelation[PromotionPolicy] = fields.ForeignKeyField(
        "hoist.PromotionPolicy", related_name="bindings", on_delete=fields.CASCADE
    )
    policy_id: int
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="policy_bindings", on_delete=fields.CASCADE
    )
    application_id: int
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="policy_bindings", on_delete=fields.CASCADE
    )
    environment_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "policy_bindings"
        unique_together = (("application", "environment"),)
