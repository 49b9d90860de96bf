"""Which rows a caller may see, for reads by id (`node`, `nodes`): an application's
objects are visible to whoever may see the application (SPEC §2: any role on it)."""

from __future__ import annotations

from typing import Protocol, TypeVar

from app.accounts.access import Access
from app.catalog import repository
from app.catalog.models import Application, StageRun


class OfApplication(Protocol):
    @property
    def application_id(self) -> int: ...


R = TypeVar("R", bound=OfApplication)


async def of_visible_applications(access: Access, rows: list[R]) -> list[R]:
    """The rows whose application the caller may see (images, workflows, pipelines,
    requests, deployments)."""
    if access.is_super_admin or not rows:
        return rows
    names = {
        a.id: a.name
        for a in await repository.applications_by_ids(list({r.application_id for r in rows}))
    }
    return [r for r in rows if access.can_view(names[r.application_id])]


async def visible_applications(access: Access, rows: list[Application]) -> list[Application]:
    return [a for a in rows if access.can_view(a.name)]


async def visible_stage_runs(access: Access, rows: list[StageRun]) -> list[StageRun]:
    """Stage runs of images the caller may see."""
    if access.is_super_admin or not rows:
        return rows
    images = await of_visible_applications(
        access, await repository.images_by_ids(list({r.image_id for r in rows}))
    )
    seen = {i.id for i in images}
    return [r for r in rows if r.image_id in seen]
