"""`--explain`: EXPLAIN ANALYZE of the SQL behind pendingApprovals, rebuilt with the app's
own query code, checked against the API's totalCount so a change of the query's shape
fails loudly instead of explaining a query the app no longer sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.promotion.common import BenchError, percentile

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bench.promotion.pending import Case, Latency


class SqlProbe:
    """EXPLAIN ANALYZE of the SQL pendingApprovals sends, rebuilt with the calls its
    resolver (app.promotions.schema.Query.pending_approvals) and
    app.graphql.pagination.paginate make: repository.pending_requests, then a count and
    a page of first + 1 rows."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def open(self) -> None:
        from tortoise import Tortoise

        from app.db import tortoise_config

        await Tortoise.init(config=tortoise_config(self.database_url))

    async def close(self) -> None:
        from tortoise import Tortoise

        await Tortoise.close_connections()

    async def queries(self, case: Case, middle: int) -> tuple[Any, Any]:
        from app.accounts.access import Access
        from app.accounts.models import User
        from app.promotions import repository

        access = await Access.of(await User.get(email=f"{case.user}@example.com"))
        rows = await repository.pending_requests(
            access, application=None, workflow=None, environment=None, pending_with_me=case.mine
        )
        page = rows.filter(id__lt=middle) if case.later else rows
        return rows.count(), page.order_by("-id").limit(21)

    async def explain(self, query: Any) -> tuple[float, int, list[str], str]:
        from tortoise import Tortoise

        query.sql()  # builds query.query (params_inline=True misses a subquery's parameters)
        sql, params = query.query.get_parameterized_sql()
        conn = Tortoise.get_connection("default")
        runs = []
        for _ in range(3):
            _, rows = await conn.execute_query(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row["QUERY PLAN"] for row in rows]
            runs.append(float(plan[-1].split(":")[1].split()[0]))  # "Execution Time: 1.2 ms"
        # Pages read by the whole plan: unlike time, the same on a busy machine and a quiet one.
        buffers = next((line for line in plan if "Buffers:" in line), "")
        hits = sum(int(part.split("=")[1]) for part in buffers.split() if "=" in part)
        return percentile(runs, 50), hits, plan, f"-- {sql}\n-- parameters: {params}"

    async def report(
        self, cases: Sequence[Case], figures: list[Latency], middle: int, plans: bool
    ) -> None:
        print(
            f"\nin Postgres (EXPLAIN ANALYZE, median of 3){'count':>13}{'buffers':>9}"
            f"{'page':>11}{'buffers':>9}"
        )
        shown: list[str] = []
        for case, latency in zip(cases, figures, strict=True):
            if latency.total_count is None:
                continue  # the same SQL as the case with totalCount, without the count
            count_query, _ = await self.queries(case, middle)
            if (counted := await count_query) != latency.total_count:
                raise BenchError(
                    f"{case.label}: the rebuilt SQL counts {counted}, the API "
                    f"said {latency.total_count}: the app's query changed"
                )
            count_query, page_query = await self.queries(case, middle)  # a query runs once
            count_ms, count_buffers, count_plan, count_sql = await self.explain(count_query)
            page_ms, page_buffers, page_plan, page_sql = await self.explain(page_query)
            print(
                f"{case.label:40}{count_ms:>9.1f} ms{count_buffers:>9,}{page_ms:>8.1f} ms"
                f"{page_buffers:>9,}"
            )
            if plans and case.user == "reviewer" and not case.later:
                shown += [
                    f"\n== {case.label}: count ==",
                    count_sql,
                    *count_plan,
                    f"\n== {case.label}: page ==",
                    page_sql,
                    *page_plan,
                ]
        if shown:
            print("\n".join(shown))
