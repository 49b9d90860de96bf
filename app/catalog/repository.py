"""Queries of the catalog."""

from __future__ import annotations

from app.accounts.access import Access
from app.catalog.models import CdPipeline, Image, Stage, StageRun, StageStatus
from app.errors import not_found


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


async def get_visible_image(access: Access, image_id: int, field: str = "imageId") -> Image:
    """The image with the id, when the caller may see it; else NOT_FOUND."""
    image = await Image.get_or_none(id=image_id).select_related("application")
    if image is None or not access.can_view(image.application.name):
        raise not_found(f"no image with id {image_id}", field)
    return image
