"""Deployments of images to environments and the deployment approvals they need (SPEC §6)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.catalog.models import Application, Environment, Image
    from app.promotions.models import PromotionRequest


class DeploymentStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


ACTIVE_STATUSES = (DeploymentStatus.QUEUED, DeploymentStatus.RUNNING)


class Deployment(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="deployments", on_delete=fields.CASCADE
    )
    application_id: int
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="deployments", on_delete=fields.RESTRICT
    )
    environment_id: int
    image: fields.ForeignKeyRelation[Image] = fields.ForeignKeyField(
        "hoist.Image", related_name="deployments", on_delete=fields.CASCADE
    )
    image_id: int
    # Null: Hoist itself deployed it (an AUTOMATIC trigger).
    deployed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="deployments", null=True, on_delete=fields.SET_NULL
    )
    deployed_by_id: int | None
    status = fields.CharEnumField(DeploymentStatus, max_length=16, default=DeploymentStatus.QUEUED)
    # Provenance: the promotion that brought the image here, when it came by promotion.
    promotion_request: fields.ForeignKeyNullableRelation[PromotionRequest] = fields.ForeignKeyField(
        "hoist.PromotionRequest",
        related_name="deployments",
        null=True,
        on_delete=fields.SET_NULL,
    )
    promotion_request_id: int | None
    error = fields.TextField(null=True)
    # A rollback (rollbackDeployment): the deployment it replaced, whose image was in the
    # environment then; the image it brings back is its own `image`.
    rollback_of: fields.ForeignKeyNullableRelation[Deployment] = fields.ForeignKeyField(
        "hoist.Deployment", related_name="rollbacks", null=True, on_delete=fields.SET_NULL
    )
    rollback_of_id: int | None
    # The `git` executor's commit: its SHA, and the repository as the target named it
    # then (the pipeline's target may change later). Both null for other executors.
    commit_sha = fields.CharField(max_length=64, null=True)
    commit_repository = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "deployments"
        indexes = (
            ("application_id", "environment_id", "id"),
            ("image_id", "environment_id"),
            # Delivery insights (app/insights): an application's deployments in a time
            # range, covering what the figures read of them (no table row is fetched),
            # and whether a rollback points at one.
            (
                "application_id",
                "created_at",
                "environment_id",
                "status",
                "image_id",
                "rollback_of_id",
            ),
            ("rollback_of_id",),
        )


class DeploymentApproval(Model):
    """One user's Image Deployment Approval of an image for an environment."""

    id = fields.IntField(primary_key=True)
    image: fields.ForeignKeyRelation[Image] = fields.ForeignKeyField(
        "hoist.Image", related_name="deployment_approvals", on_delete=fields.CASCADE
    )
    image_id: int
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="deployment_approvals", on_delete=fields.CASCADE
    )
    environment_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="deployment_approvals", on_delete=fields.CASCADE
    )
    user_id: int
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "deployment_approvals"
        unique_together = (("image", "environment", "user"),)
