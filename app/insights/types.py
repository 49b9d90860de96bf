"""GraphQL types of delivery insights."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.insights import service
from app.promotions.types import PromotionStatus


@strawberry.type(
    description="Nearest-rank percentiles of durations: the value at rank ceil(p/100 * n) "
    "of the n samples in ascending order."
)
class DurationPercentiles:
    samples: int = strawberry.field(description="How many durations were measured.")
    p50_seconds: float | None = strawberry.field(
        description="The median, in seconds; null without samples."
    )
    p90_seconds: float | None = strawberry.field(
        description="The 90th percentile, in seconds; null without samples."
    )

    @classmethod
    def of(cls, p: service.Percentiles) -> DurationPercentiles:
        return cls(samples=p.samples, p50_seconds=p.p50_seconds, p90_seconds=p.p90_seconds)


@strawberry.type(description="How many promotion requests are in one state.")
class PromotionOutcomeCount:
    status: PromotionStatus = strawberry.field(description="The state the requests are in now.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="Delivery figures of one week or of the whole range.")
class DeliveryFigures:
    lead_time: DurationPercentiles = strawberry.field(
        description="From the image's newest git commit (committedAt) to its first "
        "deployment in the environment starting to run (the stage report that made it "
        "SUCCEEDED); rollbacks and images without a commit time are left out. Bucketed by "
        "when it ran."
    )
    approval_wait: DurationPercentiles = strawberry.field(
        description="From a request's creation to its quorum (its last approval), over the "
        "requests that needed approvals and got them. Bucketed by creation."
    )
    promotions: list[PromotionOutcomeCount] = strawberry.field(
        description="Promotion requests created, by the state they are in now: every "
        "state, zeros included."
    )
    promotion_count: int = strawberry.field(description="Promotion requests created.")
    skipped_stages: int = strawberry.field(
        description="Requests whose target does not directly follow their source in the "
        "pipeline tree (from CI: the target is not a first stage)."
    )
    skip_share: float | None = strawberry.field(
        description="skippedStages / promotionCount, 0 to 1; null without requests."
    )
    deployments: int = strawberry.field(description="Deployments made (rollbacks included).")
    rolled_back: int = strawberry.field(
        description="Those of them a rollback later replaced (rollbackOf points at them)."
    )
    rollback_share: float | None = strawberry.field(
        description="rolledBack / deployments, 0 to 1; null without deployments."
    )

    @classmethod
    def of(cls, f: service.Figures) -> DeliveryFigures:
        return cls(
            lead_time=DurationPercentiles.of(f.lead_time),
            approval_wait=DurationPercentiles.of(f.approval_wait),
            promotions=[PromotionOutcomeCount(status=s, count=n) for s, n in f.promotions.items()],
            promotion_count=f.promotion_count,
            skipped_stages=f.skipping,
            skip_share=f.skip_share,
            deployments=f.deployments,
            rolled_back=f.rolled_back,
            rollback_share=f.rollback_share,
        )


@strawberry.type(description="The figures of one ISO week (Monday to Sunday, UTC).")
class DeliveryWeek:
    week_start: date = strawberry.field(description="Its Monday.")
    figures: DeliveryFigures = strawberry.field(
        description="What happened in it (and inside the asked range)."
    )


@strawberry.type(description="An application's delivery figures over a range of time.")
class DeliveryInsights:
    application: str = strawberry.field(description="The application's name.")
    environment: str | None = strawberry.field(
        description="The environment's name; null: all of the application's."
    )
    from_: datetime = strawberry.field(name="from", description="The range's start (UTC).")
    to: datetime = strawberry.field(description="The range's end, excluded (UTC).")
    weeks: list[DeliveryWeek] = strawberry.field(
        description="Every ISO week the range touches, oldest first, empty ones included "
        "(at most 54)."
    )
    total: DeliveryFigures = strawberry.field(description="The figures over the whole range.")

    @classmethod
    def of(cls, i: service.DeliveryInsights) -> DeliveryInsights:
        return cls(
            application=i.application,
            environment=i.environment,
            from_=i.start,
            to=i.end,
            weeks=[
                DeliveryWeek(week_start=w.start, figures=DeliveryFigures.of(w.figures))
                for w in i.weeks
            ],
            total=DeliveryFigures.of(i.total),
        )
