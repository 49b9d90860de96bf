"""Queries of deployments."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from app.db import column
from app.deployments.models import Deployment


def deployments_of(application: str, environment: str | None) -> QuerySet[Deployment]:
    """The application's deployments (to the environment; None: to any)."""
    rows = Deployment.filter(application__name=application)
    if environment is not None:
        rows = rows.filter(environment__name=environment)
    return rows


async def deployments_by_ids(ids: Sequence[int]) -> list[Deployment]:
    return await Deployment.filter(id__in=list(ids))


async def latest_deployment_of_image(image_id: int, environment: str) -> int | None:
    """The id of the newest deployment of the image to the environment (the one a stage
    result just reported is attached to), or None."""
    ids = await column(
        Deployment.filter(image_id=image_id, environment__name=environment)
        .order_by("-id")
        .limit(1)
        .values_list("id", flat=True),
        int,
    )
    return ids[0] if ids else None
