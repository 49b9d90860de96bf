"""`EXISTS` filters for tortoise, which has none (tortoise-orm 1.1): correlated subqueries
on ids, so a list can be filtered row by row through an index instead of joined.

    PromotionRequest.filter(~exists(PromotionDecision.filter(
        request_id=outer(PromotionRequest, "id"), user_id=me)))

renders `NOT EXISTS (SELECT ... FROM promotion_decisions WHERE request_id =
"promotion_requests"."id" AND user_id = $1)`: Postgres plans it as an anti-join and can
still walk the outer table's primary key and stop at a page (`NOT IN (subquery)` cannot
be an anti-join: NULL semantics). The subquery's parameters join the outer query's, as
tortoise's own `Subquery` does.
"""

from __future__ import annotations

from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion, Term
from tortoise.expressions import Q, ResolveContext, Subquery
from tortoise.models import Model
from tortoise.query_utils import QueryModifier
from tortoise.queryset import QuerySet


class _OuterColumn(Term):
    """A column of the outer query's table, always written `"table"."column"`: pypika
    leaves a lone table's columns unqualified, which inside a subquery would name the
    subquery's own table."""

    def __init__(self, table: str, column: str) -> None:
        super().__init__()
        self.table, self.column = table, column

    def get_sql(self, ctx: SqlContext) -> str:
        q = ctx.quote_char
        return f"{q}{self.table}{q}.{q}{self.column}{q}"


def outer(model: type[Model], column: str) -> Term:
    """`model`'s `column` as the outer query sees it (the outer table is never aliased by
    tortoise), to correlate a subquery: `filter(request_id=outer(PromotionRequest, "id"))`."""
    return _OuterColumn(model._meta.db_table, model._meta.fields_db_projection[column])


class _ExistsCriterion(Criterion):
    def __init__(self, query: QuerySet[Any], negated: bool) -> None:
        super().__init__()
        # Only the key is selected: EXISTS reads no column, and a short list keeps the SQL
        # readable in logs and EXPLAIN.
        self.subquery = Subquery(query.values_list(query.model._meta.pk_attr))
        self.negated = negated

    def get_sql(self, ctx: SqlContext) -> str:
        inner = self.subquery.get_sql(ctx.copy(subquery=True, with_alias=False))
        return f"{'NOT ' if self.negated else ''}EXISTS {inner}"


class _Exists(Q):
    """A Q node that resolves to `[NOT] EXISTS (query)`; `~` flips it (Q's own `~` would
    rebuild a plain, empty Q)."""

    __slots__ = ("_negated_exists", "_query")

    def __init__(self, query: QuerySet[Any], negated: bool = False) -> None:
        super().__init__()
        self._query, self._negated_exists = query, negated

    def __invert__(self) -> Q:
        return _Exists(self._query, not self._negated_exists)

    def __bool__(self) -> bool:
        # Q counts a node without filters as empty and tortoise drops empty nodes from an
        # AND or OR: this one has its condition in `_query`.
        return True

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        return QueryModifier(where_criterion=_ExistsCriterion(self._query, self._negated_exists))


def exists(query: QuerySet[Any]) -> Q:
    """`EXISTS (query)` as a filter; `~exists(query)` is `NOT EXISTS (query)`."""
    return _Exists(query)
