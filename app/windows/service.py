"""Promotion windows: rules at save, applying them to pairs, and a pair's state now."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from app import clock, durations, limits
from app.accounts.access import Access
from app.audit.service import record
from app.catalog.models import Application, Environment
from app.errors import (
    DomainError,
    DomainErrors,
    ErrorCode,
    ErrorCollector,
    conflict,
    not_found,
    validation,
)
from app.policies.pairs import Pair
from app.policies.pairs import bad_pair as _bad_pair
from app.policies.repository import pairs_with_pipeline
from app.validation import blank_to_none, check_name, storable
from app.windows import calendar, manifest, repository
from app.windows.calendar import RuleError, WindowKind, WindowRules, WindowState
from app.windows.manifest import WindowSpec
from app.windows.models import PromotionWindow, WindowBinding

# A window's occurrences last between a minute and a month.
MIN_DURATION = 60
MAX_DURATION = 31 * 86_400


@dataclass(frozen=True)
class WindowFields:
    """A window's editable fields, by their API names' meaning."""

    name: str
    kind: WindowKind
    time_zone: str
    description: str | None = None
    rrule: str | None = None
    duration_seconds: int | None = None
    starts_at: str | None = None  # local ISO date-time of the rule's DTSTART
    date_ranges: tuple[tuple[str, str], ...] = ()  # local ISO dates or date-times


def _local(text: str, field: str) -> date | datetime:
    """A local ISO date (2026-12-24) or date-time (2026-12-24T16:00) without a zone."""
    if error := limits.check_text(text, field, limits.LOCAL_TIME):
        raise error
    try:
        if "T" in text or " " in text.strip():
            value = datetime.fromisoformat(text.strip())
            if value.tzinfo is not None:
                raise ValueError
            return value
        return date.fromisoformat(text.strip())
    except ValueError:
        raise validation(
            f"{field} must be a local date (2026-12-24) or date-time (2026-12-24T16:00) "
            f"without a zone: the window's timeZone says where (got {text[:40]!r})",
            field,
        ) from None


def rules_of(window: PromotionWindow) -> WindowRules:
    """What the calendar reads of a saved window."""
    ranges = tuple(
        calendar.local_range(_local(r["start"], "start"), _local(r["end"], "end"))
        for r in window.date_ranges
    )
    return WindowRules(
        name=window.name,
        kind=WindowKind(window.kind),
        time_zone=window.time_zone,
        rrule=window.rrule,
        duration_seconds=window.duration_seconds,
        starts_at=datetime.fromisoformat(window.starts_at) if window.starts_at else None,
        ranges=ranges,
    )


def _validate(values: WindowFields) -> WindowFields:
    """The fields as stored, or every bad field listed (each naming its field)."""
    values = replace(
        values,
        description=blank_to_none(values.description),
        rrule=blank_to_none(values.rrule),
        starts_at=blank_to_none(values.starts_at),
    )
    errors = ErrorCollector()
    if error := check_name(values.name, "name", min_len=3):
        errors.add(error)
    if error := limits.check_text(values.description, "description", limits.DESCRIPTION):
        errors.add(error)
    if error := limits.check_text(values.time_zone, "timeZone", limits.TIME_ZONE):
        errors.add(error)
    else:
        try:
            calendar.zone(values.time_zone)
        except RuleError as exc:
            errors.add(validation(f"timeZone: {exc}", "timeZone"))
    starts_at = None
    if values.starts_at is not None:
        try:
            parsed = _local(values.starts_at, "startsAt")
            starts_at = (
                parsed if isinstance(parsed, datetime) else datetime(*parsed.timetuple()[:3])
            )
            values = replace(values, starts_at=starts_at.isoformat())
        except DomainError as exc:
            errors.add(exc)
    if values.rrule is not None:
        if error := limits.check_text(values.rrule, "rrule", limits.RRULE):
            errors.add(error)
        elif not storable(values.rrule):
            errors.add(validation("rrule may not contain the NUL character", "rrule"))
        else:
            try:
                calendar.parse_rule(values.rrule, starts_at)
            except RuleError as exc:
                errors.add(validation(f"rrule: {exc}", "rrule"))
    if (values.rrule is None) != (values.duration_seconds is None):
        missing = "duration" if values.rrule is not None else "rrule"
        errors.add(validation("a window's rrule and duration go together", missing))
    elif error := durations.check(
        values.duration_seconds, "duration", low=MIN_DURATION, high=MAX_DURATION
    ):
        errors.add(error)
    if error := limits.check_list(values.date_ranges, "dateRanges"):
        errors.add(error)
    else:
        for i, (start, end) in enumerate(values.date_ranges):
            try:
                calendar.local_range(
                    _local(start, f"dateRanges[{i}].start"), _local(end, f"dateRanges[{i}].end")
                )
            except DomainError as exc:
                errors.add(exc)
            except RuleError as exc:
                errors.add(validation(f"dateRanges[{i}]: {exc}", f"dateRanges[{i}].end"))
    if values.rrule is None and values.duration_seconds is None and not values.date_ranges:
        errors.add(validation("give an rrule and a duration, or dateRanges, or both", "rrule"))
    errors.raise_if_any()
    return values


# How long saving may spend finding a rule's next occurrence: a backstop. A rule that
# matches takes microseconds, one that never does (BYMONTH=2;BYMONTHDAY=30) a fraction of a
# second, its search bounded to 400 years (calendar.first_within).
PROBE_SECONDS = 3.0


def _probe(values: WindowFields) -> None:
    """Refuse a rule without an occurrence in the coming HORIZON (found within PROBE_SECONDS
    of thread time): the calendar would search it to no end on every question."""
    if values.rrule is None:
        return
    starts_at = datetime.fromisoformat(values.starts_at) if values.starts_at else None
    rule = calendar.parse_rule(values.rrule, starts_at)
    here = clock.now().astimezone(calendar.zone(values.time_zone)).replace(tzinfo=None)
    if calendar.first_within(rule, here, calendar.HORIZON) is None:
        raise validation(
            f"rrule: the rule has no occurrence in the next {calendar.HORIZON.days} days", "rrule"
        )


async def _checked(values: WindowFields) -> WindowFields:
    """`_validate`, then the rule's probe off the event loop, under a time limit."""
    values = _validate(values)
    try:
        await asyncio.wait_for(asyncio.to_thread(_probe, values), PROBE_SECONDS)
    except TimeoutError:
        raise validation(
            "rrule: the rule is too expensive to evaluate (it matches too rarely, or never)",
            "rrule",
        ) from None
    return values


