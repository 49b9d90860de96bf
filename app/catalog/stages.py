"""Stages of CD pipelines and whether an image passed them (SPEC §1, stage runs)."""

from __future__ import annotations

from app.catalog import repository
from app.catalog.models import CdPipeline, Stage, StageStatus


def configured_stages(pipeline: CdPipeline) -> list[Stage]:
    """PRE (if configured), DEPLOY, POST (if configured), in the order they run."""
    stages = [Stage.DEPLOY]
    if pipeline.pre_stage:
        stages.insert(0, Stage.PRE)
    if pipeline.post_stage:
        stages.append(Stage.POST)
    return stages


async def passed_all_stages(image_id: int, pipeline: CdPipeline) -> bool:
    """True when the latest run of every stage the pipeline has configured succeeded."""
    latest = await repository.latest_stage_statuses(image_id, pipeline.environment_id)
    stages = configured_stages(pipeline)
    return all(latest.get(stage) == StageStatus.SUCCEEDED for stage in stages)
