"""Stages of CD pipelines and whether an image passed them (SPEC §1, stage runs): the one
home of "passed all stages".

The latest run of each stage counts. An image passed a pipeline's environment when the
latest run of every stage the pipeline has configured succeeded; it failed there when the
latest run of any of them failed. The rule has a pure form over the latest statuses
(`passed` / `failed`, which a deployment's status follows too), a one-image form
(`passed_all_stages`), an SQL form `passed_images` that narrows a query of images (lists:
promotable images, deployable images; the database pages it, so a page costs the same
however many images were built), and a batch form `environments_passed` for one image
across many pipelines (the targets of a promotion); tests/catalog/test_stages.py checks
that the forms agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet

from app.catalog import repository
from app.catalog.models import CdPipeline, Image, Stage, StageStatus

Latest = Mapping[Stage, StageStatus]


def configured_stages(pipeline: CdPipeline) -> list[Stage]:
    """PRE (if configured), DEPLOY, POST (if configured), in the order they run."""
    stages = [Stage.DEPLOY]
    if pipeline.pre_stage:
        stages.insert(0, Stage.PRE)
    if pipeline.post_stage:
        stages.append(Stage.POST)
    return stages


def latest_by_stage(runs: Iterable[tuple[str, str]]) -> dict[Stage, StageStatus]:
    """(stage, status) of runs in the order they were reported: the last of each stage."""
    return {Stage(stage): StageStatus(status) for stage, status in runs}


def passed(latest: Latest, pipeline: CdPipeline) -> bool:
    """The latest run of every configured stage succeeded."""
    return all(latest.get(stage) == StageStatus.SUCCEEDED for stage in configured_stages(pipeline))


def failed(latest: Latest, pipeline: CdPipeline) -> bool:
    """The latest run of some configured stage failed."""
    return any(latest.get(stage) == StageStatus.FAILED for stage in configured_stages(pipeline))


async def passed_all_stages(image_id: int, pipeline: CdPipeline) -> bool:
    """One image: True when it passed every stage the pipeline has configured."""
    return passed(
        await repository.latest_stage_statuses(image_id, pipeline.environment_id), pipeline
    )


def passed_images(images: QuerySet[Image], pipeline: CdPipeline) -> QuerySet[Image]:
    """SQL form: `images` narrowed to those that passed every stage the pipeline has
    configured. Per configured stage, a run in the pipeline's environment SUCCEEDED and no
    later run of that stage exists (the latest run counts), as correlated EXISTS, so that
    `ORDER BY id DESC LIMIT n` walks the images and stops, never reading all their runs."""
    clauses = " AND ".join(
        _latest_run_succeeded(stage, pipeline.environment_id)
        for stage in configured_stages(pipeline)
    )
    return images.annotate(passed_stages=RawSQL(f"CASE WHEN {clauses} THEN 1 ELSE 0 END")).filter(
        passed_stages=1
    )


def _latest_run_succeeded(stage: Stage, environment_id: int) -> str:
    # Only an int and an enum's own value are written into the SQL: nothing a client sent.
    # Served by the (image_id, environment_id, stage) index.
    return (
        'EXISTS (SELECT 1 FROM "stage_runs" r WHERE r."image_id" = "images"."id" '
        f'AND r."environment_id" = {int(environment_id)} AND r."stage" = \'{Stage(stage).value}\' '
        f"AND r.\"status\" = '{StageStatus.SUCCEEDED.value}' AND NOT EXISTS (SELECT 1 FROM "
        '"stage_runs" l WHERE l."image_id" = r."image_id" AND l."environment_id" = '
        'r."environment_id" AND l."stage" = r."stage" AND l."id" > r."id"))'
    )


async def environments_passed(image_id: int, pipelines: Sequence[CdPipeline]) -> set[int]:
    """Batch form for one image: ids of the pipelines' environments where it passed all
    stages (one query for all of them, so checking many targets costs no query each)."""
    if not pipelines:
        return set()
    runs: dict[int, list[tuple[str, str]]] = {}
    for environment_id, stage, status in await repository.stage_runs_of_image(
        image_id, sorted({p.environment_id for p in pipelines})
    ):
        runs.setdefault(environment_id, []).append((stage, status))
    return {
        p.environment_id
        for p in pipelines
        if passed(latest_by_stage(runs.get(p.environment_id, [])), p)
    }
