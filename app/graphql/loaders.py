"""Per-request DataLoaders: every relation field goes through one, so lists cost O(1) queries.

Each relation has one typed factory function in the domain's GraphQL types (for example
`environment_by_id(info) -> DataLoader[int, Environment | None]`) that asks `Loaders.get`
for its loader under one name; the loader is made on first use within a request, so two
fields asking for the same relation share one batch and one cache.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from strawberry.dataloader import DataLoader
from tortoise.models import Model

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M", bound=Model)


def rows_by_id(fetch: Callable[[list[int]], Awaitable[Sequence[M]]]) -> DataLoader[int, M | None]:
    """Rows by primary key (None for a missing id), read by a repository's `*_by_ids`."""

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = {row.pk: row for row in await fetch(list(ids))}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


def rows_grouped(
    fetch: Callable[[list[int]], Awaitable[Sequence[M]]], key: str
) -> DataLoader[int, list[M]]:
    """Rows grouped by the id in column `key`, read (in the repository's order) by a
    repository function that takes the list of ids."""

    async def load(keys: Sequence[int]) -> list[list[M]]:
        groups: dict[int, list[M]] = defaultdict(list)
        for row in await fetch(list(keys)):
            groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


async def load_existing(loader: DataLoader[int, M | None], key: int) -> M:
    """The row a foreign key names, through a by-id loader: the database keeps it there."""
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"row {key} is missing, though a foreign key names it")
    return row


class Loaders:
    """Loaders built lazily, once per request, named `<thing>_by_<key>`."""

    def __init__(self) -> None:
        self._made: dict[str, object] = {}

    def get(self, name: str, make: Callable[[], DataLoader[K, V]]) -> DataLoader[K, V]:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = make()
        # One name, one relation: each name is asked for by one typed factory function (and
        # always with the same `make`), so the loader stored under it has that make's types.
        return cast("DataLoader[K, V]", made)
