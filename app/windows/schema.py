"""GraphQL queries and mutations of promotion windows (super-admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app import durations, limits
from app.accounts.schema import DeletePayload, deleted_payload
from app.errors import DomainError, ErrorCode, ErrorCollector, validation
from app.graphql.context import Info
from app.graphql.errors import UNSET, UserError, error_list, mutate, unset_to_none
from app.policies.pairs import Pair
from app.policies.schema import AppEnvInput
from app.windows import service
from app.windows.calendar import WindowKind
from app.windows.types import PromotionWindow, WindowBinding

_NAME = f"Lowercase letters, digits and '-', 3-{limits.NAME} characters."
_DESCRIPTION = limits.text_note(limits.DESCRIPTION)
_KIND = "DENY: no promotions while it is in force (a freeze); ALLOW: promotions only then."
_ZONE = (
    "An IANA time zone, such as Europe/Paris: the rule's and the ranges' times are local. "
    + limits.text_note(limits.TIME_ZONE)
)
_RRULE = (
    "RFC 5545 RRULE of the occurrences' starts, in local time, such as "
    "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16 (YEARLY to HOURLY; UNTIL, not COUNT). With duration. "
    + limits.text_note(limits.RRULE)
)
_DURATION = (
    "How long each occurrence lasts on the local wall clock, such as 64h (1m-31d); with "
    "rrule. " + limits.text_note(limits.DURATION)
)
_STARTS_AT = (
    "The rule's DTSTART as a local date-time (2026-01-02T00:00); default 2020-01-06T00:00. "
    + limits.text_note(limits.LOCAL_TIME)
)
_LOCAL = limits.text_note(limits.LOCAL_TIME)
_RANGES = "Explicit local date ranges, each a date or date-time. " + limits.list_note()
_WINDOW_NAME = Annotated[str, strawberry.argument(description="The window's name.")]


@strawberry.input(description="A local date range: dates cover whole days, date-times are exact.")
class WindowDateRangeInput:
    start: str = strawberry.field(
        description="2026-12-24 or 2026-12-24T16:00 (inclusive). " + _LOCAL
    )
    end: str = strawberry.field(
        description="2027-01-02 (inclusive: that whole day) or 2027-01-02T08:00 (exclusive). "
        + _LOCAL
    )


@strawberry.input(description="A new promotion window.")
class PromotionWindowInput:
    name: str = strawberry.field(description=_NAME)
    kind: WindowKind = strawberry.field(description=_KIND)
    time_zone: str = strawberry.field(description=_ZONE)
    description: str | None = strawberry.field(default=UNSET, description=_DESCRIPTION)
    rrule: str | None = strawberry.field(default=UNSET, description=_RRULE)
    duration: str | None = strawberry.field(default=UNSET, description=_DURATION)
    starts_at: str | None = strawberry.field(default=UNSET, description=_STARTS_AT)
    date_ranges: list[WindowDateRangeInput] | None = strawberry.field(
        default=UNSET, description=_RANGES
    )


@strawberry.input(
    description='Only the fields you set change; set rrule and duration to "" to drop them.'
)
class PromotionWindowPatch:
    name: str | None = strawberry.field(default=UNSET, description=_NAME)
    kind: WindowKind | None = strawberry.field(default=UNSET, description=_KIND)
    time_zone: str | None = strawberry.field(default=UNSET, description=_ZONE)
    description: str | None = strawberry.field(default=UNSET, description=_DESCRIPTION)
    rrule: str | None = strawberry.field(default=UNSET, description=_RRULE)
    duration: str | None = strawberry.field(default=UNSET, description=_DURATION)
    starts_at: str | None = strawberry.field(default=UNSET, description=_STARTS_AT)
    date_ranges: list[WindowDateRangeInput] | None = strawberry.field(
        default=UNSET, description=_RANGES
    )


_CODES = (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.VALIDATION, ErrorCode.CONFLICT)


@strawberry.type(description="The window as saved, or why nothing was saved.")
class PromotionWindowPayload:
    window: PromotionWindow | None = strawberry.field(
        default=None, description="The window as saved; null when errors is not empty."
    )
    errors: list[UserError] = error_list(
        "Why nothing was saved; each error names its field (an RRULE that does not parse, "
        "an unknown time zone).",
        *_CODES,
    )


@strawberry.type(description="The pairs' bindings of the window after applying, or why not.")
class ApplyWindowPayload:
    bindings: list[WindowBinding] = strawberry.field(
        default_factory=list,
        description="The window's bindings of the pairs now; empty after removing.",
    )
    errors: list[UserError] = error_list(
        "Why nothing changed: every bad pair or name, each naming its field.",
        *_CODES,
        ErrorCode.INVALID_MANIFEST,
    )


def _ranges(items: list[WindowDateRangeInput] | None) -> tuple[tuple[str, str], ...]:
    if error := limits.check_list(items, "dateRanges"):
        raise error
    return tuple((r.start, r.end) for r in items or ())


def _fields(input: PromotionWindowInput) -> service.WindowFields:
    return service.WindowFields(
        name=input.name,
        kind=input.kind,
        time_zone=input.time_zone,
        description=unset_to_none(input.description),
        rrule=unset_to_none(input.rrule),
        duration_seconds=durations.read(unset_to_none(input.duration), "duration"),
        starts_at=unset_to_none(input.starts_at),
        date_ranges=_ranges(unset_to_none(input.date_ranges)),
    )


_NOT_NULL = {"name", "kind", "time_zone"}


def _patch(patch: PromotionWindowPatch) -> dict[str, object]:
    values: dict[str, object] = {}
    errors = ErrorCollector()
    for name, value in vars(patch).items():
        if value is UNSET:
            continue
        if value is None and name in _NOT_NULL:
            camel = to_camel_case(name)
            errors.add(validation(f"{camel} cannot be null", camel))
            continue
        try:
            if name == "duration":
                values["duration_seconds"] = durations.read(value, "duration")
            elif name == "date_ranges":
                values[name] = _ranges(value)
            elif name in ("rrule", "starts_at", "description"):
                values[name] = value or None
            else:
                values[name] = value
        except DomainError as exc:
            errors.add(exc)
    errors.raise_if_any()
    return values


@strawberry.type
class Query:
    @strawberry.field(description="Every promotion window, by name (super-admins).")
    async def promotion_windows(self, info: Info) -> list[PromotionWindow]:
        access = await info.context.access()
        return [PromotionWindow.of(w) for w in await service.list_windows(access)]

    @strawberry.field(description="One promotion window by name (super-admins).")
    async def promotion_window(self, info: Info, name: _WINDOW_NAME) -> PromotionWindow | None:
        row = await service.get_window(await info.context.access(), name)
        return PromotionWindow.of(row) if row else None

    @strawberry.field(description="Window bindings, filtered by application, environment, window.")
    async def window_bindings(
        self,
        info: Info,
        application: Annotated[
            str | None, strawberry.argument(description="Only bindings of this application.")
        ] = UNSET,
        environment: Annotated[
            str | None, strawberry.argument(description="Only bindings of this environment.")
        ] = UNSET,
        window: Annotated[
            str | None, strawberry.argument(description="Only bindings of this window (its name).")
        ] = UNSET,
    ) -> list[WindowBinding]:
        access = await info.context.access()
        rows = await service.list_bindings(
            access, unset_to_none(application), unset_to_none(environment), unset_to_none(window)
        )
        return [WindowBinding.of(b, b.window.name) for b in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a promotion window (apply it to pairs after).")
    async def create_promotion_window(
        self,
        info: Info,
        input: Annotated[PromotionWindowInput, strawberry.argument(description="The window.")],
    ) -> PromotionWindowPayload | None:
        access = await info.context.access()

        async def run() -> PromotionWindowPayload:
            window = await service.create_window(access, _fields(input))
            return PromotionWindowPayload(window=PromotionWindow.of(window))

        return await mutate(run, lambda errors: PromotionWindowPayload(errors=errors))

    @strawberry.mutation(description="Change a promotion window.")
    async def update_promotion_window(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The window, by its current name.")],
        input: Annotated[
            PromotionWindowPatch, strawberry.argument(description="The fields to change.")
        ],
    ) -> PromotionWindowPayload | None:
        access = await info.context.access()

        async def run() -> PromotionWindowPayload:
            window = await service.update_window(access, name, _patch(input))
            return PromotionWindowPayload(window=PromotionWindow.of(window))

        return await mutate(run, lambda errors: PromotionWindowPayload(errors=errors))

    @strawberry.mutation(
        description="Delete a promotion window; requests it kept QUEUED go once nothing else "
        "keeps their pair closed."
    )
    async def delete_promotion_window(self, info: Info, name: _WINDOW_NAME) -> DeletePayload | None:
        access = await info.context.access()

        async def run() -> DeletePayload:
            await service.delete_window(access, name)
            return DeletePayload(deleted=True)

        return await mutate(run, deleted_payload)

    @strawberry.mutation(
        description="Apply a window to pairs (or, with remove, stop applying it), all or "
        "nothing. A pair may have several windows."
    )
    async def apply_promotion_window(
        self,
        info: Info,
        window: _WINDOW_NAME,
        application_environments: Annotated[
            list[AppEnvInput], strawberry.argument(description=limits.list_note())
        ],
        remove: Annotated[
            bool | None,
            strawberry.argument(description="True: stop applying it to the pairs instead."),
        ] = False,
    ) -> ApplyWindowPayload | None:
        access = await info.context.access()

        async def run() -> ApplyWindowPayload:
            pairs = [Pair(p.app_name, p.env_name) for p in application_environments]
            rows = await service.apply_window(access, window, pairs, remove=bool(remove))
            return ApplyWindowPayload(bindings=[WindowBinding.of(b, window) for b in rows])

        return await mutate(run, lambda errors: ApplyWindowPayload(errors=errors))

    @strawberry.mutation(
        description="Apply a `kind: promotionWindow` YAML manifest (the CLI's `hoist apply "
        "window`): its window created or updated, then applied to its pairs; all or nothing."
    )
    async def apply_window_manifest(
        self,
        info: Info,
        manifest: Annotated[
            str,
            strawberry.argument(
                description=(
                    f"The YAML text. At most {limits.MANIFEST_BYTES} bytes (UTF-8) and "
                    f"{limits.MAX_ITEMS} applicationEnvironments."
                )
            ),
        ],
    ) -> ApplyWindowPayload | None:
        access = await info.context.access()

        async def run() -> ApplyWindowPayload:
            name, rows = await service.apply_manifest(access, manifest)
            return ApplyWindowPayload(bindings=[WindowBinding.of(b, name) for b in rows])

        return await mutate(run, lambda errors: ApplyWindowPayload(errors=errors))
