"""Queries of the catalog."""

from __future__ import annotations

from app.catalog.models import CdPipeline, Stage, StageRun, StageStatus


async def environments_with_pipeline(application_id: int, names: list[str]) -> list[str]:
    """Which of `names` already hold a CD pipeline of the application."""
    return await CdPipeline.filter(
        application_id=application_id, environment__name__in=names
    ).values_list("environment__name", flat=True)


async def pipeline_in_workflow(workflow_id: int, environment: str) -> CdPipeline | None:
    return await CdPipeline.get_or_none(workflow_id=workflow_id, environment__name=environment)


async def pipelines_of_workflow(workflow_id: int) -> list[CdPipeline]:
    """The workflow's CD pipelines in tree order (parents first)."""
    return await CdPipeline.filter(workflow_id=workflow_id).order_by("position")


async def latest_stage_statuses(image_id: int, environment_id: int) -> dict[Stage, StageStatus]:
    """The status of the newest run of each stage of the image in the environment."""
    runs = await StageRun.filter(image_id=image_id, environment_id=environment_id).order_by("id")
    return {run.stage: run.status for run in runs}
