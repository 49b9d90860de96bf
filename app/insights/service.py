"""Delivery insights (issue 19 item 4): how fast changes reach an environment, how
promotions end, how long approvals wait, how often promotions skip stages and deployments
are rolled back, per ISO week of a bounded range, read from the promotion, approval,
deployment and stage-run records themselves (app/insights/repository.py).

The README's "Delivery insights" section defines each figure and its timestamps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app import limits
from app.accounts.access import Access
from app.catalog.models import Application, Environment
from app.db import get_named
from app.errors import ErrorCollector, not_found, validation
from app.insights import repository
from app.insights.repository import TOTAL, Ranked, Scope
from app.promotions.models import PromotionStatus
from app.validation import check_moment, utc

# A year, a leap one included: at most 54 ISO weeks (a partial first and last one).
MAX_RANGE = timedelta(days=366)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Percentiles:
    """Nearest-rank p50 and p90 of durations, in seconds; None without samples."""

    samples: int
    p50_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, ranked: Ranked | None) -> Percentiles:
        if ranked is None:
            return cls(0, None, None)
        return cls(ranked.samples, _seconds(ranked.p50_ms), _seconds(ranked.p90_ms))


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """The figures of one week, or of the whole range."""

    lead_time: Percentiles
    approval_wait: Percentiles
    # Requests created, by the state they are in now (every state, zeros included).
    promotions: dict[PromotionStatus, int]
    skipping: int
    deployments: int
    rolled_back: int

    @property
    def promotion_count(self) -> int:
        return sum(self.promotions.values())

    @property
    def skip_share(self) -> float | None:
        return _share(self.skipping, self.promotion_count)

    @property
    def rollback_share(self) -> float | None:
        return _share(self.rolled_back, self.deployments)


@dataclass(frozen=True)
class Week:
    start: date  # its Monday (UTC)
    figures: Figures


@dataclass(frozen=True)
class DeliveryInsights:
    application: str
    environment: str | None
    start: datetime
    end: datetime
    weeks: list[Week]  # every ISO week the range touches, oldest first, empty ones too
    total: Figures


def _check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The range in UTC, if it is one Hoist reports on."""
    errors = ErrorCollector()
    for moment, field in ((start, "from"), (end, "to")):
        if error := check_moment(moment, field):
            errors.add(error)
    errors.raise_if_any()
    start, end = utc(start), utc(end)
    if end <= start:
        raise validation("to must be after from", "to")
    if end - start > MAX_RANGE:
        raise validation(
            f"the range may span at most {MAX_RANGE.days} days (got {(end - start).days})", "to"
        )
    return start, end


async def _scope(
    access: Access, application: str, environment: str | None, start: datetime, end: datetime
) -> Scope:
    # The right is checked on the name first: without a role on it, FORBIDDEN whether or
    # not the application exists (the answer reveals no names).
    access.require_view(application)
    start, end = _check_range(start, end)
    errors = ErrorCollector()
    app = await get_named(Application, application, limits.NAME)
    if app is None:
        errors.add(not_found(f"no application named {application!r}", "application"))
    env = None if environment is None else await get_named(Environment, environment, limits.NAME)
    if environment is not None and env is None:
        errors.add(not_found(f"no environment named {environment!r}", "environment"))
    errors.raise_if_any()
    assert app is not None
    monday = datetime.combine(start.date() - timedelta(days=start.weekday()), datetime.min.time())
    return Scope(app.id, env.id if env else None, start, end, monday.replace(tzinfo=UTC))


async def delivery_insights(
    access: Access, application: str, environment: str | None, start: datetime, end: datetime
) -> DeliveryInsights:
    """The application's delivery figures (in one environment, or all) per ISO week of
    [start, end) and over it, for whoever may see the application."""
    scope = await _scope(access, application, environment, start, end)
    start, end = scope.start, scope.end
    lead = await repository.lead_times(scope)
    wait = await repository.approval_waits(scope)
    outcomes: dict[int, dict[PromotionStatus, int]] = defaultdict(
        lambda: dict.fromkeys(PromotionStatus, 0)
    )
    skipping: dict[int, int] = defaultdict(int)
    for row in await repository.request_counts(scope):
        for week in (row.week, TOTAL):
            outcomes[week][row.status] += row.requests
            skipping[week] += row.skipping
    deployed: dict[int, int] = defaultdict(int)
    rolled_back: dict[int, int] = defaultdict(int)
    for counts in await repository.deployment_counts(scope):
        for week in (counts.week, TOTAL):
            deployed[week] += counts.deployments
            rolled_back[week] += counts.rolled_back

    def figures(week: int) -> Figures:
        return Figures(
            lead_time=Percentiles.of(lead.get(week)),
            approval_wait=Percentiles.of(wait.get(week)),
            promotions=outcomes[week],
            skipping=skipping[week],
            deployments=deployed[week],
            rolled_back=rolled_back[week],
        )

    count = -(-(end - scope.origin) // WEEK)  # the weeks touched: ceil, at most 54
    return DeliveryInsights(
        application=application,
        environment=environment,
        start=start,
        end=end,
        weeks=[Week((scope.origin + i * WEEK).date(), figures(i)) for i in range(count)],
        total=figures(TOTAL),
    )
