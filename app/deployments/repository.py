"""Queries of deployments."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.queryset import QuerySet

from app.deployments.models import Deployment


def deployments_of(application: str, environment: str | None) -> QuerySet[Deployment]:
    """The application's deployments (to the environment; None: to any)."""
    rows = Deployment.filter(application__name=application)
    if environment is not None:
        rows = rows.filter(environment__name=environment)
    return rows


async def deployments_by_ids(ids: Sequence[int]) -> list[Deployment]:
    return await Deployment.filter(id__in=list(ids))
