"""Deployments of images to environments and the deployment approvals they need (SPEC §6)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DeploymentStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


ACTIVE_STATUSES = (DeploymentStatus.QUEUED, DeploymentStatus.RUNNING)


class Deployment(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "hoist.Application", related_name="deployments", on_delete=fields.CASCADE
    )
    environment: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "hoist.Environment", related_name="deployments", on_delete=fields.RESTRICT
    )
    image: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "hoist.Image", related_name="deployments", on_delete=fields.CASCADE
    )
    # Null: Hoist itself deployed it (an AUTOMATIC trigger).
    deployed_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "hoist.User", related_name="deployments", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(DeploymentStatus, max_length=16,
                                  default=DeploymentStatus.QUEUED)
    # Provenance: the promotion that brought the image here, when it came by promotion.
    promotion_request: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "hoist.PromotionRequest", related_name="deployments", null=True,
        on_delete=fields.SET_NULL,
    )
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "deployments"
        indexes = (("application_id", "environment_id", "id"), ("image_id", "environment_id"))


class DeploymentApproval(Model):
    """One user's Image Deployment Approval of an image for an environment."""

    id = fields.IntField(primary_key=True)
    image: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "hoist.Image", related_name="deployment_approvals", on_delete=fields.CASCADE
    )
    environment: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "hoist.Environment", related_name="deployment_approvals", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "hoist.User", related_name="deployment_approvals", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "deployment_approvals"
        unique_together = (("image", "environment", "user"),)
