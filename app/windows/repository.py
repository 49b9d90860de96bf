"""Queries of promotion windows and their bindings."""

from __future__ import annotations

from collections.abc import Sequence

from app import limits
from app.db import get_named
from app.windows.models import PromotionWindow, WindowBinding


async def windows_by_name() -> list[PromotionWindow]:
    return await PromotionWindow.all().order_by("name")


async def window_named(name: str) -> PromotionWindow | None:
    return await get_named(PromotionWindow, name, limits.NAME)


async def windows_by_ids(ids: Sequence[int]) -> list[PromotionWindow]:
    return await PromotionWindow.filter(id__in=list(ids))


async def windows_of_pairs(
    pairs: Sequence[tuple[int, int]],
) -> dict[tuple[int, int], list[PromotionWindow]]:
    """The windows of each (application id, environment id) pair, in one query."""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = (
        await WindowBinding.filter(
            application_id__in=sorted({a for a, _ in wanted}),
            environment_id__in=sorted({e for _, e in wanted}),
        )
        .select_related("window")
        .order_by("window__name")
    )
    found: dict[tuple[int, int], list[PromotionWindow]] = {pair: [] for pair in wanted}
    for row in rows:
        pair = (row.application_id, row.environment_id)
        if pair in wanted:
            found[pair].append(row.window)
    return found


async def bindings_matching(
    application: str | None, environment: str | None, window: str | None
) -> list[WindowBinding]:
    rows = WindowBinding.all()
    if application is not None:
        rows = rows.filter(application__name=application)
    if environment is not None:
        rows = rows.filter(environment__name=environment)
    if window is not None:
        rows = rows.filter(window__name=window)
    return await rows.order_by("id").select_related("window", "application", "environment")


async def bindings_of_windows(ids: Sequence[int]) -> list[WindowBinding]:
    return await WindowBinding.filter(window_id__in=list(ids)).order_by("id")
