"""Applications, environments, workflows with their CD pipelines, images, stage runs (SPEC §1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from app.catalog.kinds import Stage, StageStatus, Trigger

if TYPE_CHECKING:
    from app.accounts.models import User

__all__ = ["Stage", "StageStatus", "Trigger"]  # re-exported: migrations import them here


class Application(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "applications"


class Environment(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    production = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "environments"


class Workflow(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="workflows", on_delete=fields.CASCADE
    )
    application_id: int
    name = fields.CharField(max_length=50)
    ci_pipeline = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflows"
        unique_together = (("application", "name"),)


class CdPipeline(Model):
    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "hoist.Workflow", related_name="cd_pipelines", on_delete=fields.CASCADE
    )
    workflow_id: int
    # Denormalised from the workflow so the database enforces one pipeline per app+env.
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="cd_pipelines", on_delete=fields.CASCADE
    )
    application_id: int
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="cd_pipelines", on_delete=fields.RESTRICT
    )
    environment_id: int
    parent: fields.ForeignKeyNullableRelation[CdPipeline] = fields.ForeignKeyField(
        "hoist.CdPipeline", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    # Tree order within the workflow: a parent always comes before its children.
    position = fields.IntField(default=0)
    pre_stage = fields.BooleanField(default=False)
    post_stage = fields.BooleanField(default=False)
    trigger = fields.CharEnumField(Trigger, max_length=16, default=Trigger.MANUAL)
    deployment_approval_count = fields.IntField(default=0)
    filter_pass_condition = fields.TextField(null=True)
    filter_fail_condition = fields.TextField(null=True)
    # Where the `git` executor commits each deployment (app/catalog/git_target.py); null:
    # the installation's executor (HOIST_DEPLOY_EXECUTOR).
    git_target: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "cd_pipelines"
        unique_together = (("application", "environment"),)


class Image(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "hoist.Application", related_name="images", on_delete=fields.CASCADE
    )
    application_id: int
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "hoist.Workflow", related_name="images", on_delete=fields.CASCADE
    )
    workflow_id: int
    image = fields.CharField(max_length=500)
    digest = fields.CharField(max_length=100, null=True)
    labels: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    git_commits: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    # The newest `committedAt` of its git commits (null: none given), kept beside the list
    # so delivery insights (app/insights) measure lead time in SQL on either database.
    newest_commit_at = fields.DatetimeField(null=True)
    built_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="built_images", null=True, on_delete=fields.SET_NULL
    )
    built_by_id: int | None
    # Who called registerImage (null: Hoist itself, or an image older than this column),
    # and whether that caller was a CI identity then: the registrant of a non-CI
    # registration counts as a builder too (app/catalog/builders.py).
    registered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="registered_images", null=True, on_delete=fields.SET_NULL
    )
    registered_by_id: int | None
    registered_by_ci = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "images"
        indexes = (("workflow_id", "id"),)


class StageRun(Model):
    """One report of one stage. The latest report per (image, environment, stage) counts."""

    id = fields.IntField(primary_key=True)
    image: fields.ForeignKeyRelation[Image] = fields.ForeignKeyField(
        "hoist.Image", related_name="stage_runs", on_delete=fields.CASCADE
    )
    image_id: int
    environment: fields.ForeignKeyRelation[Environment] = fields.ForeignKeyField(
        "hoist.Environment", related_name="stage_runs", on_delete=fields.CASCADE
    )
    environment_id: int
    stage = fields.CharEnumField(Stage, max_length=8)
    status = fields.CharEnumField(StageStatus, max_length=16)
    reported_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hoist.User", related_name="stage_reports", null=True, on_delete=fields.SET_NULL
    )
    reported_by_id: int | None
    # The deployment whose progress this run reports, when one was under way. Typed as any
    # model: the catalog comes before deployments in the dependency order, so it does not
    # import their module, even for types.
    deployment: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "hoist.Deployment", related_name="stage_runs", null=True, on_delete=fields.SET_NULL
    )
    deployment_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stage_runs"
        indexes = (
            ("image_id", "environment_id", "stage"),
            # Delivery insights: when a deployment's last stage run came (it started running).
            ("deployment_id", "created_at"),
        )
