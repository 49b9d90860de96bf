"""GraphQL types of promotion windows."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from app import durations
from app.catalog.types import application_by_id, environment_by_id
from app.graphql.context import Info
from app.graphql.describe import describe_values
from app.graphql.loaders import load_existing, rows_grouped
from app.graphql.nodes import super_admins, visible_nodes
from app.windows import models, repository, service
from app.windows.calendar import WindowKind, WindowState

strawberry.enum(WindowKind, description="What a promotion window does while in force.")
describe_values(
    WindowKind,
    {
        WindowKind.DENY: "A freeze: no promotion to its pairs goes through while it is in force.",
        WindowKind.ALLOW: "Promotions to its pairs go through only while it (or another ALLOW "
        "window of the pair) is in force.",
    },
)


@strawberry.type(description="A pair's promotion windows (or one window) at one moment.")
class PromotionWindowState:
    open: bool = strawberry.field(
        description="Whether promotions go through now (true when no window applies)."
    )
    opens_at: datetime | None = strawberry.field(
        description="When closed: when it opens; null when open or when no opening is "
        "scheduled in the coming 400 days."
    )
    closes_at: datetime | None = strawberry.field(
        description="When open: when it next closes; null when closed or not within 400 days."
    )
    closed_by: list[str] = strawberry.field(
        description="When closed: the windows that keep it closed (a DENY window in force, or "
        "ALLOW windows none of which is)."
    )

    @classmethod
    def of(cls, state: WindowState) -> PromotionWindowState:
        return cls(
            open=state.open,
            opens_at=state.opens_at,
            closes_at=state.closes_at,
            closed_by=list(state.closed_by),
        )


@strawberry.type(
    description="Local dates or date-times in the window's time zone; end exclusive "
    "for a date-time, inclusive (the whole day) for a date."
)
class WindowDateRange:
    start: str = strawberry.field(description="2026-12-24 or 2026-12-24T16:00.")
    end: str = strawberry.field(description="2027-01-02 (that whole day) or 2027-01-02T08:00.")


@strawberry.type(description="A promotion window applied to one application+environment pair.")
class WindowBinding:
    application_id: strawberry.Private[int]
    environment_id: strawberry.Private[int]
    window_name: str = strawberry.field(description="The window's name.")

    @classmethod
    def of(cls, row: models.WindowBinding, window_name: str) -> WindowBinding:
        return cls(
            application_id=row.application_id,
            environment_id=row.environment_id,
            window_name=window_name,
        )

    @strawberry.field(description="The application's name.")
    async def app_name(self, info: Info) -> str:
        return (await load_existing(application_by_id(info), self.application_id)).name

    @strawberry.field(description="The environment's name.")
    async def env_name(self, info: Info) -> str:
        return (await load_existing(environment_by_id(info), self.environment_id)).name


@strawberry.type(
    description="A DENY window (a freeze: no promotions while it is in force) or an ALLOW "
    "window (promotions only while it is in force): an RRULE with a duration and/or date "
    "ranges, in an IANA time zone. While a pair's window is closed, approved requests wait "
    "QUEUED and deployImage is refused with WINDOW_CLOSED."
)
class PromotionWindow(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique; lowercase letters, digits and '-'.")
    description: str | None = strawberry.field(description="What the window is for.")
    kind: WindowKind = strawberry.field(description="DENY or ALLOW.")
    time_zone: str = strawberry.field(description="The IANA time zone of its local times.")
    rrule: str | None = strawberry.field(
        description="RFC 5545 recurrence rule of the occurrences' starts, in local time."
    )
    duration: str | None = strawberry.field(
        description="How long each occurrence lasts on the local wall clock (such as 64h)."
    )
    starts_at: str | None = strawberry.field(
        description="The rule's DTSTART, a local date-time; null: 2020-01-06T00:00 (a Monday)."
    )
    date_ranges: list[WindowDateRange] = strawberry.field(description="Explicit local ranges.")
    row: strawberry.Private[models.PromotionWindow]

    @classmethod
    def of(cls, row: models.PromotionWindow) -> PromotionWindow:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            kind=WindowKind(row.kind),
            time_zone=row.time_zone,
            rrule=row.rrule,
            duration=None if row.duration_seconds is None else durations.show(row.duration_seconds),
            starts_at=row.starts_at,
            date_ranges=[WindowDateRange(start=r["start"], end=r["end"]) for r in row.date_ranges],
            row=row,
        )

    resolve_nodes = visible_nodes(repository.windows_by_ids, super_admins)

    @strawberry.field(
        description="This window's own state now, as if it alone applied: for a DENY window, "
        "open means not in force."
    )
    def state(self) -> PromotionWindowState:
        return PromotionWindowState.of(service.window_state_of(self.row))

    @strawberry.field(description="The pairs it applies to.")
    async def bindings(self, info: Info) -> list[WindowBinding]:
        loader = info.context.loaders.get(
            "window_bindings_by_window",
            lambda: rows_grouped(repository.bindings_of_windows, "window_id"),
        )
        return [WindowBinding.of(b, self.name) for b in await loader.load(self.row.id)]
