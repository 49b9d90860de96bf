"""Keyset pages over a repository's query: the one query helper the GraphQL layer uses.

Repositories build the query (which rows, which filters); this module only cuts it into
pages, newest (highest id) first, so resolvers never touch the ORM themselves.
"""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet


async def page_rows(queryset: QuerySet[Any], first: int, before_id: int | None) -> list[Any]:
    """Up to `first + 1` rows below `before_id` (all when None), newest first: the extra row
    tells the caller whether another page follows."""
    page = queryset if before_id is None else queryset.filter(id__lt=before_id)
    return list(await page.order_by("-id").limit(first + 1))


async def count_rows(queryset: QuerySet[Any]) -> int:
    """How many rows the query matches across all pages."""
    return await queryset.count()
