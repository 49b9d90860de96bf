"""Global object identification (Relay): every object type is a `Node`, found by its id.

Each type's `resolve_nodes` reads its rows through `resolve_visible`, with the same
visibility rule as the type's other reads (an application's objects for those who may
see the application, the operations' records for super-admins, ...). `node` and `nodes`
answer null for an id that is unknown, forged, of another type's format, or of an object
the caller may not see: the same answer for each, so no id tells that an object exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition
from tortoise.models import Model

from app import limits
from app.accounts.access import Access
from app.graphql.context import Info
from app.ids import decode

M = TypeVar("M", bound=Model)
T = TypeVar("T")

Visible = Callable[[Access, list[M]], Awaitable[list[M]]]


async def everyone(access: Access, rows: list[M]) -> list[M]:
    """Rows every signed-in caller may see (environments)."""
    return rows


async def super_admins(access: Access, rows: list[M]) -> list[M]:
    """Rows only super-admins may see (policies, the audit log, emails, outbox jobs)."""
    return rows if access.is_super_admin else []


async def resolve_visible(
    info: Info,
    node_ids: Iterable[str],
    fetch: Callable[[list[int]], Awaitable[Sequence[M]]],
    visible: Visible[M],
    convert: Callable[[M], T],
) -> list[T | None]:
    """The objects with these row ids (as strings, Strawberry's node ids), in order; None
    where there is none or the caller may not see it."""
    access = await info.context.access()
    wanted = [int(i) for i in node_ids]
    rows = await visible(access, list(await fetch(wanted)))
    found = {row.pk: convert(row) for row in rows}
    return [found.get(i) for i in wanted]


def visible_nodes(fetch: Callable[[list[int]], Awaitable[Sequence[M]]], visible: Visible[M]) -> Any:
    """A Node type's `resolve_nodes`: its rows by id through `fetch`, kept by `visible`,
    turned into the type by its `of`. In the class body: `resolve_nodes = visible_nodes(...)`."""

    async def resolve_nodes(
        cls: Any, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await resolve_visible(info, node_ids, fetch, visible, cls.of)

    return classmethod(resolve_nodes)


def _node_type(info: Info, type_name: str) -> type[relay.Node] | None:
    definition = info.schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    origin = definition.origin
    return origin if isinstance(origin, type) and issubclass(origin, relay.Node) else None


async def find_nodes(info: Info, global_ids: Sequence[str]) -> list[relay.Node | None]:
    """The objects of any types these ids name, one query per type."""
    await info.context.access()  # signed in, even when no id decodes
    wanted = [decode(value) for value in global_ids]
    by_type: dict[str, list[int]] = defaultdict(list)
    for decoded in wanted:
        if decoded is not None:
            by_type[decoded[0]].append(decoded[1])
    found: dict[tuple[str, int], relay.Node] = {}
    for type_name, row_ids in by_type.items():
        node_type = _node_type(info, type_name)
        if node_type is None:
            continue
        nodes = await node_type.resolve_nodes(  # type: ignore[misc]
            info=info, node_ids=[str(i) for i in row_ids], required=False
        )
        found.update(
            ((type_name, row_id), node)
            for row_id, node in zip(row_ids, nodes, strict=True)
            if node is not None
        )
    return [found.get(decoded) if decoded else None for decoded in wanted]


@strawberry.type
class Query:
    @strawberry.field(
        description="The object with this id, of any type; null when there is none or "
        "you may not see it (the same answer for both)."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="An id this API gave out (`id` of any object)."),
        ],
    ) -> relay.Node | None:
        [found] = await find_nodes(info, [id])
        return found

    @strawberry.field(
        description="The objects with these ids, in the same order; null for each "
        "one there is none of or you may not see."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Ids this API gave out. " + limits.list_note(item_len=limits.ID)
            ),
        ],
    ) -> list[relay.Node | None]:
        limits.refuse(limits.check_list(ids, "ids", item_len=limits.ID))
        return await find_nodes(info, ids)
