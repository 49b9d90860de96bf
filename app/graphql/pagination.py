"""Cursor connections: newest first, `first` at most 100, `after` an opaque cursor."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from tortoise.queryset import QuerySet

from app import limits
from app.errors import validation
from app.paging import count_rows, page_rows
from app.validation import MAX_ROW_ID

MAX_PAGE = limits.MAX_PAGE
DEFAULT_PAGE = 20
N = TypeVar("N")

# The paging arguments of every list query, described once.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items the page holds: 1 to {MAX_PAGE}; null: {DEFAULT_PAGE}."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor: the previous page's pageInfo.endCursor. "
        "Omit it for the first page."
    ),
]


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow: ask again with after: endCursor."
    )
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor; null for an empty page."
    )


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(
        description="Opaque; pass it as `after` to continue after this item."
    )
    node: N = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list, newest first.")
class Connection(Generic[N]):
    edges: list[Edge[N]] = strawberry.field(description="The page's items, newest first.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")
    matching: strawberry.Private[QuerySet[Any]]

    @strawberry.field(
        description="Rows matching across all pages; counted only when asked "
        "(a count over a large table is the dearest part of a page)."
    )
    async def total_count(self) -> int:
        return await count_rows(self.matching)


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        # Bounded like ids: a forged "id:99999999999" would overflow the database driver.
        if kind == "id" and 1 <= (row_id := int(value)) <= MAX_ROW_ID:
            return row_id
    except (ValueError, UnicodeDecodeError):
        pass
    raise validation("after is not a cursor this list gave out", "after")


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise validation(f"first must be between 1 and {MAX_PAGE} (got {first})", "first")


async def paginate(
    queryset: QuerySet[Any],
    first: int | None,
    after: str | None,
    convert: Callable[[Any], N],
) -> Connection[N]:
    """One page of `queryset`, newest (highest id) first, each row turned into its
    GraphQL type by `convert`. `first` null means the default page; 0 is refused like any
    other number outside 1-100."""
    first = DEFAULT_PAGE if first is None else first
    check_first(first)
    rows = await page_rows(queryset, first, None if after is None else decode_cursor(after))
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [Edge(cursor=encode_cursor(r.id), node=convert(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        matching=queryset,
    )
