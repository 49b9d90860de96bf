"""Per-request DataLoaders: every relation field goes through one, so lists cost O(1) queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def by_id(model: type[M]) -> DataLoader[int, M | None]:
    """Rows of `model` by primary key (None for a missing id)."""

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = {row.pk: row for row in await model.filter(id__in=list(ids))}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


def grouped(
    model: type[M], key: str, order_by: str = "id", **filters: Any
) -> DataLoader[Any, list[M]]:
    """Rows of `model` grouped by the value of column `key`."""

    async def load(keys: Sequence[Any]) -> list[list[M]]:
        groups: dict[Any, list[M]] = defaultdict(list)
        rows = await model.filter(**{f"{key}__in": list(keys)}, **filters).order_by(order_by)
        for row in rows:
            groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Loaders built lazily, once per request, named `<thing>_by_<key>`."""

    def __init__(self) -> None:
        self._made: dict[str, DataLoader[Any, Any]] = {}

    def get(self, name: str, make: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]
