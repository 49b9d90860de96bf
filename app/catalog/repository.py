"""Queries of the catalog."""

from __future__ import annotations

from collections.abc import Sequence

from app import ids
from app.accounts.access import Access
from app.catalog.models import (
    Application,
    CdPipeline,
    Environment,
    Image,
    Stage,
    StageRun,
    StageStatus,
    Workflow,
)
from app.db import column
from app.errors import not_found


async def environments_with_pipeline(application_id: int, names: list[str]) -> list[str]:
    """Which of `names` already hold a CD pipeline of the application."""
    return await column(
        CdPipeline.filter(application_id=application_id, environment__name__in=names).values_list(
            "environment__name", flat=True
        ),
        str,
    )


async def pipeline_in_workflow(workflow_id: int, environment: str) -> CdPipeline | None:
    return await CdPipeline.get_or_none(workflow_id=workflow_id, environment__name=environment)


async def pipelines_of_workflow(workflow_id: int) -> list[CdPipeline]:
    """The workflow's CD pipelines in tree order (parents first), with their environments."""
    return (
        await CdPipeline.filter(workflow_id=workflow_id)
        .select_related("environment")
        .order_by("position")
    )


async def latest_stage_statuses(image_id: int, environment_id: int) -> dict[Stage, StageStatus]:
    """The status of the newest run of each stage of the image in the environment."""
    runs = await StageRun.filter(image_id=image_id, environment_id=environment_id).order_by("id")
    return {run.stage: run.status for run in runs}


async def stage_runs_of_image(
    image_id: int, environment_ids: Sequence[int]
) -> list[tuple[int, str, str]]:
    """(environment id, stage, status) of every run of the image in these environments,
    in the order they were reported."""
    rows = (
        await StageRun.filter(image_id=image_id, environment_id__in=list(environment_ids))
        .order_by("id")
        .values_list("environment_id", "stage", "status")
    )
    return [(environment_id, stage, status) for environment_id, stage, status in rows]


async def get_visible_image(access: Access, image_id: int, field: str = "imageId") -> Image:
    """The image with the id, when the caller may see it; else NOT_FOUND."""
    image = await Image.get_or_none(id=image_id).select_related("application")
    if image is None or not access.can_view(image.application.name):
        raise not_found(f"no image with id {ids.global_id('Image', image_id)}", field)
    return image


async def applications_by_name(names: set[str] | None) -> list[Application]:
    """The applications with these names (every one for None), by name."""
    rows = Application.all().order_by("name")
    if names is not None:
        rows = rows.filter(name__in=sorted(names))
    return await rows


async def application_named(name: str) -> Application | None:
    return await Application.get_or_none(name=name)


async def environment_named(name: str) -> Environment | None:
    return await Environment.get_or_none(name=name)


async def environments_by_name() -> list[Environment]:
    """Every environment, by name."""
    return await Environment.all().order_by("name")


async def applications_by_ids(ids: Sequence[int]) -> list[Application]:
    return await Application.filter(id__in=list(ids))


async def environments_by_ids(ids: Sequence[int]) -> list[Environment]:
    return await Environment.filter(id__in=list(ids))


async def workflows_by_ids(ids: Sequence[int]) -> list[Workflow]:
    return await Workflow.filter(id__in=list(ids))


async def pipelines_by_ids(ids: Sequence[int]) -> list[CdPipeline]:
    return await CdPipeline.filter(id__in=list(ids))


async def images_by_ids(ids: Sequence[int]) -> list[Image]:
    return await Image.filter(id__in=list(ids))


async def workflows_of_applications(application_ids: Sequence[int]) -> list[Workflow]:
    """The applications' workflows, oldest first."""
    return await Workflow.filter(application_id__in=list(application_ids)).order_by("id")


async def pipelines_of_workflows(workflow_ids: Sequence[int]) -> list[CdPipeline]:
    """The workflows' CD pipelines in tree order (parents first)."""
    return await CdPipeline.filter(workflow_id__in=list(workflow_ids)).order_by("position")


async def stage_runs_by_ids(ids: Sequence[int]) -> list[StageRun]:
    return await StageRun.filter(id__in=list(ids))
