"""Deployments hears new images, stage reports and promotions: AUTOMATIC pipelines deploy."""

from __future__ import annotations

from app.catalog.models import CdPipeline, Image, StageRun
from app.deployments import service
from app.events import ImageBuilt, RequestStatusChanged, StageReported, listener
from app.promotions.models import PromotionStatus


@listener(ImageBuilt)
async def image_built(event: ImageBuilt) -> None:
    await service.image_built(await Image.get(id=event.image_id))


@listener(StageReported)
async def stage_reported(event: StageReported) -> None:
    await service.stage_reported(
        await CdPipeline.get(id=event.pipeline_id), await StageRun.get(id=event.stage_run_id)
    )


@listener(RequestStatusChanged)
async def request_promoted(event: RequestStatusChanged) -> None:
    if event.status == PromotionStatus.PROMOTED.value:
        await service.after_promotion(
            event.request_id, event.application_id, event.environment_id, event.image_id
        )
