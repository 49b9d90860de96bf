"""The SQL of delivery insights: aggregates per ISO week over the promotion, approval,
deployment and stage-run records, on SQLite and Postgres alike.

Every statement answers at most one row per (week, status) plus a total, whatever the
number of records: the database groups and ranks, Python only names the rows. What
differs between the two dialects is written once, in `_Sql`: the placeholders and the
milliseconds between two timestamps (SQLite's julianday, Postgres's EXTRACT(EPOCH)).
Weeks are numbered from `origin` (a Monday, 00:00 UTC) by integer division of those
milliseconds, so no date function of either dialect decides where a week starts.

Percentiles are nearest-rank (the value at rank ceil(p/100 * n) of the n values in
ascending order), found with ROW_NUMBER and COUNT windows (SQLite 3.25+ has them; Postgres's
percentile_cont interpolates, SQLite has none). Intermediate results read more than once
are `MATERIALIZED` common table expressions (SQLite 3.35+, Postgres 12+), so no lookup or
ranking runs twice; the range's rows come from covering indexes (0016_insights_indexes).
bench/insights.py times it at 100,000 requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections

from app.deployments.models import DeploymentStatus
from app.promotions.models import DecisionKind, PromotionStatus

WEEK_MS = 7 * 24 * 3600 * 1000
_UNIX_EPOCH_JULIAN_DAY = 2440587.5
TOTAL = -1  # the `week` of the row over the whole range


@dataclass(frozen=True)
class Scope:
    """Whose records, and when: the application, one environment or all (None), and the
    half-open range [start, end) in UTC; weeks count from `origin`."""

    application_id: int
    environment_id: int | None
    start: datetime
    end: datetime
    origin: datetime


@dataclass(frozen=True)
class Ranked:
    """Nearest-rank p50 and p90 of a set of durations, in milliseconds."""

    samples: int
    p50_ms: int | None
    p90_ms: int | None


@dataclass
class _Sql:
    """One statement's parameters, in the dialect's placeholder style."""

    postgres: bool
    params: list[Any] = field(default_factory=list)

    def param(self, value: Any) -> str:
        self.params.append(value)
        if not self.postgres:
            return "?"
        if isinstance(value, datetime):
            return f"CAST(${len(self.params)} AS TIMESTAMP WITH TIME ZONE)"
        return f"${len(self.params)}"

    def millis(self, later: str, earlier: str) -> str:
        """Whole milliseconds from `earlier` to `later` (two SQL timestamps)."""
        if self.postgres:
            return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000) AS BIGINT)"
        return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400000) AS INTEGER)"

    def week(self, moment: str, scope: Scope) -> str:
        """The number of the week `moment` falls in, 0 for the week of `scope.origin`. The
        origin goes in as a number (a Julian day on SQLite, Unix seconds on Postgres),
        which each row subtracts, rather than a timestamp each row would convert again."""
        seconds = int(scope.origin.timestamp())
        if self.postgres:
            since = f"(EXTRACT(EPOCH FROM {moment}) - {self.param(seconds)})"
            return f"(CAST(ROUND({since} * 1000) AS BIGINT) / {WEEK_MS})"
        since = f"(julianday({moment}) - {self.param(_UNIX_EPOCH_JULIAN_DAY + seconds / 86400)})"
        return f"(CAST(ROUND({since} * 86400000) AS INTEGER) / {WEEK_MS})"

    def in_range(self, moment: str, scope: Scope) -> str:
        return f"{moment} >= {self.param(scope.start)} AND {moment} < {self.param(scope.end)}"

    def of_scope(self, table: str, environment_column: str, scope: Scope) -> str:
        where = f"{table}.application_id = {self.param(scope.application_id)}"
        if scope.environment_id is not None:
            # Unary plus: the environment is filtered inside the (application, time) index
            # range, never chosen as the index to walk (both databases read it so).
            where += f" AND +{table}.{environment_column} = {self.param(scope.environment_id)}"
        return where


def _sql() -> _Sql:
    return _Sql(postgres=connections.get("default").capabilities.dialect == "postgres")


async def _rows(statement: _Sql, text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        text, statement.params
    )
    return rows


def _rank(p: int) -> Callable[[str], str]:
    # ceil(p * n / 100) in integer arithmetic, the same on both databases.
    return lambda n: f"(({n}) * {p} + 99) / 100"


async def _percentiles(statement: _Sql, samples: str, before: str = "") -> dict[int, Ranked]:
    """p50/p90 per week and over the range (key TOTAL) of `samples`, a SELECT of
    (week, ms) rows (which may read the common table expressions `before` defines)."""
    p50, p90 = _rank(50), _rank(90)
    # MATERIALIZED (SQLite 3.35+, Postgres 12+): the two reads below share one ranking.
    rows = await _rows(
        statement,
        f"""
        WITH {before}ranked AS MATERIALIZED (
            SELECT week, ms,
                ROW_NUMBER() OVER (PARTITION BY week ORDER BY ms) AS week_rank,
                COUNT(*) OVER (PARTITION BY week) AS week_n,
                ROW_NUMBER() OVER (ORDER BY ms) AS total_rank,
                COUNT(*) OVER () AS total_n
            FROM ({samples}) samples
        )
        SELECT week, COUNT(*) AS n,
            MIN(CASE WHEN week_rank = {p50("week_n")} THEN ms END) AS p50,
            MIN(CASE WHEN week_rank = {p90("week_n")} THEN ms END) AS p90
        FROM ranked GROUP BY week
        UNION ALL
        SELECT {TOTAL}, COUNT(*),
            MIN(CASE WHEN total_rank = {p50("total_n")} THEN ms END),
            MIN(CASE WHEN total_rank = {p90("total_n")} THEN ms END)
        FROM ranked
        """,
    )
    return {
        int(r["week"]): Ranked(
            int(r["n"]),
            None if r["p50"] is None else int(r["p50"]),
            None if r["p90"] is None else int(r["p90"]),
        )
        for r in rows
    }


async def lead_times(scope: Scope) -> dict[int, Ranked]:
    """Commit to running: per (image, environment), the first deployment that SUCCEEDED
    (rollbacks aside), from the image's newest commit to that deployment's last stage run
    (the report that made it SUCCEEDED), bucketed by the week it started running."""
    s = _sql()
    succeeded = DeploymentStatus.SUCCEEDED.value
    # Materialized, so each deployment's last stage run is looked up once (inlined,
    # Postgres repeats the lookup for every use of running_at).
    arrivals = f"""arrived AS MATERIALIZED (
            SELECT d.image_id, MIN((
                SELECT MAX(r.created_at) FROM stage_runs r WHERE r.deployment_id = d.id
            )) AS running_at
            FROM deployments d
            WHERE {s.of_scope("d", "environment_id", scope)}
                AND d.status = '{succeeded}' AND d.rollback_of_id IS NULL
                AND d.created_at < {s.param(scope.end)}
            GROUP BY d.image_id, d.environment_id
        ), """
    samples = f"""
        SELECT {s.week("arrived.running_at", scope)} AS week,
            {s.millis("arrived.running_at", "i.newest_commit_at")} AS ms
        FROM arrived JOIN images i ON i.id = arrived.image_id
        WHERE {s.in_range("arrived.running_at", scope)}
            AND i.newest_commit_at IS NOT NULL AND i.newest_commit_at <= arrived.running_at
    """
    return await _percentiles(s, samples, before=arrivals)


async def approval_waits(scope: Scope) -> dict[int, Ranked]:
    """Created to quorum: requests that needed approvals and got them (they left
    AWAITING_APPROVAL for QUEUED, PROMOTING or PROMOTED), from their creation to their last
    approval, bucketed by the week they were created."""
    s = _sql()
    approved = ", ".join(
        f"'{status.value}'"
        for status in (PromotionStatus.QUEUED, PromotionStatus.PROMOTING, PromotionStatus.PROMOTED)
    )
    # Materialized, so each request's last approval is looked up once (inlined, the
    # lookup would run for the filter and again for the duration).
    quorums = f"""q AS MATERIALIZED (
            SELECT p.created_at, (
                SELECT MAX(a.at) FROM promotion_decisions a
                WHERE a.request_id = p.id AND a.kind = '{DecisionKind.APPROVE.value}'
            ) AS quorum_at
            FROM promotion_requests p
            WHERE {s.of_scope("p", "target_environment_id", scope)}
                AND {s.in_range("p.created_at", scope)}
                AND p.required_approvals > 0 AND p.status IN ({approved})
        ), """
    samples = f"""
        SELECT {s.week("q.created_at", scope)} AS week,
            {s.millis("q.quorum_at", "q.created_at")} AS ms
        FROM q WHERE q.quorum_at IS NOT NULL
    """
    return await _percentiles(s, samples, before=quorums)


@dataclass(frozen=True)
class RequestCounts:
    week: int
    status: PromotionStatus
    requests: int
    skipping: int


# A request skips stages when its target's CD pipeline does not follow its source's
# directly: from CI, the target is not a root of the pipeline tree; from an environment,
# the target's parent is not that environment's pipeline. Read against today's tree (a
# request whose pipeline is gone counts as not skipping).
_SKIPS = """CASE WHEN t.id IS NOT NULL AND (
        (p.source_environment_id IS NULL AND t.parent_id IS NOT NULL)
        OR (p.source_environment_id IS NOT NULL AND s.id IS NOT NULL
            AND (t.parent_id IS NULL OR t.parent_id <> s.id))
    ) THEN 1 ELSE 0 END"""


async def request_counts(scope: Scope) -> list[RequestCounts]:
    """Requests created per week, by status, and how many of them skip stages."""
    s = _sql()
    rows = await _rows(
        s,
        f"""
        SELECT {s.week("p.created_at", scope)} AS week, p.status AS status,
            COUNT(*) AS n, SUM({_SKIPS}) AS skipping
        FROM promotion_requests p
        LEFT JOIN cd_pipelines t
            ON t.application_id = p.application_id AND t.environment_id = p.target_environment_id
        LEFT JOIN cd_pipelines s
            ON s.application_id = p.application_id AND s.environment_id = p.source_environment_id
        WHERE {s.of_scope("p", "target_environment_id", scope)}
            AND {s.in_range("p.created_at", scope)}
        GROUP BY 1, 2
        """,
    )
    return [
        RequestCounts(int(r["week"]), PromotionStatus(r["status"]), int(r["n"]), int(r["skipping"]))
        for r in rows
    ]


@dataclass(frozen=True)
class DeploymentCounts:
    week: int
    deployments: int
    rolled_back: int


async def deployment_counts(scope: Scope) -> list[DeploymentCounts]:
    """Deployments made per week, and how many of them a later rollback replaced."""
    s = _sql()
    rows = await _rows(
        s,
        f"""
        SELECT {s.week("d.created_at", scope)} AS week, COUNT(*) AS n,
            SUM(CASE WHEN EXISTS (
                SELECT 1 FROM deployments r WHERE r.rollback_of_id = d.id
            ) THEN 1 ELSE 0 END) AS rolled_back
        FROM deployments d
        WHERE {s.of_scope("d", "environment_id", scope)} AND {s.in_range("d.created_at", scope)}
        GROUP BY 1
        """,
    )
    return [DeploymentCounts(int(r["week"]), int(r["n"]), int(r["rolled_back"])) for r in rows]