def _columns(values: WindowFields) -> dict[str, Any]:
    columns = {f.name: getattr(values, f.name) for f in fields(values)}
    columns["date_ranges"] = [{"start": s, "end": e} for s, e in values.date_ranges]
    return columns


def _audit(values: WindowFields) -> dict[str, Any]:
    shown = _columns(values)
    shown.pop("name")
    shown["kind"] = values.kind.value
    return shown


def _name_taken(name: str) -> DomainError:
    return conflict(f"a promotion window named {name!r} already exists", "name")


async def _window(name: str) -> PromotionWindow:
    window = await repository.window_named(name)
    if window is None:
        raise not_found(f"no promotion window named {name!r}", "name")
    return window


async def create_window(access: Access, values: WindowFields) -> PromotionWindow:
    """Create a promotion window (super-admins only)."""
    access.require_super_admin()
    values = await _checked(values)
    if await PromotionWindow.exists(name=values.name):
        raise _name_taken(values.name)
    try:
        window = await PromotionWindow.create(**_columns(values))
    except IntegrityError:
        raise _name_taken(values.name) from None
    await record(access, "window.created", window=window.name, **_audit(values))
    return window


def fields_of(window: PromotionWindow) -> WindowFields:
    return WindowFields(
        name=window.name,
        kind=WindowKind(window.kind),
        time_zone=window.time_zone,
        description=window.description,
        rrule=window.rrule,
        duration_seconds=window.duration_seconds,
        starts_at=window.starts_at,
        date_ranges=tuple((r["start"], r["end"]) for r in window.date_ranges),
    )


async def update_window(access: Access, name: str, patch: dict[str, Any]) -> PromotionWindow:
    """Change a window; `patch` holds only the fields the caller set."""
    access.require_super_admin()
    window = await _window(name)
    values = await _checked(replace(fields_of(window), **patch))
    if values.name != window.name and await PromotionWindow.exists(name=values.name):
        raise _name_taken(values.name)
    try:
        await PromotionWindow.filter(id=window.id).update(
            **_columns(values), updated_at=clock.now()
        )
    except IntegrityError:
        raise _name_taken(values.name) from None
    await record(access, "window.updated", window=values.name, previous_name=name, **_audit(values))
    return await PromotionWindow.get(id=window.id)


async def delete_window(access: Access, name: str) -> None:
    """Delete a window (and its bindings); queued requests it held are released by the sweep."""
    access.require_super_admin()
    window = await _window(name)
    await window.delete()
    await record(access, "window.deleted", window=name)


