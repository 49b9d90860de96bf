"""Cursor connections: newest first, `first` at most 100, `after` an opaque cursor."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
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
R = TypeVar("R")

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


@strawberry.type(description="Where a page lies in its list (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More rows follow: ask again with `after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description="Rows come before this page: true when it was asked for with `after` "
        "(the lists page forwards only, newest first)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first row; null for an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last row (pass it as `after` for the next "
        "page); null for an empty page."
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
    page_info: PageInfo = strawberry.field(description="Where the page lies in its list.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="Rows matching across all pages; counted only when asked "
        "(a count over a large table is the dearest part of a page)."
    )
    async def total_count(self) -> int:
        return await self.count()


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


def page_size(first: int | None) -> int:
    """`first` null means the default page; 0 is refused like any other number outside 1-100."""
    first = DEFAULT_PAGE if first is None else first
    check_first(first)
    return first


def after_id(after: str | None) -> int | None:
    return None if after is None else decode_cursor(after)


def connection(
    rows: Sequence[R],
    *,
    key: Callable[[R], int],
    convert: Callable[[R], N],
    has_next: bool,
    after: str | None,
    count: Callable[[], Awaitable[int]],
) -> Connection[N]:
    """A page of rows already cut (newest first, each row's cursor its `key`)."""
    edges = [Edge(cursor=encode_cursor(key(r)), node=convert(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


async def paginate(
    queryset: QuerySet[Any],
    first: int | None,
    after: str | None,
    convert: Callable[[Any], N],
) -> Connection[N]:
    """One page of `queryset`, newest (highest id) first, each row turned into its
    GraphQL type by `convert`."""
    size = page_size(first)
    rows = await page_rows(queryset, size, after_id(after))
    return connection(
        rows[:size],
        key=lambda r: int(r.id),
        convert=convert,
        has_next=len(rows) > size,
        after=after,
        count=lambda: count_rows(queryset),
    )