async def apply_window(
    access: Access,
    window_name: str,
    pairs: list[Pair],
    *,
    remove: bool = False,
    field: str = "applicationEnvironments",
    window_field: str = "window",
) -> list[WindowBinding]:
    """Make the window apply to every pair (`remove`: stop applying), all or nothing; the
    pairs' bindings of this window afterwards."""
    access.require_super_admin()
    if error := limits.check_list(pairs, field):
        raise error
    errors = ErrorCollector()
    window = await repository.window_named(window_name)
    if window is None:
        errors.add(not_found(f"no promotion window named {window_name!r}", window_field))
    apps = {a.name: a for a in await Application.filter(name__in=[p.application for p in pairs])}
    envs = {e.name: e for e in await Environment.filter(name__in=[p.environment for p in pairs])}
    with_pipeline = await pairs_with_pipeline(
        [a.id for a in apps.values()], [e.id for e in envs.values()]
    )
    if not pairs:
        errors.add(validation("name at least one application/environment pair", field))
    for i, pair in enumerate(pairs):
        for error in _bad_pair(pair, apps, envs, with_pipeline, f"{field}[{i}]"):
            errors.add(error)
    errors.raise_if_any()
    assert window is not None
    bindings: list[WindowBinding] = []
    for pair in dict.fromkeys(pairs):
        app, env = apps[pair.application], envs[pair.environment]
        existing = await WindowBinding.get_or_none(
            window_id=window.id, application_id=app.id, environment_id=env.id
        )
        if remove:
            if existing is not None:
                await existing.delete()
                await record(
                    access,
                    "window.unapplied",
                    window=window.name,
                    application=app.name,
                    environment=env.name,
                )
            continue
        if existing is None:
            try:
                existing = await WindowBinding.create(
                    window_id=window.id, application_id=app.id, environment_id=env.id
                )
            except IntegrityError:  # applied by another admin a moment ago: the same end
                existing = await WindowBinding.get(
                    window_id=window.id, application_id=app.id, environment_id=env.id
                )
            await record(
                access,
                "window.applied",
                window=window.name,
                application=app.name,
                environment=env.name,
            )
        bindings.append(existing)
    return bindings


async def list_windows(access: Access) -> list[PromotionWindow]:
    """Every window, by name (super-admins)."""
    access.require_super_admin()
    return await repository.windows_by_name()


async def get_window(access: Access, name: str) -> PromotionWindow | None:
    """The window named `name`, None when unknown (super-admins)."""
    access.require_super_admin()
    return await repository.window_named(name)


async def list_bindings(
    access: Access, application: str | None, environment: str | None, window: str | None
) -> list[WindowBinding]:
    """Window bindings, oldest first, filtered by names (None: any) (super-admins)."""
    access.require_super_admin()
    return await repository.bindings_matching(application, environment, window)


async def states_of_pairs(
    pairs: Sequence[tuple[int, int]], instant: datetime | None = None
) -> dict[tuple[int, int], WindowState]:
    """Each (application id, environment id) pair's window state at `instant` (default:
    now by app.clock), reading the windows of all of them in one query."""
    at = instant or clock.now()
    found = await repository.windows_of_pairs(pairs)
    return {pair: calendar.state_at([rules_of(w) for w in found[pair]], at) for pair in found}


async def state_of_pair(
    application_id: int, environment_id: int, instant: datetime | None = None
) -> WindowState:
    """The pair's window state at `instant` (default: now by app.clock)."""
    pair = (application_id, environment_id)
    return (await states_of_pairs([pair], instant)).get(pair, calendar.OPEN)


def window_state_of(window: PromotionWindow, instant: datetime | None = None) -> WindowState:
    """One window's own state (as if it alone applied), for the window's page."""
    return calendar.state_at([rules_of(window)], instant or clock.now())


def _in_manifest(exc: DomainError, spec: WindowSpec) -> DomainError:
    """A window field's error, named as the manifest's field with its line."""
    name = exc.field.split("[", 1)[0].split(".", 1)[0] if exc.field else None
    field = f"spec.window.{exc.field}" if exc.field else "spec.window"
    line = spec.lines.get(f"spec.window.{name}") if name else None
    where = f" (line {line})" if line is not None else ""
    return DomainError(ErrorCode.INVALID_MANIFEST, f"{field}: {exc.message}{where}", field)


async def apply_manifest(access: Access, text: str) -> tuple[str, list[WindowBinding]]:
    """A `kind: promotionWindow` manifest: its window created or updated (when it defines
    one), then applied to its pairs; all or nothing (the caller's transaction). The
    window's name and its bindings of the pairs."""
    access.require_super_admin()
    parsed = manifest.read(text)
    spec = parsed.window
    if spec is not None:
        values = WindowFields(
            name=spec.name,
            kind=WindowKind(spec.kind),
            time_zone=spec.time_zone,
            description=spec.description,
            rrule=spec.rrule,
            duration_seconds=spec.duration_seconds,
            starts_at=spec.starts_at,
            date_ranges=spec.date_ranges,
        )
        try:
            if await repository.window_named(spec.name) is None:
                await create_window(access, values)
            else:
                patch = {f.name: getattr(values, f.name) for f in fields(values)}
                await update_window(access, spec.name, patch)
        except DomainError as exc:
            raise _in_manifest(exc, spec) from None
        except DomainErrors as exc:
            raise DomainErrors([_in_manifest(e, spec) for e in exc.errors]) from None
    return parsed.window_name, await apply_window(
        access,
        parsed.window_name,
        [Pair(application=a, environment=e) for a, e in parsed.pairs],
        field="spec.payload.applicationEnvironments",
        window_field="spec.payload.applyToWindowName",
    )
